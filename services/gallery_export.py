"""Images leaving the app with their lineage: a PNG carrying it in an iTXt chunk, and a ZIP
of the originals with ``lineage.json``. Reads through the image store, one image at a time."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from PIL import Image, PngImagePlugin

from services.storage.blobs import EXTENSIONS
from services.storage.db import utcnow
from services.storage.images import ImageStore, StoredImage

LINEAGE_FORMAT = "chatcanvas.image.v1"
EXPORT_FORMAT = "chatcanvas.images.v1"
LINEAGE_PNG_KEY = "chatcanvas:lineage"


def lineage(image: StoredImage) -> dict:
    """Where this image came from, as JSON-ready data (never a key: params are as sent
    to the provider, and credentials travel in headers)."""
    return {
        "format": LINEAGE_FORMAT,
        "id": image.id,
        "provider": image.provider,
        "model": image.model,
        "prompt": image.prompt,
        "negative_prompt": image.negative_prompt,
        "revised_prompt": image.revised_prompt,
        "params": image.params,
        "seed": image.seed,
        "mime_type": image.mime,
        "width": image.width,
        "height": image.height,
        "latency_ms": image.latency_ms,
        "cost_usd": image.cost_usd,
        "cost_is_estimate": image.cost_is_estimate,
        "nsfw": image.nsfw,
        "nsfw_score": image.nsfw_score,
        "run_id": image.run_id,
        "lane_index": image.lane_index,
        "studio_run_id": image.studio_run_id,
        "created_at": image.created_at.isoformat(),
    }


def png_with_lineage(store: ImageStore, image_id: str) -> bytes:
    """The image as PNG with its lineage JSON in an iTXt chunk (``chatcanvas:lineage``) and
    the prompt as ``Description``. Raises KeyError for an unknown id (or another owner's)."""
    image = store.get_image(image_id)
    if image is None:
        raise KeyError(image_id)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(LINEAGE_PNG_KEY, json.dumps(lineage(image), ensure_ascii=False))
    info.add_itxt("Description", image.prompt)
    info.add_text("Software", "ChatCanvas")
    with Image.open(io.BytesIO(image.data)) as pil:
        if pil.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I"):
            pil = pil.convert("RGBA")
        out = io.BytesIO()
        pil.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def read_png_lineage(png: bytes) -> dict | None:
    """The lineage embedded by :func:`png_with_lineage`, or None."""
    with Image.open(io.BytesIO(png)) as image:
        text = getattr(image, "text", {}) or {}
        raw = text.get(LINEAGE_PNG_KEY)
    return json.loads(raw) if raw else None


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "image"


def export_zip(store: ImageStore, image_ids: Iterable[str] | None = None) -> bytes:
    """A ZIP of the images (original bytes) and ``lineage.json`` describing each file; every
    image of the store's owner when ``image_ids`` is None. Unknown ids and other owners' ids
    are skipped. Loads one image at a time."""
    buffer = io.BytesIO()
    write_zip(store, buffer, image_ids)
    return buffer.getvalue()


def write_zip(
    store: ImageStore, target: str | Path | IO[bytes], image_ids: Iterable[str] | None = None
) -> int:
    """:func:`export_zip` written to a path or binary file (a terminal app's
    ``gallery export --out FILE.zip``); returns how many images it holds."""
    ids = store.image_ids() if image_ids is None else image_ids
    entries = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, image_id in enumerate(dict.fromkeys(ids), start=1):
            image = store.get_image(image_id)
            if image is None:
                continue
            ext = EXTENSIONS.get(image.mime, "bin")
            name = (
                f"{n:03d}_{safe_name(image.provider)}_{safe_name(image.model)}_{image.id[:8]}.{ext}"
            )
            # images are compressed already: store them as they are
            archive.writestr(name, image.data, compress_type=zipfile.ZIP_STORED)
            entries.append({"file": name, **lineage(image)})
        manifest = {"format": EXPORT_FORMAT, "exported_at": utcnow().isoformat(), "images": entries}
        archive.writestr("lineage.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return len(entries)


def write_pngs(store: ImageStore, image_ids: Iterable[str], directory: str | Path) -> list[Path]:
    """Each image as a PNG with its lineage embedded, written into ``directory`` (made if
    missing) as ``<provider>_<model>_<id8>.png``; unknown and other owners' ids are skipped.
    Returns the paths written (a terminal app's ``compare --out DIR``)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for image_id in dict.fromkeys(image_ids):
        image = store.get_image(image_id)
        if image is None:
            continue
        path = folder / f"{safe_name(image.provider)}_{safe_name(image.model)}_{image.id[:8]}.png"
        path.write_bytes(png_with_lineage(store, image_id))
        written.append(path)
    return written
