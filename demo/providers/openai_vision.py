"""Image parts in chat messages, checked as the real API checks them (for the fake OpenAI
server): a model without vision refuses any image part, an image URL must be a base64 data URL
of a PNG, JPEG, WebP or GIF that decodes, and a request body over ``fake.max_chat_bytes`` is a
413. Each image counts as a fixed number of prompt tokens, like a low-detail tile."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

IMAGE_TOKENS = 765  # what OpenAI bills a 1024 px image in high detail, about
MAX_CHAT_BYTES = 50 * 1024 * 1024  # the real API's request limit with images
_DATA_URL = re.compile(r"^data:(image/[a-z+.-]+);base64,(.*)$", re.S)
_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def parts(message: dict) -> list[dict]:
    """A message's content parts (a plain string is one text part)."""
    content = message.get("content")
    if isinstance(content, list):
        return [p for p in content if isinstance(p, dict)]
    return [{"type": "text", "text": str(content or "")}]


def count_images(messages: list[dict]) -> int:
    return sum(1 for m in messages for p in parts(m) if p.get("type") == "image_url")


def message_text(message: dict) -> str:
    return " ".join(p.get("text", "") for p in parts(message) if p.get("type") == "text")


def too_large(h: Any) -> bool:
    """Answer 413 (as the real API's front does) when the body was over the fake's limit."""
    if getattr(h, "body_size", 0) <= h.server_fake.max_chat_bytes:
        return False
    h._send_json(
        413,
        {
            "error": {
                "message": f"Maximum content size limit ({h.server_fake.max_chat_bytes}) exceeded.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        },
    )
    return True


def refused_image_part(h: Any, messages: list[dict], vision: bool) -> bool:
    """Answer the real API's 400 for the first bad image part; False when all are good."""
    for i, message in enumerate(messages):
        for j, part in enumerate(parts(message)):
            if part.get("type") != "image_url":
                continue
            where = f"messages.[{i}].content.[{j}]"
            if not vision:
                h._invalid(
                    "Invalid content type. image_url is only supported by certain models.",
                    f"{where}.type",
                    None,
                )
                return True
            problem = _image_problem(part.get("image_url"))
            if problem is not None:
                h._invalid(problem[0], f"{where}.image_url.url", problem[1])
                return True
    return False


def _image_problem(image_url: object) -> tuple[str, str] | None:
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str):
        return "Missing required parameter: 'image_url.url'.", "missing_required_parameter"
    if url.startswith(("http://", "https://")):
        return None  # the fake does not download
    match = _DATA_URL.match(url)
    if match is None:
        return (
            "Invalid image URL: expected a base64-encoded data URL with an image MIME type "
            "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU=').",
            "invalid_value",
        )
    mime, b64 = match.groups()
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return (
            "Invalid 'image_url.url': expected a base64-encoded data URL with an image MIME "
            "type, but got an invalid base64 value.",
            "invalid_value",
        )
    if mime not in _SIGNATURES:
        return (
            "You uploaded an unsupported image. Please make sure your image has of one the "
            "following formats: ['png', 'jpeg', 'gif', 'webp'].",
            "invalid_image_format",
        )
    if not data.startswith(_SIGNATURES[mime]):
        return (
            "You uploaded an unsupported image. Please make sure your image is valid.",
            "image_parse_error",
        )
    return None
