"""``POST /v1/images/edits`` for the fake OpenAI server, in the real wire format.

The body is ``multipart/form-data`` as the SDK sends it: ``image`` (one file) or ``image[]``
(up to 16, GPT Image models), an optional ``mask``, and the other parameters as text fields
(``prompt``, ``model``, ``n``, ``size``, ``quality``, ``output_format``, ...). Checked as the
API checks them: a missing image or prompt, more than 16 images, a file that is not PNG, WebP
or JPEG (or not an image at all) or over 50 MB, a mask that is not a PNG with an alpha channel,
over 4 MB or not the first image's size: each a 400 with OpenAI's ``{"error": {...}}`` body.
Only GPT Image models edit (DALL·E is retired). The answer is the image handler's generation
answer for the same fields (``b64_json`` images, ``usage``; its latency, trigger words and
faults apply), with the input images counted as input image tokens.

Faults by endpoint ``edits`` (``FakeOpenAI.set_fault(name, endpoint="edits")``): any chat
error body and ``timeout``, met through ``FakeOpenAI.meet_fault`` like the other endpoints;
the handler's own faults (``malformed_b64``, ``no_usage``, ...) work here too.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from PIL import Image

from demo.providers.http_fake import RawBody, send_raw
from demo.providers.openai_chat import ERRORS
from demo.providers.openai_image_rules import api_error

EDITS = "/v1/images/edits"
MAX_INPUT_IMAGES = 16
MAX_EDIT_IMAGE_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
# the fake's count of input image tokens: a base per image plus one per 512 px tile
IMAGE_BASE_TOKENS = 65
TOKENS_PER_TILE = 129
_INPUT_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_INT_FIELDS = ("n", "output_compression", "partial_images")
_SUPPORTED = "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'."


@dataclass(frozen=True)
class FormFile:
    name: str  # the form field: image, image[], mask
    filename: str
    data: bytes = field(repr=False)


@dataclass
class EditCall:
    """What one edit request carried (the tests read it from ``FakeOpenAI.edits``)."""

    fields: dict
    images: list[FormFile]
    mask: FormFile | None


def read_form_parts(raw: bytes, content_type: str) -> tuple[dict, list[FormFile]]:
    """The text fields and every file of a ``multipart/form-data`` body, files in order
    (a repeated ``image[]`` keeps each one)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"content-type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict = {}
    files: list[FormFile] = []
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files.append(FormFile(name, filename, data))
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _mime(data: bytes) -> str | None:
    for magic, mime in _INPUT_TYPES.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def _opened(data: bytes) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except Exception:  # any undecodable upload is the same 400
        return None


def _file_problem(upload: FormFile, param: str, cap: int) -> tuple[int, dict] | None:
    mime = _mime(upload.data) or "application/octet-stream"
    allowed = ("image/png",) if param == "mask" else ("image/png", "image/jpeg", "image/webp")
    if mime not in allowed:
        supported = "Supported file formats are 'image/png'." if param == "mask" else _SUPPORTED
        return api_error(
            400,
            f"Invalid file '{param}': unsupported mimetype ('{mime}'). {supported}",
            param,
            "invalid_image_format",
        )
    if len(upload.data) > cap:
        return api_error(
            400,
            f"Invalid file '{param}': file too large ({len(upload.data)} bytes; at most {cap}).",
            param,
            "image_too_large",
        )
    return None


def edit_problem(
    images: list[FormFile], mask: FormFile | None
) -> tuple[tuple[int, dict] | None, list[tuple[int, int]]]:
    """The 400 the real API answers for these files (or None), and the input images' sizes
    (for the token count)."""
    if not images:
        return api_error(
            400, "Missing required parameter: 'image'.", "image", "missing_required_parameter"
        ), []
    if len(images) > MAX_INPUT_IMAGES:
        return api_error(
            400,
            f"Invalid 'image': array too long. Expected an array with maximum length "
            f"{MAX_INPUT_IMAGES}, but got an array with length {len(images)} instead.",
            "image",
            "array_above_max_length",
        ), []
    sizes = []
    for upload in images:
        problem = _file_problem(upload, "image", MAX_EDIT_IMAGE_BYTES)
        opened = None if problem else _opened(upload.data)
        if problem is None and opened is None:
            problem = api_error(
                400,
                "Invalid image file or mode for image 1, please check your image file.",
                "image",
                "invalid_image",
            )
        if problem is not None:
            return problem, []
        sizes.append(opened.size)
    if mask is not None:
        problem = _mask_problem(mask, sizes[0])
        if problem is not None:
            return problem, []
    return None, sizes


def _mask_problem(mask: FormFile, first: tuple[int, int]) -> tuple[int, dict] | None:
    problem = _file_problem(mask, "mask", MAX_MASK_BYTES)
    if problem is not None:
        return problem
    opened = _opened(mask.data)
    if opened is None:
        return api_error(400, "Invalid mask image file.", "mask", "invalid_image")
    if opened.mode not in ("RGBA", "LA") and "transparency" not in opened.info:
        return api_error(
            400,
            f"Invalid mask image format - mask image missing alpha channel (mode {opened.mode}).",
            "mask",
            "invalid_image_format",
        )
    if opened.size != first:
        return api_error(
            400,
            "Invalid mask image - mask and image must have the same dimensions. Got image "
            f"{first[0]}x{first[1]} and mask {opened.size[0]}x{opened.size[1]}.",
            "mask",
            "invalid_image_dimensions",
        )
    return None


def input_image_tokens(sizes: list[tuple[int, int]]) -> int:
    """What the input images count as, in the fake's arithmetic."""
    return sum(
        IMAGE_BASE_TOKENS + TOKENS_PER_TILE * math.ceil(w / 512) * math.ceil(h / 512)
        for w, h in sizes
    )


def _generation_body(fields: dict) -> dict:
    """The text fields as the generation handler takes them (numbers as numbers)."""
    body: dict = dict(fields)
    for name in _INT_FIELDS:
        if name in body and str(body[name]).lstrip("-").isdigit():
            body[name] = int(body[name])
    return body


def _with_image_tokens(payload: dict, tokens: int) -> dict:
    usage = payload.get("usage")
    if isinstance(usage, dict):
        details = dict(usage.get("input_tokens_details") or {})
        details["image_tokens"] = details.get("image_tokens", 0) + tokens
        usage["input_tokens_details"] = details
        usage["input_tokens"] = usage.get("input_tokens", 0) + tokens
        usage["total_tokens"] = usage.get("total_tokens", 0) + tokens
    return payload


def answer_edit(h: Any) -> None:
    """Answer one ``POST /v1/images/edits`` on handler ``h`` (the fake's ``_Handler``)."""
    fake = h.server_fake
    fault = fake.meet_fault(h, "edits")
    if fault == "timeout":
        return
    if fault in ERRORS:
        h._send_error(fault)
        return
    fields, files = read_form_parts(h.raw_body or b"", h.headers.get("content-type", ""))
    images = [f for f in files if f.name in ("image", "image[]")]
    mask = next((f for f in files if f.name == "mask"), None)
    fake.edits.append(EditCall(fields, images, mask))
    model = fields.get("model")
    if isinstance(model, str) and model.startswith("dall-e"):  # retired; GPT Image edits
        h._send_json(*api_error(400, f"Invalid model '{model}' for edits.", "model", None))
        return
    problem, sizes = edit_problem(images, mask)
    if problem is not None:
        h._send_json(*problem)
        return
    status, payload = fake.image_handler(fake, _generation_body(fields))
    if isinstance(payload, RawBody):  # a trickle or an endless body
        send_raw(h, status, payload)
        return
    if status == 200:
        payload = _with_image_tokens(payload, input_image_tokens(sizes))
    h._send_json(status, payload)
