"""The chain engine: an idea becomes an image prompt through a few visible, editable chat steps.

The Prompt Studio's tutorial chain asks an imaginative assistant to describe the idea, then to
make it concrete, then to translate it into English, and finally (in a fresh conversation with
an image-prompt writer) to turn the translation into one prompt sentence. Every step's input and
output is kept on a :class:`ChainRun`, so the page can show it, the user can edit an output, and
the chain can be re-run from any step without calling the model for the steps before it.

Streaming: :meth:`ChainEngine.run` returns a generator of :class:`StepStream` objects, one per
step as it starts; each is an iterable of text deltas, which is what ``st.write_stream`` takes.
:class:`services.studio.runs.StreamingRun` wraps it and stores the run as it goes::

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
driven from another thread) or close the generator (what a Streamlit rerun does); see
:mod:`services.studio.stream`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from services.chat import (
    ChatMessage,
    ChatOptions,
    ChatService,
    check_user_text,
    context_warning,
    estimate_tokens,
)
from services.errors import ChatCanvasError, ErrorKind
from services.images.translate import shorten
from services.moderation import ModerationService, ModerationVerdict
from services.studio.builtins import BACK_TRANSLATION_SYSTEM, BACK_TRANSLATION_TEMPLATE
from services.studio.language import language_name
from services.studio.parsing import FinalPrompt, parse_prompt_output
from services.studio.state import ChainRun, StepResult, StepStatus
from services.studio.stream import DeltaCallback, StepStream
from services.studio.templates import (
    ChainTemplate,
    Problem,
    TemplateInvalid,
    render,
    validate_template,
)

# An idea longer than this share of a model's context leaves little room for the later steps,
# which repeat the idea together with the earlier answers.
IDEA_CONTEXT_SHARE = 4


class ChainEngine:
    """Runs chains through one ChatService."""

    def __init__(self, chat: ChatService, *, moderation: ModerationService | None = None) -> None:
        self.chat = chat
        self.moderation = moderation  # the safety check of an idea, when it is switched on

    def check_idea_safety(self, idea: str) -> ModerationVerdict:
        """The moderation model's verdict on an idea, before a run spends anything (free).
        Raises ChatCanvasError when the check cannot be made (the caller offers a retry or
        to proceed) or the idea is empty."""
        if self.moderation is None:
            raise ChatCanvasError(ErrorKind.NO_KEY, "no moderation service")
        return self.moderation.check_texts([idea])

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
        if text == run.steps[index].output and run.steps[index].status == StepStatus.DONE:
            return
        self._edit(run, index, text)

    def set_final_prompt(self, run: ChainRun, final: FinalPrompt) -> None:
        """Record the user's edit of the final prompt (and negative prompt), taken as typed and
        cut to the chain's limit like a model's answer. The last step's answer becomes the one
        that gives this prompt, so both boxes agree; a back-translation becomes stale.
        Raises ChatCanvasError EMPTY_INPUT for an empty prompt."""
        check_user_text(final.prompt)
        final = FinalPrompt(final.prompt.strip(), _negative(final.negative_prompt))
        if final == run.final and run.steps[-1].status == StepStatus.DONE:
            return
        self._edit(run, len(run.steps) - 1, final.as_answer(), final)

    def _edit(self, run: ChainRun, index: int, text: str, final: FinalPrompt | None = None) -> None:
        step = run.steps[index]
        if step.status == StepStatus.RUNNING:
            raise ValueError("a running step cannot be edited")
        step.output = text
        step.edited = True
        step.status = StepStatus.DONE
        step.error_kind = step.error_detail = None
        step.stale = False
        for later in run.steps[index + 1 :]:
            if later.status == StepStatus.DONE:
                later.stale = True
        if index == len(run.steps) - 1:
            self._finish(run, final)
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
    def _finish(run: ChainRun, final: FinalPrompt | None = None) -> None:
        """Set the final prompt (by default read from the last step's current output), cut to
        the chain's limit."""
        prompt, negative = final or parse_prompt_output(run.steps[-1].output)
        limit = run.template.prompt_limit
        run.truncated_from = None
        if limit is not None:
            if len(prompt) > limit:
                run.truncated_from = len(prompt)
                prompt = shorten(prompt, limit)
            if negative is not None:
                negative = shorten(negative, limit)
        run.final_prompt, run.negative_prompt = prompt, negative


def _negative(text: str | None) -> str | None:
    """An emptied negative prompt is no negative prompt, as in a model's answer."""
    return (text or "").strip() or None


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
