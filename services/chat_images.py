"""Images attached to a chat message: checked as hostile input, downscaled, re-encoded.

An attachment is untrusted bytes from a browser (or an imported file). Before it is stored or
sent it must be a PNG, JPEG, WebP or GIF by its first bytes (not its name), within the size
and pixel limits (a decompression bomb is refused before it is decoded), and decode fully.
It is then re-encoded (which also drops EXIF data such as a phone's GPS position): at most
``MAX_SIDE`` pixels on its longest side, PNG when it has transparency, JPEG otherwise; a GIF
gives its first frame. What is sent is a Chat Completions image part with a data URL.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from services.errors import ChatCanvasError, ErrorKind
from services.images.base import UNREADABLE_IMAGE, sniff_mime, within_pixel_limit

MAX_IMAGES = 4  # per message
MAX_UPLOAD_MB = 10  # per file, as uploaded (before downscaling)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_SIDE = 2048  # longest side sent to the model
FILE_TYPES = ("png", "jpg", "jpeg", "webp", "gif")
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
# What one image costs as prompt tokens, roughly (a 2048 px image in high detail is about
# 1,100 tokens on OpenAI's models); used only for estimates before sending.
IMAGE_TOKEN_ESTIMATE = 1_100


@dataclass(frozen=True)
class ChatImage:
    """One attachment, ready to store and send."""

    mime: str  # image/png or image/jpeg
    data: bytes
    width: int
    height: int

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def part(self) -> dict:
        """The Chat Completions content part for this image."""
        return {"type": "image_url", "image_url": {"url": self.data_url()}}


def refused(name: str, reason: str) -> ChatCanvasError:
    """ATTACHMENT_REFUSED for the file ``name``; ``reason`` (type, too_large, too_many,
    unreadable, too_many_pixels) picks the sentence."""
    return ChatCanvasError(
        ErrorKind.ATTACHMENT_REFUSED, f"{name}: {reason}", param=name, code=reason
    )


def prepare_image(data: bytes, name: str = "image") -> ChatImage:
    """The attachment ``data`` checked and re-encoded; ATTACHMENT_REFUSED when it is not one
    of the accepted types, too large, beyond the pixel limit or cannot be decoded."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise refused(name, "too_large")
    mime = sniff_mime(data)
    if mime is None:
        raise refused(name, "type")
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as image:
            if not within_pixel_limit(*image.size):
                raise refused(name, "too_many_pixels")
            image.seek(0)  # a GIF's (or animated WebP's) first frame
            image.load()
            return _reencoded(image)
    except ChatCanvasError:
        raise
    except UNREADABLE_IMAGE:
        raise refused(name, "unreadable") from None


def _reencoded(image: Image.Image) -> ChatImage:
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    frame = image.convert("RGBA" if transparent else "RGB")
    frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if transparent:
        frame.save(out, format="PNG", optimize=True)
        mime = "image/png"
    else:
        frame.save(out, format="JPEG", quality=85, optimize=True)
        mime = "image/jpeg"
    return ChatImage(mime, out.getvalue(), frame.width, frame.height)


def check_count(count: int) -> None:
    """ATTACHMENT_REFUSED when a message would carry more than MAX_IMAGES images."""
    if count > MAX_IMAGES:
        raise refused(str(count), "too_many")


def content(text: str, images: Sequence[ChatImage]) -> str | list[dict]:
    """A user message's ``content``: the text alone, or its text part then the image parts."""
    if not images:
        return text
    return [{"type": "text", "text": text}, *(image.part() for image in images)]
