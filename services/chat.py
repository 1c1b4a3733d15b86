"""Chat service: streams a ChatGPT reply through Chat Completions and ends with its usage.

Chat Completions is what OpenAI and every OpenAI-compatible server (Ollama, vLLM, LM Studio,
llama.cpp, Azure v1) speak, so the same code serves all of them through ``base_url``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from services.catalog import Catalog, LiveModel, ModelSpec, parse_date
from services.chat_images import IMAGE_TOKEN_ESTIMATE, ChatImage, check_count, content
from services.errors import ChatCanvasError, ErrorKind, from_openai
from services.http_clients import CHAT_LIMITS, Deadlines, openai_client, timeout_within
from services.settings import Settings

if TYPE_CHECKING:
    from services.budget import Budget

ROLES = frozenset({"system", "user", "assistant"})
# Interactive defaults: fail within seconds on a dead host, give a thinking model two minutes
# between chunks, retry once (the SDK's default of 2 retries on 600 s is for batch jobs).
DEFAULT_TIMEOUT = httpx2.Timeout(120.0, connect=5.0)
DEFAULT_MAX_RETRIES = 1
# Whole-exchange limits on top of the per-read timeout (a trickling server must not hold a call):
# the model list in 30 s, a reply in 10 minutes, and never two minutes without a new event.
CHAT_DEADLINES = Deadlines(answer=30.0, stream=600.0, between_events=120.0)
# A single message larger than this is refused before sending, whatever the model.
MAX_MESSAGE_CHARS = 200_000


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str
    images: tuple[ChatImage, ...] = ()  # a user message's attachments, sent as image parts

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}, not {self.role!r}")


@dataclass(frozen=True)
class ChatOptions:
    """User-chosen parameters; only those the model takes are sent."""

    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_sdk(cls, usage: object) -> Usage:
        prompt_details = getattr(usage, "prompt_tokens_details", None)
        completion_details = getattr(usage, "completion_tokens_details", None)
        return cls(
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            total_tokens=getattr(usage, "total_tokens", 0) or 0,
            cached_tokens=getattr(prompt_details, "cached_tokens", 0) or 0,
            reasoning_tokens=getattr(completion_details, "reasoning_tokens", 0) or 0,
        )


def estimate_tokens(text: str) -> int:
    """A rough count without a tokenizer vocabulary (tiktoken would download one): about four
    UTF-8 bytes per token, which slightly overestimates English and fits Korean. The exact
    count comes back in ``usage`` after the call."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def estimate_prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    """A rough count of what ``messages`` cost as a prompt (about four tokens per message
    on top of its text, and a fixed guess per image)."""
    return sum(
        estimate_tokens(m.content) + 4 + IMAGE_TOKEN_ESTIMATE * len(m.images) for m in messages
    )


def check_user_text(text: str) -> str:
    """The text to send, or a ChatCanvasError for empty/oversized input (nothing is sent)."""
    if not text or not text.strip():
        raise ChatCanvasError(ErrorKind.EMPTY_INPUT)
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatCanvasError(ErrorKind.INPUT_TOO_LONG, f"{len(text)} > {MAX_MESSAGE_CHARS}")
    return text


def check_images(spec: ModelSpec, count: int) -> None:
    """Refuse (before anything is stored or sent) more images than a message may carry, or
    any image for a model the catalog knows does not read them."""
    check_count(count)
    if count and not spec.takes_images:
        raise ChatCanvasError(ErrorKind.NO_VISION, f"{spec.id} takes no images", param=spec.id)


def _refused_images(
    err: ChatCanvasError, model: str, messages: Sequence[ChatMessage]
) -> ChatCanvasError:
    """A server's 400 about the image parts of a request that has some: the model (one the
    catalog does not know) does not read images. Our attachments are valid images already."""
    about_images = "image" in f"{err.param} {err.detail}".lower()
    if err.status == 400 and about_images and any(m.images for m in messages):
        return ChatCanvasError(ErrorKind.NO_VISION, err.detail, status=400, param=model)
    return err


def context_warning(spec: ModelSpec, messages: Sequence[ChatMessage]) -> int | None:
    """Estimated prompt tokens when they exceed the model's context window, else None."""
    if not spec.context_window:
        return None
    estimate = estimate_prompt_tokens(messages)
    return estimate if estimate > spec.context_window else None


def build_params(spec: ModelSpec, options: ChatOptions) -> dict[str, object]:
    """The optional request parameters this model accepts, under the name it accepts."""
    params: dict[str, object] = {}
    if options.temperature is not None and spec.takes_temperature:
        params["temperature"] = options.temperature
    if options.max_tokens:
        params[spec.token_limit_param] = options.max_tokens
    return params


_close_lock = threading.Lock()


@dataclass
class ReplyStream:
    """Iterate for text deltas. Afterwards ``text``, ``usage``, ``finish_reason``,
    ``complete`` and ``error`` describe what arrived. Iteration never raises: a broken stream
    ends early with ``error`` set, so the caller can keep the partial text."""

    spec: ModelSpec
    _sdk_stream: object
    _secrets: list[str] = field(default_factory=list, repr=False)
    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    error: ChatCanvasError | None = None
    finished: bool = False
    prompt_estimate: int = 0  # our count of the prompt, for a stream that ends without usage
    # called once when the stream is closed (ended, stopped or broken): records the call
    on_close: Callable[[ReplyStream], None] | None = field(default=None, repr=False)
    _closed: threading.Event = field(default_factory=threading.Event, repr=False)

    def __iter__(self) -> Iterator[str]:
        try:
            for chunk in self._sdk_stream:
                if chunk.usage is not None:
                    self.usage = Usage.from_sdk(chunk.usage)
                for choice in chunk.choices:
                    piece = choice.delta.content if choice.delta else None
                    if choice.delta is not None and getattr(choice.delta, "refusal", None):
                        piece = (piece or "") + choice.delta.refusal
                    if piece:
                        self.text += piece
                        yield piece
                    if choice.finish_reason:
                        self.finish_reason = choice.finish_reason
        except ChatCanvasError as err:  # a limit of ours (deadline, size): keep what arrived
            self.error = err
        except Exception as exc:  # the transport broke mid-stream: keep what arrived
            err = from_openai(exc, self._secrets)
            if err.kind in (ErrorKind.CONNECTION, ErrorKind.UNKNOWN, ErrorKind.BAD_RESPONSE):
                err = ChatCanvasError(ErrorKind.STREAM_INTERRUPTED, err.detail)
            self.error = err
        finally:
            # Also runs when the consumer abandons us (GeneratorExit): release the connection.
            self.close()
        # Only reached when the stream ran to its end, cleanly or not.
        self.finished = True
        if self.error is None and self.finish_reason is None:
            self.error = ChatCanvasError(ErrorKind.STREAM_INTERRUPTED, "no finish_reason")

    def close(self) -> None:
        """Stop receiving (used when the user presses Stop); safe to call twice."""
        close = getattr(self._sdk_stream, "close", None)
        if close is not None:
            close()
        with _close_lock:  # Stop (another thread) and the stream's own end may race here
            first = not self._closed.is_set()
            self._closed.set()
        if first and self.on_close is not None:
            self.on_close(self)

    @property
    def complete(self) -> bool:
        """True only when the model said it finished; a cut stream is never passed off as whole."""
        return self.finished and self.error is None and self.finish_reason is not None

    def usage_or_estimate(self) -> tuple[Usage | None, bool]:
        """The provider's usage; without it (a stopped or cut stream), our estimate from the
        prompt and the text that arrived, and True."""
        if self.usage is not None:
            return self.usage, False
        if not self.text:
            return None, False
        completion = estimate_tokens(self.text)
        return Usage(self.prompt_estimate, completion, self.prompt_estimate + completion), True

    @property
    def cost(self) -> float | None:
        if self.usage is None:
            return None
        return self.spec.cost(
            self.usage.prompt_tokens, self.usage.completion_tokens, self.usage.cached_tokens
        )


class ChatService:
    """Talks to one OpenAI-compatible endpoint with the settings' key."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        *,
        timeout: httpx2.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        budget: Budget | None = None,
        deadlines: Deadlines = CHAT_DEADLINES,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.budget = budget  # checks each call before it is sent and records it after
        self._timeout = timeout
        self._max_retries = max_retries
        self._deadlines = deadlines
        self._sdk_client: openai.OpenAI | None = None

    def _client(self) -> openai.OpenAI:
        # Built once per service (the app builds one per rerun) on a shared pool, and never
        # cached process-wide: a visitor's key leaves memory with their session.
        if self._sdk_client is None:
            self._sdk_client = openai_client(
                self.settings,
                timeout=self._timeout,
                max_retries=self._max_retries,
                limits=CHAT_LIMITS,
                deadlines=self._deadlines,
            )
        return self._sdk_client

    def list_models(self) -> list[LiveModel]:
        """``GET /v1/models`` with each model's ``shutdown_date``; raises ChatCanvasError."""
        try:
            # No single wait longer than the whole listing may take.
            timeout = timeout_within(self._timeout, self._deadlines.answer)
            page = self._client().models.list(timeout=timeout)
            return [LiveModel(m.id, parse_date(getattr(m, "shutdown_date", None))) for m in page]
        except Exception as exc:
            raise from_openai(exc, self.settings.secrets()) from None

    def stream_reply(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        options: ChatOptions = ChatOptions(),
        *,
        purpose: str = "chat",
    ) -> ReplyStream:
        """Start a streamed reply. Errors before the first byte (bad key, no credit, unknown
        model, a spending limit, ...) raise ChatCanvasError; errors after it end the stream
        with ``error`` set. ``purpose`` (chat, studio, translate) labels the recorded call."""
        if not messages:
            raise ChatCanvasError(ErrorKind.EMPTY_INPUT)
        spec = self.catalog.spec(model)
        if any(m.images for m in messages) and not spec.takes_images:  # earlier turns' images
            raise ChatCanvasError(ErrorKind.NO_VISION, f"{model} takes no images", param=model)
        try:
            client = self._client()
            if self.budget is not None:
                self.budget.check_chat(model, messages, options.max_tokens)
            body = {
                "model": model,
                "messages": [
                    {"role": m.role, "content": content(m.content, m.images)} for m in messages
                ],
                "stream": True,
                "stream_options": {"include_usage": True},
                **build_params(spec, options),
            }
            # The SDK's own POST, as chat.completions.create makes it, without create's walk
            # of the body against its type hints (a no-op for this plain JSON, and the CPU of
            # it grows with the conversation: 1.3 ms for six messages, every turn). Errors,
            # retries, the stream and its chunks are the SDK's, as with create.
            sdk_stream = client.post(
                "/chat/completions",
                body=body,
                # silence ends at the read timeout: no longer than the wait between events
                options={
                    "timeout": timeout_within(self._timeout, self._deadlines.between_events),
                    "security": {"bearer_auth": True},  # the API key, as create sends it
                },
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=openai.Stream[ChatCompletionChunk],
            )
        except Exception as exc:
            err = from_openai(exc, self.settings.secrets())
            raise _refused_images(err, model, messages) from None
        stream = ReplyStream(
            spec,
            sdk_stream,
            self.settings.secrets(),
            prompt_estimate=estimate_prompt_tokens(messages),
        )
        if self.budget is not None:
            budget, sent = self.budget, list(messages)
            stream.on_close = lambda s: budget.record_chat(purpose, sent, s)
        return stream

    def reply(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        options: ChatOptions = ChatOptions(),
        *,
        purpose: str = "chat",
    ) -> ReplyStream:
        """A whole reply (consumed stream); raises if it did not complete."""
        stream = self.stream_reply(model, messages, options, purpose=purpose)
        for _ in stream:
            pass
        if stream.error is not None:
            raise stream.error
        return stream
