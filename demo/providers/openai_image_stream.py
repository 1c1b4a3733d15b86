"""``stream: true`` on the fake image endpoint: GPT Image answers as Server-Sent Events, the
way OpenAI sends them (``openai.types.ImageGenPartialImageEvent`` / ``ImageGenCompletedEvent``):

    event: image_generation.partial_image
    data: {"type": "image_generation.partial_image", "b64_json": ..., "partial_image_index": 0, ...}

    event: image_generation.completed
    data: {"type": "image_generation.completed", "b64_json": ..., "usage": {...}, ...}

``partial_images`` (0..3) previews come first, each a real image in the requested format: the
final one, coarser the earlier it is (pixelated, then less so). The events are spread evenly
over the endpoint's latency (the first partial after one share of it), or ``event_delay``
seconds apart when set; with ``final_gate`` (a threading.Event) the completed event waits
until it is set, so a test sees the previews alone without timing anything. Each partial adds 100 output tokens to the usage, as OpenAI bills.
Faults: ``stream_error`` (an ``error`` event after the first partial, as the SDK raises on)
and ``cut_stream`` (the connection drops after the first partial).
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator

from PIL import Image

from demo.providers.http_fake import RawBody

EVENT_STREAM = "text/event-stream; charset=utf-8"
PARTIAL_TOKENS = 100  # output tokens billed per partial image
STREAM_FAULTS = {"stream_error", "cut_stream"}
GATE_SECONDS = 60.0  # the longest a final image waits for its gate
_PIL = {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}
STREAM_ERROR = {
    "type": "server_error",
    "code": "server_error",
    "message": "The image generation failed while it was streaming. Please try again.",
    "param": None,
}


def coarse(final: bytes, fmt: str, level: int) -> bytes:
    """``final`` pixelated into blocks of ``2 ** level`` px (a preview of what is coming)."""
    with Image.open(io.BytesIO(final)) as image:
        image = image.convert("RGB")
        width, height = image.size
        block = 2**level
        small = image.resize((max(1, width // block), max(1, height // block)), Image.BOX)
        preview = small.resize((width, height), Image.NEAREST)
    out = io.BytesIO()
    pil = _PIL.get(fmt, "PNG")
    preview.save(out, format=pil, **({"quality": 70} if pil != "PNG" else {}))
    return out.getvalue()


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def streamed_answer(
    payload: dict,
    images: list[bytes],
    partials: int,
    spacing: float,
    fault: str | None,
    final_gate: threading.Event | None = None,
    started: float | None = None,
) -> RawBody:
    """The event stream for a GPT Image answer ``payload`` (the JSON the endpoint would send,
    its ``usage`` for the whole call) whose images are ``images``: for each image,
    ``partials`` previews then its completed event, one every ``spacing`` seconds from
    ``started`` (``time.monotonic()`` when the request came; default now)."""
    started = time.monotonic() if started is None else started
    events = _events(payload, images, partials, (started, spacing), fault, final_gate)
    return RawBody(events, content_type=EVENT_STREAM)


def _events(
    payload: dict,
    images: list[bytes],
    partials: int,
    pace: tuple[float, float],
    fault: str | None,
    final_gate: threading.Event | None,
) -> Iterator[bytes]:
    fmt = payload["output_format"]
    common = {k: payload[k] for k in ("size", "quality", "background", "output_format")}
    # event k goes out k + 1 spacings after the request came, however long drawing it took
    (started, spacing), sent = pace, 0

    def wait_turn() -> None:
        nonlocal sent
        sent += 1
        time.sleep(max(0.0, started + sent * spacing - time.monotonic()))

    for n, image in enumerate(images):
        for index in range(partials):
            preview = coarse(image, fmt, partials - index + 2)
            wait_turn()
            yield sse(
                "image_generation.partial_image",
                {
                    "type": "image_generation.partial_image",
                    "b64_json": base64.b64encode(preview).decode(),
                    "created_at": int(time.time()),
                    **common,
                    "partial_image_index": index,
                },
            )
            if fault == "stream_error":
                yield sse("error", {"type": "error", "error": STREAM_ERROR})
                return
            if fault == "cut_stream":
                raise ConnectionResetError("the fake drops the connection mid-stream")
        wait_turn()
        if final_gate is not None:
            final_gate.wait(GATE_SECONDS)
        completed = {
            "type": "image_generation.completed",
            "b64_json": base64.b64encode(image).decode() if image else "not//base64!!",
            "created_at": int(time.time()),
            **common,
        }
        if "usage" in payload:
            completed["usage"] = _image_usage(payload["usage"], len(images), n, partials)
        yield sse("image_generation.completed", completed)


def _image_usage(usage: dict, count: int, n: int, partials: int) -> dict:
    """Image ``n``'s share of the call's usage (the prompt counted with the first image),
    plus what its partial images cost."""
    input_tokens = usage["input_tokens"] if n == 0 else 0
    output_tokens = usage["output_tokens"] // count + PARTIAL_TOKENS * partials
    details = usage["input_tokens_details"] if n == 0 else {"text_tokens": 0, "image_tokens": 0}
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": dict(details),
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
