"""Chain templates: steps, placeholders and the validation every save and run goes through.

A template is a named list of :class:`ChainStep`; a step's user message may use ``{idea}``,
``{language}``, ``{previous}`` and ``{stepN}``. :func:`validate_template` lists every
:class:`Problem` that would stop a template from being saved or run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from string import Formatter
from typing import Any

from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.import_rules import MAX_MODEL_CHARS, MAX_TEXT_CHARS, MAX_TOKENS
from services.markdown_safety import escape_markdown

MAX_STEPS = 12
MAX_NAME_CHARS = 200

# -- placeholders --------------------------------------------------------------------------
FIXED_PLACEHOLDERS = ("idea", "language", "previous")
_STEP_PLACEHOLDER = re.compile(r"step([1-9][0-9]*)")  # {step1}, never {step01} or {step0}
_FORMATTER = Formatter()


@dataclass(frozen=True)
class Problem:
    """Something wrong with a template, an import or an idea. The UI shows
    ``t(problem.key, **problem.params)``; ``step`` params are 1-based, as the page numbers them."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"studio.problems.{self.code}"

    def message(self, t: Translator) -> str:
        """The sentence, as Markdown: names and placeholders from a template or a typed model
        id show as typed (st.error and st.toast render Markdown)."""
        params = {
            k: escape_markdown(v) if isinstance(v, str) else v for k, v in self.params.items()
        }
        return t(self.key, **params)


class TemplateInvalid(ChatCanvasError, ValueError):
    """A template (or an import) that cannot be saved or run; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            ErrorKind.INVALID_TEMPLATE, "; ".join(f"{p.code} {dict(p.params)}" for p in problems)
        )


def placeholders(text: str) -> list[str]:
    """The placeholder names in ``text`` in order, as written (``{{`` and ``}}`` are literal
    braces). Raises ValueError on an unmatched brace. A conversion or format spec is kept in
    the name (``idea!r``) so validation reports it as unknown rather than silently dropping it.
    """
    names = []
    for _literal, name, spec, conversion in _FORMATTER.parse(text):
        if name is None:
            continue
        full = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        names.append(full)
    return names


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill placeholders from ``values``. Values are inserted as they are, never re-parsed, so
    braces in an idea or a model's answer are safe. Unknown names raise KeyError (validate
    first)."""
    out = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


# -- chain definition ----------------------------------------------------------------------
@dataclass(frozen=True)
class ChainStep:
    """One step. ``template`` is the user message with placeholders ``{idea}``, ``{language}``,
    ``{previous}`` (the step just before) and ``{stepN}`` (step N's current output, N earlier
    than this step). ``fresh`` starts a new conversation with this step's ``system_prompt``;
    otherwise the step continues the conversation of the steps before it (the first step is
    always a start, whatever its flag). ``name`` is a locale key for built-ins, plain text for
    user templates: show it with :func:`label`."""

    name: str
    template: str
    system_prompt: str = ""
    fresh: bool = False
    model: str | None = None  # None: the run's model
    temperature: float | None = None
    max_tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChainStep:
        return cls(
            name=str(data.get("name") or ""),
            template=str(data.get("template") or ""),
            system_prompt=str(data.get("system_prompt") or ""),
            fresh=bool(data.get("fresh", False)),
            model=_text_or_none(data.get("model")),
            temperature=_float_or_none(data.get("temperature")),
            max_tokens=_int_or_none(data.get("max_tokens")),
        )


@dataclass(frozen=True)
class ChainTemplate:
    """A named list of steps. ``default_model`` None means the app's default chat model;
    ``prompt_limit`` cuts the final prompt to that many characters (Karlo: 256)."""

    id: str
    name: str
    steps: tuple[ChainStep, ...]
    default_model: str | None = None
    builtin: bool = False
    prompt_limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "steps": [s.to_dict() for s in self.steps],
            "default_model": self.default_model,
            "builtin": self.builtin,
            "prompt_limit": self.prompt_limit,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChainTemplate:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            steps=tuple(ChainStep.from_dict(s) for s in data.get("steps") or ()),
            default_model=_text_or_none(data.get("default_model")),
            builtin=bool(data.get("builtin", False)),
            prompt_limit=_int_or_none(data.get("prompt_limit")),
        )


def _text_or_none(value: object) -> str | None:
    # a stored snapshot from before imports were checked may hold a list or a number here
    return value if isinstance(value, str) and value else None


def _float_or_none(value: object) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def label(name: str, t: Translator) -> str:
    """A chain or step name for display: built-ins store locale keys, users store text."""
    return t(name) if t.has(name) else name


def _check_placeholder(name: str, step: int, field_name: str) -> Problem | None:
    params = {"step": step, "placeholder": f"{{{name}}}", "field": field_name}
    if name in ("idea", "language"):
        return None
    if name == "previous":
        return Problem("no_previous", params) if step == 1 else None
    match = _STEP_PLACEHOLDER.fullmatch(name)
    if match and int(match.group(1)) >= 1:
        referenced = int(match.group(1))
        if referenced >= step:
            return Problem("forward_reference", {**params, "referenced": referenced})
        return None
    return Problem("unknown_placeholder", params)


def validate_template(template: ChainTemplate) -> list[Problem]:
    """Every problem that would stop this template from being saved or run (empty = valid)."""
    problems: list[Problem] = []
    name = template.name.strip()
    if not name:
        problems.append(Problem("empty_name"))
    elif len(name) > MAX_NAME_CHARS:
        problems.append(Problem("name_too_long", {"max": MAX_NAME_CHARS}))
    if not template.steps:
        problems.append(Problem("no_steps"))
    if len(template.steps) > MAX_STEPS:
        problems.append(Problem("too_many_steps", {"max": MAX_STEPS}))
    if template.prompt_limit is not None and not _whole(template.prompt_limit, 1, MAX_TEXT_CHARS):
        problems.append(Problem("bad_prompt_limit"))
    if not _model_id(template.default_model):
        problems.append(Problem("bad_default_model", {"max": MAX_MODEL_CHARS}))
    for number, step in enumerate(template.steps, start=1):
        field_problems = _step_field_problems(step, number)
        if field_problems:  # the checks below assume text fields of a sane size
            problems += field_problems
            continue
        if not step.template.strip():
            problems.append(Problem("empty_template", {"step": number}))
        for field_name in ("system_prompt", "template"):
            try:
                names = placeholders(getattr(step, field_name))
            except ValueError:
                problems.append(Problem("malformed", {"step": number, "field": field_name}))
                continue
            for placeholder in names:
                problem = _check_placeholder(placeholder, number, field_name)
                if problem is not None:
                    problems.append(problem)
        # A continued step talks inside its segment's conversation, whose system prompt is the
        # segment's first step's; a second one would be silently ignored, so refuse it.
        if number > 1 and not step.fresh and step.system_prompt.strip():
            problems.append(Problem("system_prompt_unused", {"step": number}))
    return problems


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _model_id(value: object) -> bool:
    """None (the chain's or the app's model) or a model id a database column can hold."""
    return value is None or (isinstance(value, str) and 0 < len(value) <= MAX_MODEL_CHARS)


def _step_field_problems(step: ChainStep, number: int) -> list[Problem]:
    """Types, lengths and ranges of one step's fields (from the editor or an imported file)."""
    problems = []
    if not isinstance(step.name, str) or len(step.name) > MAX_NAME_CHARS:
        problems.append(Problem("step_name_too_long", {"step": number, "max": MAX_NAME_CHARS}))
    for field_name in ("system_prompt", "template"):
        value = getattr(step, field_name)
        if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
            params = {"step": number, "field": field_name, "max": MAX_TEXT_CHARS}
            problems.append(Problem("text_too_long", params))
    if not _model_id(step.model):
        problems.append(Problem("bad_model", {"step": number, "max": MAX_MODEL_CHARS}))
    temperature = step.temperature
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2  # also false for NaN
    ):
        problems.append(Problem("bad_temperature", {"step": number}))
    if step.max_tokens is not None and not _whole(step.max_tokens, 1, MAX_TOKENS):
        problems.append(Problem("bad_max_tokens", {"step": number}))
    return problems
