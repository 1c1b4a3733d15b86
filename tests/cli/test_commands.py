"""``chatcanvas studio``, ``models``, ``costs`` and ``gallery export`` against the fakes."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from services.errors import ErrorKind
from services.i18n import Translator
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.studio import StepStatus
from tests.cli.conftest import Terminal, no_traceback, terminal_env
from tests.cli.test_errors import sentence
from tests.fakes.karlo_server import render_image
from tests.fakes.openai_server import FAKE_KEY

STEP_TITLES = ("Describe", "Elaborate", "Translate into English", "Write the image prompt")


# -- studio --------------------------------------------------------------------------------
def test_studio_streams_each_step_under_its_title_then_the_final_prompt(terminal):
    result = terminal.invoke("studio", "a cat on the moon")
    assert result.exit_code == 0, result.output
    positions = [result.stdout.index(title) for title in (*STEP_TITLES, "Final prompt")]
    assert positions == sorted(positions)
    runs = terminal.services().chains.list_runs()
    assert len(runs) == 1
    run = terminal.services().chains.get_run(runs[0].id)
    assert [s.status for s in run.steps] == [StepStatus.DONE] * len(STEP_TITLES)
    assert run.final_prompt and run.final_prompt.split()[0] in result.stdout.split("Final")[-1]
    assert f"studio?run={run.id}" in result.stderr  # where the web app opens it


def test_studio_takes_a_chain_by_id_or_name_and_refuses_an_unknown_one(terminal):
    assert terminal.invoke("studio", "a fox", "--chain", "quick").exit_code == 0
    refused = terminal.invoke("studio", "a fox", "--chain", "no-such-chain")
    assert refused.exit_code == 1
    assert "no-such-chain" in refused.stderr and "tutorial" in refused.stderr
    korean = terminal.invoke("--lang", "ko", "studio", "여우", "--chain", "없는")
    assert korean.exit_code == 1 and "체인이 없습니다" in korean.stderr


@pytest.mark.parametrize("lang", ("en", "ko"))
def test_a_failing_step_is_reported_and_the_run_kept(terminal, fake, lang):
    fake.set_fault("insufficient_quota", times=2)
    result = terminal.invoke("--lang", lang, "studio", "a cat")
    assert result.exit_code == 1
    assert sentence(ErrorKind.NO_CREDIT, lang) in result.stderr
    assert no_traceback(result.output)
    run = terminal.services().chains.get_run(terminal.services().chains.list_runs()[0].id)
    assert run.steps[0].status == StepStatus.ERROR


def test_studio_as_a_real_process(terminal):
    done = terminal.run("studio", "a lighthouse in fog")
    assert done.returncode == 0, done.stderr
    assert all(title in done.stdout for title in STEP_TITLES)


# -- models ----------------------------------------------------------------------------------
def test_models_merges_the_live_list_with_the_catalog(terminal, fake):
    result = terminal.invoke("models")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if " gpt-5-mini " in x)
    assert "2026-12-11" in line and "$0.25" in line  # the live shutdown date, the catalog price
    assert "gpt-image-2" in result.stdout
    assert "/models" in fake.requests[-1].path


def test_models_without_a_key_shows_the_catalog_and_says_why(fake, tmp_path):
    terminal = Terminal(terminal_env(tmp_path, OPENAI_API_KEY=None), tmp_path)
    result = terminal.invoke("--lang", "ko", "models")
    assert result.exit_code == 0
    assert sentence(ErrorKind.NO_KEY, "ko") in result.stderr
    assert Translator("ko")("cli.models.catalog_only") in result.stderr
    assert "gpt-5.4-mini" in result.stdout


# -- costs -----------------------------------------------------------------------------------
def test_costs_sums_what_the_chat_spent(terminal):
    assert "Nothing spent" in terminal.invoke("costs").stderr
    terminal.invoke("ask", "a priced question")
    result = terminal.invoke("costs")
    assert result.exit_code == 0
    cost = terminal.services().conversations.totals(terminal.services().conversations.list()[0].id)
    assert f"${cost.cost_usd:.6f}" in result.stdout
    assert "a priced question" in result.stdout  # the costliest conversations


# -- gallery ---------------------------------------------------------------------------------
def add_images(terminal: Terminal) -> None:
    image = GeneratedImage(render_image(64, 48, "png", seed=1), "image/png", seed=7)
    result = ImageResult("openai", "gpt-image-2", (image,), {"model": "gpt-image-2"}, cost_usd=0.04)
    terminal.services().images.save_run(
        "a red kite", [(ImageRequest("a red kite", "gpt-image-2"), result)]
    )


def test_gallery_export_writes_the_images_with_their_lineage(terminal, tmp_path):
    add_images(terminal)
    out = tmp_path / "gallery.zip"
    result = terminal.invoke("gallery", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        lineage = json.loads(archive.read("lineage.json"))
        assert len(lineage["images"]) == 1
        assert lineage["images"][0]["prompt"] == "a red kite"
        assert archive.read(lineage["images"][0]["file"]).startswith(b"\x89PNG")
    assert "1" in result.stderr and str(out) in result.stderr


def test_gallery_export_of_nothing_or_to_a_folder_that_does_not_exist(terminal, tmp_path):
    empty = terminal.invoke("gallery", "export", "--out", str(tmp_path / "g.zip"))
    assert empty.exit_code == 1 and "No images" in empty.stderr
    add_images(terminal)
    missing = terminal.invoke("gallery", "export", "--out", str(tmp_path / "no" / "g.zip"))
    assert missing.exit_code == 1 and "Could not write" in missing.stderr
    assert no_traceback(missing.output)


def test_no_key_is_needed_for_what_reads_the_database(fake, tmp_path):
    terminal = Terminal(terminal_env(tmp_path, OPENAI_API_KEY=None), tmp_path)
    assert terminal.invoke("costs").exit_code == 0
    assert FAKE_KEY not in terminal.invoke("costs").output


# -- nothing from outside drives the terminal ------------------------------------------------
HOSTILE = "gpt-x\x1b]0;PWNED\x07\x1b[2J[bold]"


def test_a_hostile_model_id_reaches_the_terminal_as_plain_text(terminal, fake):
    from tests.fakes.openai_server import FakeModel

    fake.models.append(FakeModel(id=HOSTILE))
    try:
        result = terminal.invoke("models")
    finally:
        fake.models.pop()
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "gpt-x" in result.stdout  # shown (the cell may wrap), inert


def test_a_hostile_error_detail_reaches_the_terminal_as_plain_text():
    from rich.console import Console

    from chatcanvas.session import Session
    from services.errors import ChatCanvasError

    err = io.StringIO()
    session = Session(Translator("en"), err=Console(file=err, force_terminal=True))
    session.report(ChatCanvasError(ErrorKind.BAD_REQUEST, f"bad {HOSTILE}"))
    session.warn(f"title {HOSTILE}")
    assert "PWNED" in err.getvalue() and "\x1b]0;" not in err.getvalue()
    assert "\x1b[2J" not in err.getvalue()
