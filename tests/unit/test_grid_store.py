"""The grid store on SQLite and PostgreSQL: a grid with its rows' comparison runs, two owners
in one database (another owner's grid answers exactly like a missing one), and the exports:
the contact sheet (rows x columns of thumbnails with labels) and the ZIP with its manifest."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from PIL import Image

from services.errors import ChatCanvasError, ErrorKind
from services.grid_export import CELL, HEADER, LABEL_WIDTH, contact_sheet, grid_zip, row_label
from services.i18n import Translator
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage.db import Database
from services.storage.grids import GridStore
from services.storage.images import ImageStore
from services.votes import TIE
from tests.fakes.karlo_server import render_image

ROWS = [
    {"prompt": "a red fox", "source": "typed", "label": ""},
    {"prompt": "화성의 여우", "source": "idea", "label": "", "studio_run_id": "s1"},
]
LANES = [{"provider": "openai", "model": "gpt-image-2"}, {"provider": "karlo", "model": "k"}]


def result(provider: str, seed: int) -> ImageResult:
    png = render_image(64, 48, "png", seed=seed)
    image = GeneratedImage(png, "image/png", seed=seed)
    return ImageResult(provider, "m", (image,), {"n": 1}, (seed,), 1500, 0.011)


def make_grid(grids: GridStore, *, failed: bool = True) -> str:
    grid_id = grids.create(ROWS, LANES, concurrency=2, studio_run_id="s1")
    for r, row in enumerate(ROWS):
        run_id = grids.start_row(grid_id, r, row["prompt"], studio_run_id=row.get("studio_run_id"))
        request = ImageRequest(row["prompt"], "m")
        grids.images.save_lane(run_id, 0, request, result("openai", r))
        outcome = (
            ChatCanvasError(ErrorKind.RATE_LIMIT, "slow down", provider="karlo")
            if failed and r == 1
            else result("karlo", 10 + r)
        )
        grids.images.save_lane(run_id, 1, request, outcome)
    return grid_id


@pytest.fixture
def stores(database: Database) -> tuple[GridStore, GridStore]:
    return (
        GridStore(database, "owner-a", ImageStore(database, "owner-a")),
        GridStore(database, "owner-b", ImageStore(database, "owner-b")),
    )


def test_a_grid_is_kept_with_its_rows_runs(stores):
    a, _ = stores
    grid_id = make_grid(a)
    grid = a.get(grid_id)
    assert grid is not None and list(grid.rows) == ROWS and list(grid.lanes) == LANES
    assert grid.concurrency == 2 and grid.studio_run_id == "s1"
    assert [run.prompt for run in grid.runs] == ["a red fox", "화성의 여우"]
    assert grid.runs[1].studio_run_id == "s1"
    assert grid.runs[1].lanes[1].error_kind == "rate_limit"
    a.images.record_vote(grid.runs[0].id, TIE)
    assert a.get(grid_id).runs[0].outcome == TIE
    assert [(s.id, s.rows, s.columns, s.first_prompt) for s in a.recent()] == [
        (grid_id, 2, 2, "a red fox")
    ]


def test_a_row_not_started_yet_has_no_run(stores):
    a, _ = stores
    grid_id = a.create(ROWS, LANES, concurrency=1)
    a.start_row(grid_id, 1, "화성의 여우")
    grid = a.get(grid_id)
    assert grid.runs[0] is None and grid.run(0) is None and grid.run(1).prompt == "화성의 여우"
    assert grid.run(7) is None


def test_another_owners_grid_is_exactly_a_missing_one(stores):
    a, b = stores
    grid_id = make_grid(a)
    assert b.get(grid_id) is None and b.get("0" * 32) is None and b.recent() == []
    for wanted in (grid_id, "0" * 32):
        with pytest.raises(KeyError):
            b.start_row(wanted, 2, "a row of mine")
    run_ids = [run.id for run in a.get(grid_id).runs]
    assert all(b.images.get_run(run_id) is None for run_id in run_ids)
    assert len(a.get(grid_id).runs) == 2 and a.images.count() == 3  # nothing of B's got in


def test_the_contact_sheet_has_a_cell_per_row_and_column(stores):
    a, _ = stores
    grid = a.get(make_grid(a))
    png = contact_sheet(a.images, grid, Translator("ko"))
    assert row_label(grid, 1, Translator("ko")) == "2. 스튜디오 아이디어: 화성의 여우"
    assert row_label(grid, 1) == "2. idea: 화성의 여우"
    with Image.open(io.BytesIO(png)) as sheet:
        assert sheet.format == "PNG"
        assert sheet.width >= LABEL_WIDTH + 2 * CELL and sheet.height >= HEADER + 2 * CELL
        sheet = sheet.convert("RGB")
        # the failed cell (row 2, column 2) is a grey box; the others hold an image
        failed = sheet.getpixel((LABEL_WIDTH + CELL + 8 + CELL // 2, HEADER + CELL + 30 + 5))
        assert failed == (224, 224, 224)


def test_the_zip_holds_every_image_and_a_manifest_with_lineage(stores):
    a, _ = stores
    grid_id = make_grid(a)
    a.images.record_vote(a.get(grid_id).runs[0].id, TIE)
    archive = zipfile.ZipFile(io.BytesIO(grid_zip(a.images, a.get(grid_id))))
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "chatcanvas.grid.v1" and manifest["grid_id"] == grid_id
    assert manifest["rows"] == ROWS and manifest["columns"] == LANES
    assert manifest["votes"] == ["tie", None]
    images = manifest["images"]
    assert [(e["row"], e["column"]) for e in images] == [(0, 0), (0, 1), (1, 0)]
    assert {e["file"] for e in images} | {
        "manifest.json",
        "manifest.csv",
        "contact_sheet.png",
    } == names
    first = images[0]
    assert first["prompt"] == "a red fox" and first["provider"] == "openai"
    assert first["run_id"] == a.get(grid_id).runs[0].id and first["vote"] == "tie"
    assert images[2]["studio_run_id"] == "s1" and images[2]["row_source"] == "idea"
    assert archive.read(first["file"]) == a.images.get_image(first["id"]).data
    lines = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [(line["row"], line["column"], line["file"]) for line in lines] == [
        (str(e["row"]), str(e["column"]), e["file"]) for e in images
    ]
