"""The fake OpenAI API's ``POST /v1/moderations``: text and image inputs, OpenAI's response
shape (``results[i]`` with ``flagged``, ``categories``, ``category_scores``,
``category_applied_input_types``).

It cannot judge content: a text containing ``FLAGME`` is flagged for harassment and
violence (``FLAGME:category`` flags that category instead, e.g. ``FLAGME:self-harm/intent``),
and an image whose first pixel is pure red (``FLAGGED_COLOUR``) for violence/graphic.
``input`` is a string, an array of strings, or an array of ``text`` / ``image_url`` parts
(one result for the parts together, as the real API gives). Validation as the API does: no
input or a bad part is a 400, an image that is not a readable data URL a 400, an unknown or
non-moderation model a 404. Faults by endpoint ``moderations``: any of the chat ERRORS,
``timeout`` and ``bad_input``.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
from typing import Any

from PIL import Image, UnidentifiedImageError

MODERATIONS = "/v1/moderations"
TRIGGER = "FLAGME"
FLAGGED_COLOUR = (255, 0, 0)
CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# the categories the real API judges images for (the rest are text only)
IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
DEFAULT_TEXT_FLAGS = ("harassment", "violence")
_NAMED = re.compile(re.escape(TRIGGER) + r":([a-z/-]+)")

MODERATION_ERRORS: dict[str, tuple[int, dict]] = {
    "bad_input": (
        400,
        {
            "message": "Invalid value for 'input': expected a string, array of strings, or "
            "array of objects.",
            "type": "invalid_request_error",
            "param": "input",
            "code": "invalid_value",
        },
    ),
}


def answer_moderation(h: Any, body: dict | None) -> None:
    """Answer one moderation request on handler ``h`` (the fake's ``_Handler``)."""
    fake = h.server_fake
    fault = fake.meet_fault(h, "moderations")
    if fault == "timeout":
        return
    if fault in MODERATION_ERRORS:
        status, error = MODERATION_ERRORS[fault]
        h._send_json(status, {"error": dict(error)})
        return
    if fault is not None:
        h._send_error(fault)
        return
    body = body or {}
    model_id = body.get("model", "omni-moderation-latest")
    model = fake.model(model_id) if isinstance(model_id, str) else None
    if model is None or model.kind != "moderation":
        h._invalid(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            "model",
            "model_not_found",
            status=404,
        )
        return
    items = _inputs(body.get("input"))
    if items is None:
        status, error = MODERATION_ERRORS["bad_input"]
        h._send_json(status, {"error": dict(error)})
        return
    try:
        results = [_result(parts) for parts in items]
    except ValueError as exc:
        h._invalid(str(exc), "input", "invalid_image_url")
        return
    h._send_json(
        200, {"id": f"modr-{uuid.uuid4().hex[:24]}", "model": model_id, "results": results}
    )


def _inputs(value: object) -> list[list[dict]] | None:
    """The input as a list of items, each a list of parts; None when it is malformed."""
    if isinstance(value, str):
        return [[{"type": "text", "text": value}]]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, str) for v in value):
        return [[{"type": "text", "text": v}] for v in value]
    wanted = {"text": str, "image_url": dict}
    for part in value:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in wanted or not isinstance(part.get(kind), wanted[kind]):
            return None
    return [list(value)]


def _result(parts: list[dict]) -> dict:
    flagged: dict[str, set[str]] = {}
    for part in parts:
        if part["type"] == "text":
            for category in _text_flags(part["text"]):
                flagged.setdefault(category, set()).add("text")
        elif _image_flagged(str(part["image_url"].get("url", ""))):
            flagged.setdefault("violence/graphic", set()).add("image")
    kinds = {"text" if p["type"] == "text" else "image" for p in parts}
    return {
        "flagged": bool(flagged),
        "categories": {c: c in flagged for c in CATEGORIES},
        "category_scores": {c: (0.97 if c in flagged else 0.0004) for c in CATEGORIES},
        "category_applied_input_types": {
            c: sorted(k for k in kinds if k == "text" or c in IMAGE_CATEGORIES) for c in CATEGORIES
        },
    }


def _text_flags(text: str) -> tuple[str, ...]:
    if TRIGGER not in text:
        return ()
    named = tuple(c for c in _NAMED.findall(text) if c in CATEGORIES)
    return named or DEFAULT_TEXT_FLAGS


def _image_flagged(url: str) -> bool:
    """True for a data URL whose first pixel is ``FLAGGED_COLOUR``. Raises ValueError for
    anything that is not a readable image data URL."""
    head, _, data = url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise ValueError("Invalid image URL: expected a base64-encoded data URL with an image.")
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
            pixel = image.convert("RGB").getpixel((0, 0))
    except (binascii.Error, UnidentifiedImageError, OSError):
        raise ValueError("Invalid image: the file could not be read as an image.") from None
    return tuple(pixel) == FLAGGED_COLOUR
