"""A chain run's state: each step's status, what it sent and got, and the final prompt."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from services.studio.language import detect_language
from services.studio.parsing import FinalPrompt
from services.studio.templates import ChainTemplate


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"


@dataclass
class StepResult:
    """What one step sent and got. ``messages`` are the exact messages sent (role, content);
    ``edited``: the output is the user's edit; ``stale``: an earlier step changed after this
    one ran (re-run from there to refresh it)."""

    status: str = StepStatus.PENDING
    messages: list[dict[str, str]] = field(default_factory=list)
    output: str = ""
    edited: bool = False
    stale: bool = False
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    finish_reason: str | None = None
    error_kind: str | None = None
    error_detail: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepResult:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        result = cls(**known)
        result.status = StepStatus(result.status)
        result.messages = [dict(m) for m in result.messages]
        return result


@dataclass
class ChainRun:
    """One run of a chain on an idea: the working copy in session state, stored as a dict.
    ``template`` is a snapshot, so later edits of the template do not change past runs."""

    idea: str
    template: ChainTemplate
    model: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    language: str | None = None
    back_translate: bool = False
    steps: list[StepResult] = field(default_factory=list)
    final_prompt: str = ""
    negative_prompt: str | None = None
    truncated_from: int | None = None  # length of the model's prompt when it was cut
    back_translation: StepResult | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            self.steps = [StepResult() for _ in self.template.steps]
        if self.language is None:
            self.language = detect_language(self.idea)

    @property
    def status(self) -> str:
        """The run's state as a whole, from its steps."""
        states = {s.status for s in self.steps}
        for state in (StepStatus.RUNNING, StepStatus.ERROR, StepStatus.CANCELLED):
            if state in states:
                return state
        return StepStatus.DONE if states == {StepStatus.DONE} else StepStatus.PENDING

    def resume_index(self) -> int:
        """The first step not done (where retry / continue starts); len(steps) when all are."""
        for i, step in enumerate(self.steps):
            if step.status != StepStatus.DONE:
                return i
        return len(self.steps)

    def can_start_at(self, index: int) -> bool:
        """Re-running from ``index`` needs every earlier step done (their outputs feed it)."""
        return 0 <= index <= len(self.steps) and all(
            s.status == StepStatus.DONE for s in self.steps[:index]
        )

    @property
    def final(self) -> FinalPrompt:
        """The final prompt as a typed value (empty until the last step is done)."""
        return FinalPrompt(self.final_prompt, self.negative_prompt)

    def results(self) -> list[StepResult]:
        return [*self.steps, *([self.back_translation] if self.back_translation else [])]

    @property
    def cost_usd(self) -> float:
        """Sum of the known step costs; see ``cost_incomplete``."""
        return sum(s.cost_usd or 0.0 for s in self.results())

    @property
    def cost_incomplete(self) -> bool:
        """True when some call has tokens but no known price: the sum is a lower bound."""
        return any(s.completion_tokens is not None and s.cost_usd is None for s in self.results())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "idea": self.idea,
            "template": self.template.to_dict(),
            "model": self.model,
            "language": self.language,
            "back_translate": self.back_translate,
            "steps": [asdict(s) for s in self.steps],
            "final_prompt": self.final_prompt,
            "negative_prompt": self.negative_prompt,
            "truncated_from": self.truncated_from,
            "back_translation": asdict(self.back_translation) if self.back_translation else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChainRun:
        template = ChainTemplate.from_dict(data["template"])
        steps = [StepResult.from_dict(s) for s in data.get("steps") or ()]
        if len(steps) != len(template.steps):
            raise ValueError("steps do not match the template snapshot")
        back = data.get("back_translation")
        return cls(
            idea=str(data["idea"]),
            template=template,
            model=str(data["model"]),
            id=str(data.get("id") or uuid.uuid4().hex),
            language=data.get("language"),
            back_translate=bool(data.get("back_translate", False)),
            steps=steps,
            final_prompt=str(data.get("final_prompt") or ""),
            negative_prompt=data.get("negative_prompt"),
            truncated_from=data.get("truncated_from"),
            back_translation=StepResult.from_dict(back) if back else None,
        )
