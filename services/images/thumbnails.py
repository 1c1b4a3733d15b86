"""Gallery thumbnails: a small WebP of an image, made under the pixel limit."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from services.images.base import within_pixel_limit

THUMBNAIL_SIDE = 256


def make_thumbnail(
    data: bytes, side: int = THUMBNAIL_SIDE
) -> tuple[bytes | None, int | None, int | None]:
    """(WebP thumbnail at most ``side`` px, width, height) of an image; Nones when Pillow
    cannot read it or it is beyond the pixel limit (the original is still kept). Decodes at a
    reduced scale where the format allows, and converts only the small result."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if not within_pixel_limit(width, height):
                return None, None, None
            # palette images would be resized by nearest neighbour: convert those first
            if image.mode in ("P", "1"):
                small = image.convert("RGBA" if image.mode == "P" else "L")
            else:
                small = image
            small.thumbnail((side, side), reducing_gap=2.0)  # JPEG draft, then reduce()
            thumb = small.convert("RGBA" if small.mode in ("RGBA", "LA", "PA") else "RGB")
            out = io.BytesIO()
            thumb.save(out, format="WEBP", quality=80)
            return out.getvalue(), width, height
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None, None, None


def blurred_preview(data: bytes, side: int = THUMBNAIL_SIDE) -> bytes | None:
    """A small, heavily blurred WebP of an image (what a flagged image shows until the person
    asks to see it); None when Pillow cannot read it."""
    thumb, _, _ = make_thumbnail(data, side)
    if thumb is None:
        return None
    with Image.open(io.BytesIO(thumb)) as image:
        blurred = image.filter(ImageFilter.GaussianBlur(radius=max(image.size) / 10))
        out = io.BytesIO()
        blurred.save(out, format="WEBP", quality=60)
        return out.getvalue()
