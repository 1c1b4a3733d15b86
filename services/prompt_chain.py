"""Prompt chains: an idea becomes an image prompt through a few visible, editable chat steps.

The Prompt Studio's tutorial chain asks an imaginative assistant to describe the idea, then to
make it concrete, then to translate it into English, and finally (in a fresh conversation with
an image-prompt writer) to turn the translation into one prompt sentence. Every step's input and
output is kept on a :class:`ChainRun`, so the page can show it, the user can edit an output, and
the chain can be re-run from any step without calling the model for the steps before it.

Streaming: :meth:`ChainEngine.run` returns a generator of :class:`StepStream` objects, one per
step as it starts; each is an iterable of text deltas, which is what ``st.write_stream`` takes::

    steps = engine.run(run, start_at)
    try:
        for step in steps:
            with st.status(label(step.name, t)) as box:
                st.write_stream(step)
                box.update(state="complete" if step.result.status == "done" else "error")
    finally:
        steps.close()  # Stop/rerun interrupts write_stream: the running step becomes cancelled
        store.save_run(run)

Cancel: either set the ``cancel`` event (checked between deltas and before each step; for runs
driven from another thread) or close the generator (what a Streamlit rerun does). Both close the
HTTP stream, mark the running step ``cancelled`` and keep its partial text.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from string import Formatter
from typing import Any

from services.chat import (
    ChatMessage,
    ChatOptions,
    ChatService,
    check_user_text,
    context_warning,
    estimate_tokens,
)
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images.karlo import MAX_PROMPT_CHARS, karlo_prompt_problems
from services.images.translate import shorten
from services.import_rules import MAX_MODEL_CHARS, MAX_TEXT_CHARS, MAX_TOKENS
from services.markdown_safety import escape_markdown

MAX_STEPS = 12
MAX_NAME_CHARS = 200
DEFAULT_CHAIN_ID = "tutorial"
# An idea longer than this share of a model's context leaves little room for the later steps,
# which repeat the idea together with the earlier answers.
IDEA_CONTEXT_SHARE = 4

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


# -- built-in chains -----------------------------------------------------------------------
# What the model receives is English (it works for an idea in any language); what the user
# sees as names comes from locales/*/studio.json.
IMAGINATIVE_SYSTEM = (
    "You are an assistant with a rich imagination who answers with vivid visual descriptions."
)
PROMPT_WRITER_SYSTEM = (
    "You are an assistant that writes prompts for image generation models. "
    "You reply with the prompt only: English, no preamble, no quotation marks."
)
KARLO_WRITER_SYSTEM = (
    "You are an assistant that writes prompts for the Karlo image generation model. "
    f"Karlo reads English only and at most {MAX_PROMPT_CHARS} characters of prompt. "
    "Reply in exactly two lines and nothing else:\n"
    f"PROMPT: <the English prompt, at most {MAX_PROMPT_CHARS} characters>\n"
    "NEGATIVE: <comma-separated things the image should avoid>"
)
BACK_TRANSLATION_SYSTEM = (
    "You are a careful translator. You translate faithfully, keeping every visual detail, "
    "and reply with the translation only."
)
BACK_TRANSLATION_TEMPLATE = (
    "Translate this image prompt into {language}.\n\n"
    "Image prompt:\n{prompt}\n\n"
    "The idea it came from (only to tell the language and the meaning):\n{idea}"
)

BUILTIN_CHAINS: dict[str, ChainTemplate] = {
    "tutorial": ChainTemplate(
        id="tutorial",
        name="studio.chains.tutorial.name",
        builtin=True,
        steps=(
            ChainStep(
                name="studio.chains.tutorial.steps.describe",
                system_prompt=IMAGINATIVE_SYSTEM,
                template=(
                    "Use your imagination: describe what this would look like.\n\n{idea}\n\n"
                    "Answer in {language}."
                ),
                temperature=1.0,
            ),
            ChainStep(
                name="studio.chains.tutorial.steps.elaborate",
                template=(
                    "Describe it more concretely, as one single picture: shapes, colours, "
                    "textures, the setting, the light and the viewpoint. Answer in {language}."
                ),
                temperature=0.9,
            ),
            ChainStep(
                name="studio.chains.tutorial.steps.translate",
                template=(
                    "Translate your last description into natural English. If it is already "
                    "English, repeat it unchanged. Reply with the English text only."
                ),
                temperature=0.2,
            ),
            ChainStep(
                name="studio.chains.tutorial.steps.prompt",
                fresh=True,
                system_prompt=PROMPT_WRITER_SYSTEM,
                template=(
                    "Write one prompt sentence for an image generation model that captures "
                    "this description:\n\n{step3}"
                ),
                temperature=0.7,
            ),
        ),
    ),
    "quick": ChainTemplate(
        id="quick",
        name="studio.chains.quick.name",
        builtin=True,
        steps=(
            ChainStep(
                name="studio.chains.quick.steps.prompt",
                fresh=True,
                system_prompt=PROMPT_WRITER_SYSTEM,
                template=(
                    "Turn this idea (it may be in any language) into one vivid English prompt "
                    "sentence for an image generation model:\n\n{idea}"
                ),
                temperature=0.8,
            ),
        ),
    ),
    "karlo": ChainTemplate(
        id="karlo",
        name="studio.chains.karlo.name",
        builtin=True,
        prompt_limit=MAX_PROMPT_CHARS,
        steps=(
            ChainStep(
                name="studio.chains.karlo.steps.describe",
                system_prompt=IMAGINATIVE_SYSTEM,
                template=(
                    "Use your imagination: describe in English, as one single concrete picture "
                    "(subject, shapes, colours, textures, setting, light), what this would look "
                    "like:\n\n{idea}"
                ),
                temperature=1.0,
            ),
            ChainStep(
                name="studio.chains.karlo.steps.prompt",
                fresh=True,
                system_prompt=KARLO_WRITER_SYSTEM,
                template=(
                    "Write the Karlo prompt and a suggested negative prompt for this "
                    "description:\n\n{step1}"
                ),
                temperature=0.5,
            ),
        ),
    ),
}


def builtin_chains() -> list[ChainTemplate]:
    """The built-in chains, the default (tutorial) first."""
    return list(BUILTIN_CHAINS.values())


# -- language and prompt checks ------------------------------------------------------------
LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese"}
UNKNOWN_LANGUAGE_NAME = "the same language as the idea"


def detect_language(text: str) -> str | None:
    """A simple guess by script: Hangul -> "ko", kana -> "ja", Han -> "zh", only ASCII letters
    -> "en"; None when unsure (other scripts, accented Latin, no letters)."""
    if any(
        "\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff" or "\u3130" <= c <= "\u318f"
        for c in text
    ):
        return "ko"
    if any("\u3040" <= c <= "\u30ff" for c in text):
        return "ja"
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        return "zh"
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isascii() for c in letters):
        return "en"
    return None


def language_name(code: str | None) -> str:
    """The English name put into ``{language}`` (the model reads it, not the user)."""
    return LANGUAGE_NAMES.get(code or "", UNKNOWN_LANGUAGE_NAME)


def is_english(text: str) -> bool:
    """Would Karlo take this as English? The Karlo provider's own rule (Latin letters, accents
    allowed), so this check and the provider never disagree. Stricter ``detect_language``
    decides ``{language}`` and whether to back-translate."""
    return bool(text.strip()) and "not_english" not in karlo_prompt_problems(text)


@dataclass(frozen=True)
class PromptCheck:
    """One pass/fail line under the final prompt: ``t(check.key, **check.params)``."""

    code: str  # "english" | "within_limit"
    ok: bool
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"studio.checks.{self.code}.{'ok' if self.ok else 'fail'}"


def prompt_checks(prompt: str, limit: int = MAX_PROMPT_CHARS) -> list[PromptCheck]:
    """Is the prompt English, and within ``limit`` characters (Karlo's 256)?"""
    return [
        PromptCheck("english", is_english(prompt)),
        PromptCheck("within_limit", len(prompt) <= limit, {"count": len(prompt), "limit": limit}),
    ]


# -- parsing the final answer --------------------------------------------------------------
_LABEL = re.compile(
    r"^\s*(?:[-*#>]+\s+)?(?:\*\*|__)?\s*"
    r"(?P<label>negative(?:\s+prompt)?|(?:positive\s+)?prompt|image\s+prompt"
    r"|네거티브(?:\s*프롬프트)?|부정\s*프롬프트|프롬프트)"
    r"\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_INLINE_NEGATIVE = re.compile(r"\s*\bnegative(?:\s+prompt)?\s*[:：]\s*", re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\s*$")
_QUOTE_PAIRS = {'"': '"', "“": "”", "'": "'", "‘": "’", "`": "`", "«": "»", "「": "」", "*": "*"}
_NO_NEGATIVE = {"", "none", "n/a", "-", "없음"}


def _clean(text: str) -> str:
    text = " ".join(text.split())
    while len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def parse_prompt_output(text: str) -> tuple[str, str | None]:
    """(prompt, negative prompt or None) from a prompt step's answer. Understands the
    ``PROMPT: ...`` / ``NEGATIVE: ...`` convention and its usual variations (markdown bold,
    "Negative prompt:", code fences, quotes, a "Here is your prompt:" preamble); plain text is
    the prompt as a whole. Whitespace is collapsed to single spaces."""
    lines = [ln for ln in text.strip().splitlines() if not _FENCE.match(ln.strip())]
    sections: dict[str, list[str]] = {"preamble": [], "prompt": [], "negative": []}
    current = "preamble"
    for line in lines:
        match = _LABEL.match(line)
        if match:
            current = (
                "negative" if match["label"].lower().startswith(("neg", "네", "부")) else "prompt"
            )
            sections[current].append(match["rest"])
        else:
            sections[current].append(line)
    body = (
        sections["prompt"] if any(s.strip() for s in sections["prompt"]) else sections["preamble"]
    )
    if body is sections["preamble"]:
        # "Sure! Here is a prompt:" before the prompt itself
        content = [ln for ln in body if ln.strip()]
        if len(content) > 1 and content[0].rstrip().endswith((":", "：")):
            body = content[1:]
    prompt = "\n".join(body)
    negative = "\n".join(sections["negative"])
    if not negative.strip():
        parts = _INLINE_NEGATIVE.split(prompt, maxsplit=1)
        if len(parts) == 2:
            prompt, negative = parts
    negative = _clean(negative)
    return _clean(prompt), None if negative.lower() in _NO_NEGATIVE else negative


# -- run state -----------------------------------------------------------------------------
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


# -- engine --------------------------------------------------------------------------------
DeltaCallback = Callable[[int, str], None]


class StepStream:
    """One step while it runs: iterate for text deltas (single use; ``st.write_stream(step)``
    works). ``index`` is the step's index, or ``len(run.steps)`` for the back-translation
    (``kind == "back_translation"``). ``result`` is updated as deltas arrive."""

    def __init__(
        self,
        chat: ChatService,
        result: StepResult,
        *,
        index: int,
        kind: str,
        name: str,
        model: str,
        messages: list[ChatMessage],
        options: ChatOptions,
        on_delta: DeltaCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        self.index = index
        self.kind = kind
        self.name = name
        self.result = result
        self._chat = chat
        self._model = model
        self._messages = messages
        self._options = options
        self._on_delta = on_delta
        self._cancel = cancel
        self._gen: Iterator[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._gen is None:
            self._gen = self._execute()
        return self._gen

    def drain(self) -> None:
        """Run the step to its end without showing it."""
        for _ in self:
            pass

    def close(self) -> None:
        """Stop the step if it is streaming (it becomes cancelled); harmless otherwise."""
        if self._gen is not None:
            self._gen.close()

    def _cancelled(self) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def _execute(self) -> Iterator[str]:
        result = self.result
        result.model = self._model
        if self._cancelled():
            result.status = StepStatus.CANCELLED
            return
        result.messages = [{"role": m.role, "content": m.content} for m in self._messages]
        spec = self._chat.catalog.spec(self._model)
        estimate = context_warning(spec, self._messages)
        if estimate is not None:
            self._fail(ChatCanvasError(ErrorKind.CONTEXT_TOO_LONG, f"≈{estimate} tokens"))
            return
        result.status = StepStatus.RUNNING
        try:
            stream = self._chat.stream_reply(
                self._model, self._messages, self._options, purpose="studio"
            )
        except ChatCanvasError as err:
            self._fail(err)
            return
        deltas = iter(stream)
        stopped = True  # until the stream ends by itself: a close() or the cancel event
        try:
            for delta in deltas:
                result.output = stream.text
                if self._on_delta is not None:
                    self._on_delta(self.index, delta)
                yield delta
                if self._cancelled():
                    break
            else:
                stopped = False
        finally:
            # run ReplyStream's own cleanup now (it marks the stream finished), not at GC
            deltas.close()  # type: ignore[attr-defined]
            stream.close()
            result.output = stream.text
            result.finish_reason = stream.finish_reason
            if stream.usage is not None:
                result.prompt_tokens = stream.usage.prompt_tokens
                result.completion_tokens = stream.usage.completion_tokens
            result.cost_usd = stream.cost
            if stream.complete:
                result.status = StepStatus.DONE
            elif stream.error is None and stopped:
                result.status = StepStatus.CANCELLED
            else:
                self._fail(stream.error or ChatCanvasError(ErrorKind.STREAM_INTERRUPTED))

    def _fail(self, err: ChatCanvasError) -> None:
        self.result.status = StepStatus.ERROR
        self.result.error_kind = str(err.kind)
        self.result.error_detail = err.detail or None


class ChainEngine:
    """Runs chains through one ChatService."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    def new_run(
        self,
        idea: str,
        template: ChainTemplate,
        *,
        model: str | None = None,
        back_translate: bool = False,
    ) -> ChainRun:
        """A pending run. Raises ChatCanvasError (EMPTY_INPUT / INPUT_TOO_LONG) for a bad idea
        and TemplateInvalid for a template that cannot run; warnings come from check_idea."""
        check_user_text(idea)
        problems = validate_template(template)
        if problems:
            raise TemplateInvalid(problems)
        chosen = model or template.default_model or self.chat.catalog.default_chat_model
        return ChainRun(idea.strip(), template, chosen, back_translate=back_translate)

    def check_idea(
        self, idea: str, template: ChainTemplate, model: str | None = None
    ) -> list[Problem]:
        """Warnings about an idea before running (codes ``idea_long``, ``idea_exceeds_context``
        per model of the chain). Raises ChatCanvasError EMPTY_INPUT for an empty idea and
        INPUT_TOO_LONG for one no model should get."""
        check_user_text(idea)
        catalog = self.chat.catalog
        chosen = model or template.default_model or catalog.default_chat_model
        first = template.steps[0] if template.steps else None
        problems: list[Problem] = []
        for model_id in dict.fromkeys(s.model or chosen for s in template.steps):
            spec = catalog.spec(model_id)
            if not spec.context_window:
                continue
            messages = [ChatMessage("user", idea)]
            if first is not None and first.system_prompt:
                messages.insert(0, ChatMessage("system", first.system_prompt))
            estimate = context_warning(spec, messages)
            params = {"model": model_id, "window": spec.context_window}
            if estimate is not None:
                problems.append(Problem("idea_exceeds_context", {**params, "tokens": estimate}))
            elif estimate_tokens(idea) * IDEA_CONTEXT_SHARE > spec.context_window:
                problems.append(Problem("idea_long", {**params, "tokens": estimate_tokens(idea)}))
        return problems

    def set_output(self, run: ChainRun, index: int, text: str) -> None:
        """Record the user's edit of step ``index``'s output. The step counts as done (its text
        feeds later steps); later steps that already ran are marked stale; editing the last
        step changes the final prompt. Raises ChatCanvasError EMPTY_INPUT for an empty text."""
        check_user_text(text)
        step = run.steps[index]
        if step.status == StepStatus.RUNNING:
            raise ValueError("a running step cannot be edited")
        if text == step.output and step.status == StepStatus.DONE:
            return
        step.output = text
        step.edited = True
        step.status = StepStatus.DONE
        step.error_kind = step.error_detail = None
        step.stale = False
        for later in run.steps[index + 1 :]:
            if later.status == StepStatus.DONE:
                later.stale = True
        if index == len(run.steps) - 1:
            self._finish(run)
            if run.back_translation is not None:
                run.back_translation.stale = True

    def run(
        self,
        run: ChainRun,
        start_at: int = 0,
        *,
        on_delta: DeltaCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[StepStream]:
        """Run steps ``start_at``.. (steps before it are kept as they are and not called),
        then the back-translation if ``run.back_translate`` (skipped for an English idea:
        nothing to compare). ``start_at == len(run.steps)``
        runs only the back-translation. Yields each step as it starts; a step the caller does
        not iterate is run to its end before the next one. Stops at the first step that ends
        in error or cancelled (retry with ``start_at=run.resume_index()``).
        Raises ValueError when an earlier step is not done, and LimitExceeded (nothing
        changed, nothing sent) when the first step would pass the user's spending limit."""
        if not run.can_start_at(start_at):
            raise ValueError(f"cannot start at step {start_at}: an earlier step is not done")
        if self.chat.budget is not None and start_at < len(run.steps):
            step = run.template.steps[start_at]
            messages = build_messages(run, start_at)
            self.chat.budget.check_chat(step.model or run.model, messages, step.max_tokens)
        for i in range(start_at, len(run.steps)):
            run.steps[i] = StepResult()
        if start_at < len(run.steps):
            run.final_prompt, run.negative_prompt, run.truncated_from = "", None, None
        run.back_translation = None
        return self._drive(run, start_at, on_delta, cancel)

    def _drive(
        self,
        run: ChainRun,
        start_at: int,
        on_delta: DeltaCallback | None,
        cancel: threading.Event | None,
    ) -> Iterator[StepStream]:
        current: StepStream | None = None
        try:
            for index in range(start_at, len(run.steps)):
                current = self._step_stream(run, index, on_delta, cancel)
                yield current
                current.drain()
                if run.steps[index].status != StepStatus.DONE:
                    return
            self._finish(run)
            if run.back_translate and run.language != "en" and run.final_prompt:
                current = self._back_translation_stream(run, on_delta, cancel)
                yield current
                current.drain()
        finally:
            if current is not None:
                current.close()

    def _step_stream(
        self,
        run: ChainRun,
        index: int,
        on_delta: DeltaCallback | None,
        cancel: threading.Event | None,
    ) -> StepStream:
        step = run.template.steps[index]
        return StepStream(
            self.chat,
            run.steps[index],
            index=index,
            kind="step",
            name=step.name,
            model=step.model or run.model,
            messages=build_messages(run, index),
            options=ChatOptions(temperature=step.temperature, max_tokens=step.max_tokens),
            on_delta=on_delta,
            cancel=cancel,
        )

    def _back_translation_stream(
        self, run: ChainRun, on_delta: DeltaCallback | None, cancel: threading.Event | None
    ) -> StepStream:
        run.back_translation = StepResult()
        values = {
            "language": language_name(run.language),
            "prompt": run.final_prompt,
            "idea": run.idea,
        }
        messages = [
            ChatMessage("system", BACK_TRANSLATION_SYSTEM),
            ChatMessage("user", render(BACK_TRANSLATION_TEMPLATE, values)),
        ]
        return StepStream(
            self.chat,
            run.back_translation,
            index=len(run.steps),
            kind="back_translation",
            name="studio.back_translation",
            model=run.model,
            messages=messages,
            options=ChatOptions(temperature=0.2),
            on_delta=on_delta,
            cancel=cancel,
        )

    @staticmethod
    def _finish(run: ChainRun) -> None:
        """The final prompt from the last step's current output (parsed, cut to the limit)."""
        prompt, negative = parse_prompt_output(run.steps[-1].output)
        limit = run.template.prompt_limit
        run.truncated_from = None
        if limit is not None:
            if len(prompt) > limit:
                run.truncated_from = len(prompt)
                prompt = shorten(prompt, limit)
            if negative is not None:
                negative = shorten(negative, limit)
        run.final_prompt, run.negative_prompt = prompt, negative


def placeholder_values(run: ChainRun, index: int) -> dict[str, str]:
    """What step ``index``'s placeholders are filled with: the idea, its language and the
    CURRENT outputs (user edits included) of the steps before it."""
    values = {"idea": run.idea, "language": language_name(run.language)}
    for i in range(index):
        values[f"step{i + 1}"] = run.steps[i].output.strip()
    values["previous"] = run.steps[index - 1].output.strip() if index > 0 else ""
    return values


def build_messages(run: ChainRun, index: int) -> list[ChatMessage]:
    """The messages step ``index`` sends: its segment's system prompt, the (user, assistant)
    turns of the earlier steps of the same segment, then its own user message. A fresh step
    (or the first) starts a segment."""
    steps = run.template.steps
    start = max(i for i in range(index + 1) if i == 0 or steps[i].fresh)
    messages = []
    system = render(steps[start].system_prompt, placeholder_values(run, start))
    if system.strip():
        messages.append(ChatMessage("system", system))
    for i in range(start, index):
        messages.append(ChatMessage("user", render(steps[i].template, placeholder_values(run, i))))
        messages.append(ChatMessage("assistant", run.steps[i].output))
    messages.append(
        ChatMessage("user", render(steps[index].template, placeholder_values(run, index)))
    )
    return messages
