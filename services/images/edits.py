"""Image edits through ``client.images.edit``: an instruction, the image to change (the
first input), optional reference images (up to 16 inputs in all) and an optional mask.

Every file is untrusted bytes until checked here, before anything is sent: an input must be a
PNG, JPEG or WebP by its first bytes, under the API's 50 MB, within the pixel limit and decode
fully (a reference in another format, a GIF, is re-encoded by the chat attachment check); a
mask must be a PNG under 4 MB with an alpha channel, of exactly the first image's size. A
refusal is ATTACHMENT_REFUSED with the reason as its code (``services/wording``), so nothing
is paid for a file the API would refuse. The call, its answer, the price (input image tokens
from ``usage`` at the image-input rate) and the error mapping are the generation's
(:class:`OpenAIImageProvider`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from services.chat_images import prepare_image, refused
from services.errors import ChatCanvasError
from services.images.base import (
    UNREADABLE_IMAGE,
    ImageRequest,
    ImageResult,
    bad_request,
    sniff_mime,
    within_pixel_limit,
)
from services.images.openai_images import PROVIDER, OpenAIImageProvider, build_image_params

MAX_EDIT_IMAGES = 16  # inputs in all: the image to change and its references
MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
INPUT_TYPES = ("image/png", "image/jpeg", "image/webp")
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class EditFile:
    """One checked file, as sent: its name, type and pixel size."""

    name: str
    data: bytes = field(repr=False)
    mime: str
    width: int
    height: int

    def upload(self) -> tuple[str, bytes, str]:
        """The SDK's file tuple."""
        return (self.name, self.data, self.mime)


@dataclass(frozen=True)
class EditRequest:
    """What an edit sends. ``image``: the image to change (bytes); ``references``: more input
    images as (name, bytes); ``mask``: a PNG whose transparent pixels mark what may change."""

    instruction: str
    model: str
    image: bytes = field(repr=False)
    mask: bytes | None = field(default=None, repr=False)
    references: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    count: int = 1
    size: str | None = None
    quality: str | None = None
    output_format: str | None = None

    def as_image_request(self) -> ImageRequest:
        """The same as a generation request (what the budget estimates and the store keeps)."""
        return ImageRequest(
            prompt=self.instruction,
            model=self.model,
            size=self.size,
            count=self.count,
            quality=self.quality,
            output_format=self.output_format,
        )


def _decoded(
    data: bytes, name: str, formats: tuple[str, ...], wrong_type: str = "type"
) -> tuple[str, int, int, str]:
    """(mime, width, height, mode) of ``data`` after decoding it fully; ATTACHMENT_REFUSED
    when it is not one of ``formats`` (code ``wrong_type``), too large in pixels, or cannot
    be decoded."""
    mime = sniff_mime(data)
    if mime not in formats:
        raise refused(name, wrong_type)
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as image:
            if not within_pixel_limit(*image.size):
                raise refused(name, "too_many_pixels")
            image.load()
            transparent = "transparency" in image.info
            mode = "RGBA" if transparent else image.mode
            return mime, image.width, image.height, mode
    except ChatCanvasError:
        raise
    except UNREADABLE_IMAGE:
        raise refused(name, "unreadable") from None


def input_file(data: bytes, name: str) -> EditFile:
    """The image to change, checked as it will be sent (never re-encoded: a mask must keep
    matching its size)."""
    if len(data) > MAX_INPUT_BYTES:
        raise refused(name, "too_large")
    mime, width, height, _ = _decoded(data, name, INPUT_TYPES, "input_type")
    return EditFile(_named(name, mime), data, mime, width, height)


def reference_file(data: bytes, name: str) -> EditFile:
    """A reference image: checked and re-encoded like a chat attachment (GIF becomes its
    first frame, EXIF goes, at most 2048 px)."""
    prepared = prepare_image(data, name)
    return EditFile(
        _named(name, prepared.mime), prepared.data, prepared.mime, prepared.width, prepared.height
    )


def mask_file(data: bytes, image: EditFile, name: str = "mask.png") -> EditFile:
    """The mask, checked against the image it applies to: a PNG under 4 MB with an alpha
    channel and the same size (``mask_size`` names both sizes in the error's detail)."""
    if len(data) > MAX_MASK_BYTES:
        raise refused(name, "mask_too_large")
    mime, width, height, mode = _decoded(data, name, ("image/png",), "mask_type")
    if mode not in ("RGBA", "LA", "PA"):
        raise refused(name, "mask_alpha")
    if (width, height) != (image.width, image.height):
        err = refused(name, "mask_size")
        err.detail = f"{name}: {width}x{height}, image {image.width}x{image.height}"
        raise err
    return EditFile(_named(name, mime), data, mime, width, height)


def _named(name: str, mime: str) -> str:
    stem = (name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image")[:60]
    return f"{stem}.{_EXTENSIONS[mime]}"


def edit_files(request: EditRequest) -> tuple[list[EditFile], EditFile | None]:
    """Every input file and the mask, checked (raises ATTACHMENT_REFUSED, nothing sent)."""
    if 1 + len(request.references) > MAX_EDIT_IMAGES:
        raise refused(str(1 + len(request.references)), "too_many_inputs")
    first = input_file(request.image, "image.png")
    inputs = [first, *(reference_file(data, name) for name, data in request.references)]
    mask = mask_file(request.mask, first) if request.mask is not None else None
    return inputs, mask


class OpenAIImageEditor(OpenAIImageProvider):
    """OpenAI's image edits; the generation provider's client, limits and pricing."""

    def edit(self, request: EditRequest) -> ImageResult:
        """Edit ``request.image``; raises ChatCanvasError (provider "openai"): refusals of
        ours (ATTACHMENT_REFUSED, BAD_REQUEST) before anything is sent."""
        caps = self.capabilities(request.model)
        if caps.family != "gpt-image":
            raise bad_request(f"{request.model} does not edit images", "model", PROVIDER)
        params = build_image_params(caps, request.as_image_request())
        inputs, mask = edit_files(request)
        # each file as sent, and as the lineage keeps it (its name, never its bytes)
        files: dict[str, tuple[object, object]] = {
            "image": (
                inputs[0].upload() if len(inputs) == 1 else [f.upload() for f in inputs],
                [f.name for f in inputs],
            )
        }
        if mask is not None:
            files["mask"] = (mask.upload(), mask.name)
        return self._result(caps, params, files)
