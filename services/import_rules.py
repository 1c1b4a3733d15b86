"""What an imported file must look like before anything of it is stored.

A file from elsewhere (a conversation export, a chain template) is read with a size limit,
parsed without letting deep nesting escape as a RecursionError, and every field is checked
for its type, length and range. A bad file raises ``ChatCanvasError(BAD_IMPORT)`` whose
``param`` names the field (``messages[3].cost_usd``) and whose ``detail`` says what is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from services.chat import MAX_MESSAGE_CHARS
from services.errors import ChatCanvasError, ErrorKind

MAX_IMPORT_MB = 5  # also server.maxUploadSize in .streamlit/config.toml
MAX_IMPORT_BYTES = MAX_IMPORT_MB * 1024 * 1024
MAX_TEXT_CHARS = MAX_MESSAGE_CHARS  # one message or prompt
MAX_MODEL_CHARS = 256  # generous for fine-tuned and deployment ids; the columns are text
MAX_MESSAGES = 10_000
MAX_TOKENS = 2_000_000_000  # fits a 32-bit INTEGER column (PostgreSQL)
MAX_COST_USD = 1_000_000.0


def refuse(field: str, reason: str) -> ChatCanvasError:
    """The error for one bad field of an imported file."""
    return ChatCanvasError(ErrorKind.BAD_IMPORT, f"{field}: {reason}", param=field)


def upload_bytes(uploaded: Any) -> bytes:
    """An uploaded file's bytes (anything with ``size`` and ``getvalue()``, as Streamlit's
    uploads); one over the import limit is refused without being read into memory."""
    if uploaded.size > MAX_IMPORT_BYTES:
        raise refuse("file", f"larger than {MAX_IMPORT_MB} MB")
    return uploaded.getvalue()


def load_json(payload: str | bytes | Any) -> Any:
    """Parse an uploaded file (bytes or text); other values are returned as they are."""
    if not isinstance(payload, str | bytes):
        return payload
    if len(payload) > MAX_IMPORT_BYTES:
        raise refuse("file", f"larger than {MAX_IMPORT_MB} MB")
    try:
        return json.loads(payload)
    except RecursionError:
        raise refuse("file", "nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, an integer of thousands of digits
        raise refuse("file", f"not a JSON file ({type(exc).__name__})") from None


def text(
    data: Mapping[str, Any], name: str, field: str, *, max_chars: int = MAX_TEXT_CHARS
) -> str | None:
    """``data[name]`` as text that any database can store; None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise refuse(field, "must be text")
    if len(value) > max_chars:
        raise refuse(field, f"longer than {max_chars} characters")
    if "\x00" in value:
        raise refuse(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse(field, "contains an unpaired surrogate") from None
    return value


def integer(data: Mapping[str, Any], name: str, field: str, *, low: int, high: int) -> int | None:
    """``data[name]`` as a whole number in ``low..high``; None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(field, "must be a whole number")
    if not low <= value <= high:
        raise refuse(field, f"must be between {low} and {high}")
    return value


def number(
    data: Mapping[str, Any], name: str, field: str, *, low: float, high: float
) -> float | None:
    """``data[name]`` as a finite number in ``low..high``; None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refuse(field, "must be a number")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise refuse(field, f"must be a finite number between {low:g} and {high:g}")
    return value


def flag(data: Mapping[str, Any], name: str, field: str) -> bool | None:
    """``data[name]`` as true/false; None when absent."""
    value = data.get(name)
    if value is not None and not isinstance(value, bool):
        raise refuse(field, "must be true or false")
    return value


def choice(data: Mapping[str, Any], name: str, field: str, allowed: tuple[str, ...]) -> str | None:
    """``data[name]`` as one of ``allowed``; None when absent."""
    value = data.get(name)
    if value is not None and value not in allowed:
        raise refuse(field, f"must be one of {', '.join(allowed)}")
    return value


def mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise refuse(field, "must be an object")
    return value


def sequence(value: Any, field: str, *, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise refuse(field, "must be a list")
    if len(value) > max_items:
        raise refuse(field, f"more than {max_items} entries")
    return value
