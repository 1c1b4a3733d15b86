"""``chatcanvas compare`` against the fake image servers (GPT Image behind the fake OpenAI API,
and Karlo): both lanes at once, stored in the gallery with their lineage, PNGs written with
it, a failing lane reported in the user's language, unknown lanes refused."""

from __future__ import annotations

import signal
import time

import pytest

from services.gallery_export import read_png_lineage
from tests.cli.conftest import Terminal, no_traceback, terminal_env
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY


@pytest.fixture
def images_terminal(image_servers, tmp_path) -> Terminal:
    _images, openai_fake, karlo_fake = image_servers
    env = terminal_env(
        tmp_path,
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=openai_fake.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=karlo_fake.base_url,
    )
    return Terminal(env, tmp_path)


def test_both_lanes_are_stored_in_the_gallery_and_written_with_their_lineage(
    images_terminal, image_servers, tmp_path
):
    out = tmp_path / "out"
    result = images_terminal.invoke(
        "compare", "A red fox in the snow", "--lane", "openai:gpt-image-2", "--lane", "karlo",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    gallery = images_terminal.services().images
    (run,) = [gallery.get_run(gallery.get_image(i).run_id) for i in gallery.image_ids()[:1]]
    assert [(lane.provider, lane.model, lane.ok) for lane in run.lanes] == [
        ("openai", "gpt-image-2", True),
        ("karlo", "karlo-v2.1", True),
    ]
    assert run.prompt == "A red fox in the snow"
    written = sorted(out.glob("*.png"))
    assert len(written) == 2 and all(str(path) in result.stdout for path in written)
    lineages = [read_png_lineage(path.read_bytes()) for path in written]
    assert {lineage["provider"] for lineage in lineages} == {"openai", "karlo"}
    assert all(lineage["prompt"] == "A red fox in the snow" for lineage in lineages)
    assert f"compare?run={run.id}" in result.stderr  # where the web app opens it
    _images, _openai, karlo_fake = image_servers
    assert karlo_fake.t2i_calls()[-1].body["prompt"] == "A red fox in the snow"


def test_a_korean_prompt_reaches_karlo_in_english(images_terminal, image_servers):
    _images, openai_fake, karlo_fake = image_servers
    openai_fake.reply = lambda messages, model: "A red fox walking in the snow"
    try:
        result = images_terminal.invoke("compare", "눈 속을 걷는 붉은 여우", "--lane", "karlo")
    finally:
        from tests.fakes.openai_server import default_reply

        openai_fake.reply = default_reply
    assert result.exit_code == 0, result.output
    assert "A red fox walking in the snow" in result.stderr  # the English sent is shown
    assert karlo_fake.t2i_calls()[-1].body["prompt"] == "A red fox walking in the snow"


@pytest.mark.parametrize(("lang", "sentence"), [("en", "REST API key"), ("ko", "REST API 키")])
def test_a_failing_lane_is_reported_and_the_other_kept(images_terminal, lang, sentence, tmp_path):
    images_terminal.env["KAKAO_REST_API_KEY"] = "wrong-kakao-key-1234"
    result = images_terminal.invoke(
        "--lang", lang, "compare", "A lighthouse at dusk", "--lane", "openai", "--lane", "karlo"
    )
    assert result.exit_code == 1
    assert sentence in result.stderr and no_traceback(result.output)
    gallery = images_terminal.services().images
    run = gallery.get_run(gallery.get_image(gallery.image_ids()[0]).run_id)
    assert [lane.ok for lane in run.lanes] == [True, False]


def test_an_unknown_lane_is_refused_before_anything_is_sent(images_terminal, image_servers):
    images, _openai, karlo_fake = image_servers
    calls = (len(images.calls), len(karlo_fake.t2i_calls()))
    result = images_terminal.invoke("compare", "a cat", "--lane", "midjourney")
    assert result.exit_code == 1
    assert "midjourney" in result.stderr and "openai" in result.stderr
    assert (len(images.calls), len(karlo_fake.t2i_calls())) == calls
    assert images_terminal.services().images.image_ids() == []


def test_compare_as_a_real_process(images_terminal, tmp_path):
    done = images_terminal.run("compare", "A paper boat", "--out", str(tmp_path / "boats"))
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "boats").glob("*.png"))) == 2


def test_ctrl_c_keeps_the_lanes_already_sent(images_terminal, image_servers):
    """SIGINT while both lanes are out: they are paid for, so the process waits for them,
    stores them and says where; exit status 130."""
    images, _openai, karlo_fake = image_servers
    images.latency = karlo_fake.latency = 2.0
    before = len(karlo_fake.t2i_calls())  # the servers serve the whole module
    try:
        process = images_terminal.start("compare", "A slow red fox")
        deadline = time.monotonic() + 60
        while len(karlo_fake.t2i_calls()) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(karlo_fake.t2i_calls()) > before, "the Karlo lane never started"
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        images.latency = karlo_fake.latency = 0.0
    assert process.returncode == 130, err.decode()
    assert b"kept in the gallery" in err and no_traceback(err)
    gallery = images_terminal.services().images
    run = gallery.get_run(gallery.get_image(gallery.image_ids()[0]).run_id)
    assert [lane.ok for lane in run.lanes] == [True, True]


def test_a_terminal_comparison_is_in_the_web_apps_gallery_with_its_lineage(
    images_terminal, tmp_path, monkeypatch
):
    from tests.app.conftest import new_app

    assert images_terminal.invoke("compare", "A heron at dawn").exit_code == 0
    monkeypatch.setenv("CHATCANVAS_SKIP_DOTENV", "1")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "KAKAO_REST_API_KEY", "KARLO_BASE_URL"):
        monkeypatch.setenv(name, images_terminal.env[name])
    monkeypatch.setenv("DATABASE_URL", images_terminal.env["DATABASE_URL"])
    at = new_app().run()
    at.switch_page("app_pages/gallery.py").run()
    assert not at.exception, at.exception
    opened = [b for b in at.button if b.key.startswith("gallery_open_")]
    assert len(opened) == 2
    opened[0].click().run()
    shown = "\n".join(str(e.value) for e in (*at.markdown, *at.caption))
    assert "A heron at dawn" in shown and "Comparison run" in shown  # the lineage view


def test_images_the_database_refuses_are_written_to_files(images_terminal, tmp_path, monkeypatch):
    """They are paid for: a lane the store cannot save ends up on disk, said so, exit 1."""
    from sqlalchemy.exc import OperationalError

    from services.storage.images import ImageStore

    def refuse(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(ImageStore, "save_lane", refuse)
    out = tmp_path / "kept"
    result = images_terminal.invoke("compare", "A lighthouse", "--lane", "karlo", "--out", str(out))
    assert result.exit_code == 1
    files = list(out.glob("unsaved_lane1_*"))
    assert len(files) == 1 and files[0].read_bytes()[:4] == b"RIFF"  # Karlo answers WebP
    assert "not in the gallery" in result.stderr and no_traceback(result.output)


def test_a_local_lane_beside_gpt_image(images_terminal, tmp_path, tiny_model):
    """The local engine from the terminal: a diffusers folder named on the command line."""
    out = tmp_path / "local-out"
    result = images_terminal.invoke(
        "compare", "A red fox in the snow", "--lane", "openai:gpt-image-2",
        "--lane", f"local:{tiny_model}", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    gallery = images_terminal.services().images
    run = gallery.get_run(gallery.get_image(gallery.image_ids()[0]).run_id)
    assert [(lane.provider, lane.ok) for lane in run.lanes] == [("openai", True), ("local", True)]
    lineages = [read_png_lineage(path.read_bytes()) for path in sorted(out.glob("*.png"))]
    local = next(lineage for lineage in lineages if lineage["provider"] == "local")
    assert local["params"]["model_path"] == tiny_model
