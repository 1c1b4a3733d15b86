"""``chatcanvas grid`` against the fake image servers: the estimate first, every cell stored as
rows of comparisons, the contact sheet and the ZIP written, a grid above the threshold refused
without --yes, rows from a studio run."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.cli.conftest import Terminal, terminal_env
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY


@pytest.fixture
def grid_terminal(image_servers, tmp_path) -> Terminal:
    images, openai_fake, karlo_fake = image_servers
    images.calls.clear()
    karlo_fake.calls.clear()
    env = terminal_env(
        tmp_path,
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=openai_fake.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=karlo_fake.base_url,
    )
    return Terminal(env, tmp_path)


def test_a_grid_runs_every_cell_and_writes_its_exports(grid_terminal, image_servers, tmp_path):
    sheet, archive = tmp_path / "sheet.png", tmp_path / "grid.zip"
    result = grid_terminal.invoke(
        "grid", "a red fox", "a blue fox", "--lane", "openai:gpt-image-2", "--lane", "karlo",
        "--sheet", str(sheet), "--zip", str(archive),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Cells: 4" in result.stderr and "grid?grid=" in result.stderr
    assert sheet.read_bytes().startswith(b"\x89PNG")
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    assert [(e["row"], e["column"]) for e in manifest["images"]] == [
        (0, 0), (0, 1), (1, 0), (1, 1)
    ]  # fmt: skip
    grid_id = manifest["grid_id"]
    grid = grid_terminal.services().grids.get(grid_id)
    assert [run.prompt for run in grid.runs] == ["a red fox", "a blue fox"]


def test_above_the_threshold_nothing_is_sent_without_yes(grid_terminal, image_servers):
    grid_terminal.env["GRID_CONFIRM_USD"] = "0.0001"
    images, _, _ = image_servers
    result = grid_terminal.invoke("grid", "a red fox", "--lane", "openai:gpt-image-2")
    assert result.exit_code != 0 and "Add --yes" in result.stderr and images.calls == []
    result = grid_terminal.invoke("grid", "a red fox", "--lane", "openai:gpt-image-2", "--yes")
    assert result.exit_code == 0, result.output
    assert len(images.calls) == 1


def test_an_unknown_studio_run_is_refused(grid_terminal):
    result = grid_terminal.invoke("grid", "--studio", "nope", "--lane", "karlo")
    assert result.exit_code != 0 and "There is no studio run nope" in result.stderr
