"""One chain step while it streams: text deltas for the page, the result updated as they arrive.

Cancel: either set the ``cancel`` event (checked between deltas and before the step starts) or
close the iterator (what a Streamlit rerun does). Both close the HTTP stream, mark the step
``cancelled`` and keep its partial text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from services.chat import ChatMessage, ChatOptions, ChatService, context_warning
from services.errors import ChatCanvasError, ErrorKind
from services.studio.state import StepResult, StepStatus

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
