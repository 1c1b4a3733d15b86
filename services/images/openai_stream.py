"""GPT Image lanes streamed: ``images.generate(stream=True, partial_images=N)`` through the
openai SDK, each partial image handed to the lane's watch as it arrives, then the final
image with its usage and cost as a non-streamed call would give them.

The result records when the first pixels came (``first_pixels_ms``, also in ``params`` so the
stored lineage keeps it) beside the total latency. A stream that fails after it began ends as
one of the usual ErrorKinds: an ``error`` event as what it says (a refusal, a server error),
a dropped connection or a stream without its final image as STREAM_INTERRUPTED, a cancelled
watch as CANCELLED; the detail says how many partial images had arrived. Models that cannot
stream (DALL·E, compatible servers) and calls of several images go through ``generate``.
"""

from __future__ import annotations

import time

import openai

from services.errors import ChatCanvasError, ErrorKind, from_openai, scrub
from services.images.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageRequest,
    ImageResult,
    checked_image,
    decode_b64_image,
)
from services.images.bounded_read import Deadline, timeout_error
from services.images.lane_watch import LaneProgress, LaneWatch
from services.images.openai_images import OpenAIImageProvider, build_image_params

# previews a lane streams unless it sets its own ``partial_images`` (0..3, the lane form offers it)
DEFAULT_PARTIAL_IMAGES = 2
PARTIAL = "image_generation.partial_image"
COMPLETED = "image_generation.completed"
# what an error event's code or type says, beyond a server error (anything else: interrupted)
_EVENT_KINDS = {
    "moderation_blocked": ErrorKind.CONTENT_REFUSED,
    "content_policy_violation": ErrorKind.CONTENT_REFUSED,
    "image_generation_user_error": ErrorKind.CONTENT_REFUSED,
    "rate_limit_exceeded": ErrorKind.RATE_LIMIT,
    "server_error": ErrorKind.SERVER_ERROR,
}


def streams(caps: ImageCapabilities, request: ImageRequest) -> bool:
    """True when this lane is streamed: one image of a GPT Image model."""
    return caps.family == "gpt-image" and request.count == 1


def generate_watched(
    provider: OpenAIImageProvider, request: ImageRequest, watch: LaneWatch
) -> ImageResult:
    """``provider.generate(request)``, streamed into ``watch`` where it streams."""
    plain = type(provider).generate is not OpenAIImageProvider.generate  # e.g. compatible
    if plain or not streams(provider.capabilities(request.model), request):
        return provider.generate(request)
    return generate_streamed(provider, request, watch)


class _Arrivals:
    """What a stream has brought so far."""

    def __init__(self, started: float, partials: int) -> None:
        self.started = started
        self.partials = partials  # asked for
        self.received = 0
        self.first_pixels_ms: int | None = None
        self.completed: object | None = None

    def ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)


def generate_streamed(
    provider: OpenAIImageProvider, request: ImageRequest, watch: LaneWatch
) -> ImageResult:
    """One streamed GPT Image call; partial images go to ``watch`` as they arrive."""
    caps = provider.capabilities(request.model)
    params = build_image_params(caps, request)
    params["partial_images"] = params.get("partial_images", DEFAULT_PARTIAL_IMAGES)
    params["stream"] = True
    deadline = Deadline(provider._deadline)
    arrivals = _Arrivals(time.perf_counter(), int(params["partial_images"]))  # type: ignore[arg-type]
    _read_stream(provider, params, deadline, arrivals, watch)
    done = arrivals.completed
    if done is None:
        raise _interrupted(provider.name, arrivals, "the stream ended without the final image")
    data = decode_b64_image(getattr(done, "b64_json", "") or "", provider.name)
    image = GeneratedImage(data=data, mime_type=checked_image(data, provider.name))
    usage = getattr(done, "usage", None)
    first = arrivals.first_pixels_ms
    return ImageResult(
        provider=provider.name,
        model=request.model,
        images=(image,),
        params={**params, "first_pixels_ms": first if first is not None else arrivals.ms()},
        latency_ms=arrivals.ms(),
        cost_usd=provider._cost(request.model, usage),
        usage=usage.model_dump() if usage is not None else {},
        first_pixels_ms=first if first is not None else arrivals.ms(),
    )


def _read_stream(
    provider: OpenAIImageProvider,
    params: dict[str, object],
    deadline: Deadline,
    arrivals: _Arrivals,
    watch: LaneWatch,
) -> None:
    secrets = provider.settings.secrets()
    try:
        client = provider._client()
        stream = client.images.generate(**params, timeout=deadline.timeout(provider._timeout))  # type: ignore[call-overload]
        watch.when_cancelled(stream.close)
        with stream:
            for event in stream:
                if watch.cancelled.is_set():
                    break
                deadline.check(provider.name, "images")
                _take(provider, event, arrivals, watch)
                if arrivals.completed is not None:
                    break
    except ChatCanvasError:
        raise
    except openai.APITimeoutError:
        raise timeout_error(deadline, provider.name, "images") from None
    except Exception as exc:
        if not watch.cancelled.is_set():
            raise _stream_error(provider.name, exc, arrivals, secrets) from None
    if watch.cancelled.is_set():
        raise ChatCanvasError(
            ErrorKind.CANCELLED,
            f"cancelled after {arrivals.received} partial image(s)",
            code="cancelled",
            provider=provider.name,
        )


def _take(
    provider: OpenAIImageProvider, event: object, arrivals: _Arrivals, watch: LaneWatch
) -> None:
    kind = getattr(event, "type", None)
    if kind == COMPLETED:
        arrivals.completed = event
        return
    if kind != PARTIAL:
        return  # an event this version does not know: the final image still comes
    data = decode_b64_image(getattr(event, "b64_json", "") or "", provider.name)
    checked_image(data, provider.name)
    if arrivals.first_pixels_ms is None:
        arrivals.first_pixels_ms = arrivals.ms()
    arrivals.received += 1
    watch.report(
        LaneProgress(
            partial=data,
            partial_index=int(getattr(event, "partial_image_index", arrivals.received - 1)),
            partials=arrivals.partials,
            first_pixels_ms=arrivals.first_pixels_ms,
        )
    )


def _interrupted(provider: str, arrivals: _Arrivals, why: str) -> ChatCanvasError:
    return ChatCanvasError(
        ErrorKind.STREAM_INTERRUPTED,
        f"{why} (after {arrivals.received} partial image(s))",
        provider=provider,
    )


def _stream_error(
    provider: str, exc: Exception, arrivals: _Arrivals, secrets: list[str]
) -> ChatCanvasError:
    """The error a failed stream ends with: an HTTP error before it began as any call's; an
    ``error`` event by its code; a broken connection after it began as STREAM_INTERRUPTED."""
    begun = arrivals.received > 0
    if isinstance(exc, openai.APIStatusError) or (
        isinstance(exc, openai.APIConnectionError) and not begun
    ):
        err = from_openai(exc, secrets)
    elif isinstance(exc, openai.APIConnectionError):
        err = _interrupted(provider, arrivals, "the connection broke")
    elif isinstance(exc, openai.APIError) and isinstance(exc.body, dict):
        body = exc.body
        code = body.get("code") if isinstance(body.get("code"), str) else None
        etype = body.get("type") if isinstance(body.get("type"), str) else None
        kind = _EVENT_KINDS.get(code or "") or _EVENT_KINDS.get(etype or "")
        message = scrub(str(body.get("message") or exc.message), secrets)[:500]
        detail = f"{message} (after {arrivals.received} partial image(s))"
        err = ChatCanvasError(kind or ErrorKind.STREAM_INTERRUPTED, detail, code=code)
    else:
        err = from_openai(exc, secrets)
    err.provider = provider
    return err
