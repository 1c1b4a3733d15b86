"""Prompt-chain templates and Prompt Studio runs. Every row carries an owner id.

Templates are validated on every save (unknown placeholders, forward references, ...), so a
stored template always runs. A run is stored whole (idea, template snapshot, every step's input,
output, model, usage and cost, final prompt) and saved again as it progresses; images link to
it through ``studio_runs.id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from services import import_rules as rules
from services.errors import scrub
from services.import_rules import MAX_MODEL_CHARS
from services.storage.db import Base, Database, utcnow
from services.studio.builtins import BUILTIN_CHAINS
from services.studio.state import ChainRun
from services.studio.templates import (
    MAX_NAME_CHARS,
    MAX_STEPS,
    ChainStep,
    ChainTemplate,
    Problem,
    TemplateInvalid,
    validate_template,
)

TEMPLATE_EXPORT_FORMAT = "chatcanvas.chain.v1"
_UNSET: Any = object()  # "not given" for optional fields whose None is a real value


class ChainTemplateRow(Base):
    __tablename__ = "chain_templates"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    default_model: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_chain_templates_owner_updated", "owner_id", "updated_at"),)


class StudioRunRow(Base):
    __tablename__ = "studio_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    # the template the run was started from (a built-in id or a chain_templates id); the
    # snapshot below is what actually ran
    template_id: Mapped[str] = mapped_column(String(32), default="")
    idea: Mapped[str] = mapped_column(Text)
    template: Mapped[dict] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    back_translate: Mapped[bool] = mapped_column(Boolean, default=False)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    back_translation: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    final_prompt: Mapped[str] = mapped_column(Text, default="")
    negative_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    truncated_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # denormalised for the run list, so it need not load every run's steps
    status: Mapped[str] = mapped_column(String(16), default="pending")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cost_incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_studio_runs_owner_updated", "owner_id", "updated_at"),)


@dataclass(frozen=True)
class RunSummary:
    """One line of the run history (the whole run comes from ``ChainStore.get_run``)."""

    id: str
    template_id: str
    template_name: str
    idea: str
    model: str
    status: str
    final_prompt: str
    cost_usd: float
    cost_incomplete: bool
    created_at: datetime
    updated_at: datetime


def _template(row: ChainTemplateRow) -> ChainTemplate:
    return ChainTemplate(
        id=row.id,
        name=row.name,
        steps=tuple(ChainStep.from_dict(s) for s in row.steps or ()),
        default_model=row.default_model,
        prompt_limit=row.prompt_limit,
    )


def _summary(row: StudioRunRow) -> RunSummary:
    return RunSummary(
        row.id,
        row.template_id,
        str((row.template or {}).get("name") or ""),
        row.idea,
        row.model,
        row.status,
        row.final_prompt,
        row.cost_usd,
        row.cost_incomplete,
        row.created_at,
        row.updated_at,
    )


def _checked(template: ChainTemplate) -> ChainTemplate:
    problems = validate_template(template)
    if problems:
        raise TemplateInvalid(problems)
    return template


def _imported_step(data: Mapping[str, Any], field: str) -> ChainStep:
    """One step of an imported file, every field checked for its type, size and range."""
    return ChainStep(
        name=rules.text(data, "name", f"{field}.name", max_chars=MAX_NAME_CHARS) or "",
        template=rules.text(data, "template", f"{field}.template") or "",
        system_prompt=rules.text(data, "system_prompt", f"{field}.system_prompt") or "",
        fresh=bool(rules.flag(data, "fresh", f"{field}.fresh")),
        model=rules.text(data, "model", f"{field}.model", max_chars=MAX_MODEL_CHARS) or None,
        temperature=rules.number(data, "temperature", f"{field}.temperature", low=0, high=2),
        max_tokens=rules.integer(
            data, "max_tokens", f"{field}.max_tokens", low=1, high=rules.MAX_TOKENS
        ),
    )


def _scrubbed(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """A step result with its provider error detail scrubbed, whoever built the error."""
    if not result or not result.get("error_detail"):
        return result
    return {**result, "error_detail": scrub(result["error_detail"])}


def _run_values(run: ChainRun) -> dict[str, Any]:
    data = run.to_dict()
    data["steps"] = [_scrubbed(step) for step in data["steps"]]
    data["back_translation"] = _scrubbed(data["back_translation"])
    return {
        "template_id": run.template.id,
        "idea": run.idea,
        "template": data["template"],
        "model": run.model,
        "language": run.language,
        "back_translate": run.back_translate,
        "steps": data["steps"],
        "back_translation": data["back_translation"],
        "final_prompt": run.final_prompt,
        "negative_prompt": run.negative_prompt,
        "truncated_from": run.truncated_from,
        "status": str(run.status),
        "cost_usd": run.cost_usd,
        "cost_incomplete": run.cost_incomplete,
    }


class ChainStore:
    """All reads and writes of chain templates and studio runs for one owner."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id

    # -- templates -----------------------------------------------------------------------
    def create_template(
        self,
        name: str,
        steps: Iterable[ChainStep],
        *,
        default_model: str | None = None,
        prompt_limit: int | None = None,
    ) -> ChainTemplate:
        """Save a new template; raises TemplateInvalid with the problems when it is not valid."""
        template = _checked(
            ChainTemplate(
                id=uuid.uuid4().hex,
                name=name.strip(),
                steps=tuple(steps),
                default_model=default_model or None,
                prompt_limit=prompt_limit,
            )
        )
        row = ChainTemplateRow(
            id=template.id,
            owner_id=self.owner_id,
            name=template.name,
            steps=[s.to_dict() for s in template.steps],
            default_model=template.default_model,
            prompt_limit=template.prompt_limit,
        )
        with self.db.session() as s, s.begin():
            s.add(row)
        return template

    def get_template(self, template_id: str) -> ChainTemplate | None:
        """A built-in chain by its id, or one of this owner's templates."""
        if template_id in BUILTIN_CHAINS:
            return BUILTIN_CHAINS[template_id]
        with self.db.session() as s:
            row = s.get(ChainTemplateRow, template_id)
            return _template(row) if row and row.owner_id == self.owner_id else None

    def list_templates(self, *, include_builtin: bool = True) -> list[ChainTemplate]:
        """Built-ins first (the default chain leading), then this owner's, newest first."""
        stmt = (
            select(ChainTemplateRow)
            .where(ChainTemplateRow.owner_id == self.owner_id)
            .order_by(ChainTemplateRow.updated_at.desc())
        )
        with self.db.session() as s:
            own = [_template(r) for r in s.scalars(stmt)]
        return [*BUILTIN_CHAINS.values(), *own] if include_builtin else own

    def update_template(
        self,
        template_id: str,
        *,
        name: str | None = None,
        steps: Iterable[ChainStep] | None = None,
        default_model: str | None = _UNSET,
        prompt_limit: int | None = _UNSET,
    ) -> ChainTemplate:
        """Change the given fields; the result is validated before it is written. Raises
        KeyError for an unknown (or another owner's) id, ValueError for a built-in."""
        current = self._own_template(template_id)
        changed = ChainTemplate(
            id=current.id,
            name=current.name if name is None else name.strip(),
            steps=current.steps if steps is None else tuple(steps),
            default_model=current.default_model
            if default_model is _UNSET
            else (default_model or None),
            prompt_limit=current.prompt_limit if prompt_limit is _UNSET else prompt_limit,
        )
        _checked(changed)
        with self.db.session() as s, s.begin():
            s.execute(
                update(ChainTemplateRow)
                .where(
                    ChainTemplateRow.id == template_id,
                    ChainTemplateRow.owner_id == self.owner_id,
                )
                .values(
                    name=changed.name,
                    steps=[st.to_dict() for st in changed.steps],
                    default_model=changed.default_model,
                    prompt_limit=changed.prompt_limit,
                    updated_at=utcnow(),
                )
            )
        return changed

    def delete_template(self, template_id: str) -> bool:
        """Delete one of this owner's templates; runs keep their snapshot. False when absent."""
        if template_id in BUILTIN_CHAINS:
            raise ValueError("built-in chains cannot be deleted")
        with self.db.session() as s, s.begin():
            result = s.execute(
                delete(ChainTemplateRow).where(
                    ChainTemplateRow.id == template_id,
                    ChainTemplateRow.owner_id == self.owner_id,
                )
            )
        return bool(result.rowcount)

    def _own_template(self, template_id: str) -> ChainTemplate:
        if template_id in BUILTIN_CHAINS:
            raise ValueError("built-in chains cannot be changed; save a copy instead")
        template = self.get_template(template_id)
        if template is None:
            raise KeyError(template_id)
        return template

    # -- export / import -----------------------------------------------------------------
    def export_template(self, template_id: str) -> dict[str, Any]:
        """A JSON-ready dict of one template (built-ins too: their name stays a locale key,
        so an imported copy still shows in the reader's language)."""
        template = self.get_template(template_id)
        if template is None:
            raise KeyError(template_id)
        return {
            "format": TEMPLATE_EXPORT_FORMAT,
            "name": template.name,
            "default_model": template.default_model,
            "prompt_limit": template.prompt_limit,
            "steps": [s.to_dict() for s in template.steps],
        }

    def import_template(self, payload: str | bytes | Mapping[str, Any]) -> ChainTemplate:
        """Save an exported template as a new one of this owner's. Every field is checked
        before anything is stored: ChatCanvasError(BAD_IMPORT) names a field of the wrong
        type, size or range; TemplateInvalid (``bad_file`` for something that is not a chain
        export, else the template's problems) says what would stop it from running."""
        data = rules.load_json(payload)
        if not isinstance(data, Mapping) or data.get("format") != TEMPLATE_EXPORT_FORMAT:
            raise TemplateInvalid([Problem("bad_file")])
        if not isinstance(data.get("steps"), list):
            raise TemplateInvalid([Problem("bad_file")])
        raw_steps = rules.sequence(data["steps"], "steps", max_items=MAX_STEPS)
        bad = [i for i, st in enumerate(raw_steps, start=1) if not isinstance(st, Mapping)]
        if bad:
            raise TemplateInvalid([Problem("bad_step", {"step": i}) for i in bad])
        return self.create_template(
            rules.text(data, "name", "name", max_chars=MAX_NAME_CHARS) or "",
            [_imported_step(st, f"steps[{i}]") for i, st in enumerate(raw_steps)],
            default_model=rules.text(
                data, "default_model", "default_model", max_chars=MAX_MODEL_CHARS
            ),
            prompt_limit=rules.integer(
                data, "prompt_limit", "prompt_limit", low=1, high=rules.MAX_TEXT_CHARS
            ),
        )

    # -- runs ----------------------------------------------------------------------------
    def save_run(self, run: ChainRun) -> RunSummary:
        """Insert or update the run (by ``run.id``); call it after each step and at the end."""
        values = _run_values(run)
        with self.db.session() as s, s.begin():
            row = s.get(StudioRunRow, run.id)
            if row is not None and row.owner_id != self.owner_id:
                raise KeyError(run.id)  # never overwrite another owner's run
            if row is None:
                row = StudioRunRow(id=run.id, owner_id=self.owner_id, **values)
                s.add(row)
            else:
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = utcnow()
            s.flush()
            return _summary(row)

    def get_run(self, run_id: str) -> ChainRun | None:
        """The whole run, as the engine's working copy."""
        with self.db.session() as s:
            row = s.get(StudioRunRow, run_id)
            if row is None or row.owner_id != self.owner_id:
                return None
            return ChainRun.from_dict(
                {
                    "id": row.id,
                    "idea": row.idea,
                    "template": row.template,
                    "model": row.model,
                    "language": row.language,
                    "back_translate": row.back_translate,
                    "steps": row.steps,
                    "final_prompt": row.final_prompt,
                    "negative_prompt": row.negative_prompt,
                    "truncated_from": row.truncated_from,
                    "back_translation": row.back_translation,
                }
            )

    def list_runs(
        self, *, template_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunSummary]:
        """Newest first, optionally only the runs of one template."""
        stmt = select(StudioRunRow).where(StudioRunRow.owner_id == self.owner_id)
        if template_id is not None:
            stmt = stmt.where(StudioRunRow.template_id == template_id)
        stmt = stmt.order_by(StudioRunRow.updated_at.desc()).limit(limit).offset(offset)
        with self.db.session() as s:
            return [_summary(r) for r in s.scalars(stmt)]
