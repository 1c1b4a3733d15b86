"""A grid leaving the app: one contact-sheet PNG (rows x columns of thumbnails, each row and
column labelled, each cell with its latency and cost) and a ZIP of every image with a
manifest (JSON and CSV) giving each file's row, column and full lineage. Reads through the
owner's image store, one image at a time."""

from __future__ import annotations

import csv
import io
import json
import textwrap
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from services.gallery_export import lineage, safe_name
from services.i18n import Translator
from services.storage.blobs import EXTENSIONS
from services.storage.db import utcnow
from services.storage.grids import StoredGrid
from services.storage.images import ImageStore, StoredLane
from services.studio.templates import label as step_label

GRID_EXPORT_FORMAT = "chatcanvas.grid.v1"
CELL = 192  # thumbnail side in the contact sheet
LABEL_WIDTH = 220  # the row labels' column
HEADER = 44  # the column labels' row
CAPTION = 22  # under each thumbnail: latency and cost
PAD = 8
# a font that has Hangul where the system has one (a row may be a Korean idea)
_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def row_label(grid: StoredGrid, row: int, t: Translator | None = None) -> str:
    """'1. Studio step: Expand: <prompt>' as the sheet names a row (in ``t``'s language;
    without one, the stored source and label as they are)."""
    data = grid.rows[row]
    source, name = str(data.get("source") or "typed"), str(data.get("label") or "")
    kind = t(f"grid.source.{source}", name=step_label(name, t)) if t else name or source
    return f"{row + 1}. {kind}: {data.get('prompt', '')}"


def column_label(grid: StoredGrid, column: int) -> str:
    lane = grid.lanes[column]
    return f"{column + 1}. {lane.get('provider')} · {lane.get('model')}"


def cell_caption(lane: StoredLane | None) -> str:
    """'3.2 s · $0.0110' (≈ an estimate), the error kind, or '…' for a cell not run."""
    if lane is None:
        return "…"
    if lane.error_kind:
        return f"error: {lane.error_kind}"
    seconds = f"{lane.latency_ms / 1000:.1f} s" if lane.latency_ms is not None else "? s"
    cost = "$?" if lane.cost_usd is None else f"${lane.cost_usd:.4f}"
    return f"{seconds} · {'≈' if lane.cost_is_estimate else ''}{cost}"


def _cell_lane(grid: StoredGrid, row: int, column: int) -> StoredLane | None:
    run = grid.run(row)
    return next((lane for lane in run.lanes if lane.index == column), None) if run else None


def _thumbnail(store: ImageStore, lane: StoredLane | None) -> Image.Image | None:
    image = store.get_image(lane.image_ids[0]) if lane and lane.image_ids else None
    if image is None:
        return None
    with Image.open(io.BytesIO(image.data)) as pil:
        pil.thumbnail((CELL, CELL))
        return pil.convert("RGB")


def contact_sheet(store: ImageStore, grid: StoredGrid, t: Translator | None = None) -> bytes:
    """The grid as one PNG: a header row of column labels, then each row's label (in ``t``'s
    language) and the first image of each of its cells with the cell's latency and cost."""
    rows, columns = len(grid.rows), len(grid.lanes)
    width = LABEL_WIDTH + columns * (CELL + PAD) + PAD
    height = HEADER + rows * (CELL + CAPTION + PAD) + PAD
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    font, small = _font(14), _font(12)
    for c in range(columns):
        x = LABEL_WIDTH + c * (CELL + PAD)
        draw.text((x, PAD), textwrap.shorten(column_label(grid, c), 30), fill="black", font=font)
    for r in range(rows):
        y = HEADER + r * (CELL + CAPTION + PAD)
        wrapped = textwrap.wrap(row_label(grid, r, t), 26)[:8]
        draw.multiline_text((PAD, y), "\n".join(wrapped), fill="black", font=small)
        for c in range(columns):
            x = LABEL_WIDTH + c * (CELL + PAD)
            lane = _cell_lane(grid, r, c)
            thumb = _thumbnail(store, lane)
            if thumb is None:
                draw.rectangle((x, y, x + CELL, y + CELL), fill="#e0e0e0")
            else:
                sheet.paste(thumb, (x + (CELL - thumb.width) // 2, y + (CELL - thumb.height) // 2))
            draw.text((x, y + CELL + 3), cell_caption(lane), fill="#333333", font=small)
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def _entries(store: ImageStore, grid: StoredGrid, archive: zipfile.ZipFile) -> list[dict]:
    entries = []
    for r, row in enumerate(grid.rows):
        run = grid.run(r)
        for c in range(len(grid.lanes)):
            lane = _cell_lane(grid, r, c)
            for n, image_id in enumerate(lane.image_ids if lane else (), start=1):
                image = store.get_image(image_id)
                if image is None:
                    continue  # deleted since
                ext = EXTENSIONS.get(image.mime, "bin")
                name = f"r{r + 1}_c{c + 1}_{n}_{safe_name(image.provider)}_{safe_name(image.model)}.{ext}"
                archive.writestr(name, image.data, compress_type=zipfile.ZIP_STORED)
                entries.append(
                    {
                        "file": name,
                        "grid_id": grid.id,
                        "row": r,
                        "column": c,
                        "row_source": row.get("source"),
                        "row_label": row.get("label"),
                        "studio_step": row.get("step"),
                        "vote": str(run.outcome) if run and run.outcome else None,
                        **lineage(image),
                    }
                )
    return entries


CSV_FIELDS = (
    "file",
    "row",
    "column",
    "row_source",
    "row_label",
    "provider",
    "model",
    "seed",
    "latency_ms",
    "cost_usd",
    "vote",
    "prompt",
    "run_id",
    "studio_run_id",
    "id",
)


def grid_zip(store: ImageStore, grid: StoredGrid, t: Translator | None = None) -> bytes:
    """Every image of the grid as stored, ``manifest.json`` (the grid's rows and columns and
    each file's lineage) and ``manifest.csv`` (one line per file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = _entries(store, grid, archive)
        manifest = {
            "format": GRID_EXPORT_FORMAT,
            "exported_at": utcnow().isoformat(),
            "grid_id": grid.id,
            "created_at": grid.created_at.isoformat(),
            "studio_run_id": grid.studio_run_id,
            "rows": list(grid.rows),
            "columns": list(grid.lanes),
            "votes": [str(run.outcome) if run and run.outcome else None for run in grid.runs],
            "images": entries,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        table = io.StringIO()
        writer = csv.DictWriter(table, CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(entries)
        archive.writestr("manifest.csv", table.getvalue())
        archive.writestr("contact_sheet.png", contact_sheet(store, grid, t))
    return buffer.getvalue()
