"""``chatcanvas compare`` with an OpenAI-compatible image server from IMAGE_SERVERS beside
GPT Image: both lanes stored with their lineage (the server by name, never its key); a lane
without SERVER/MODEL and a broken IMAGE_SERVERS are told in words."""

from __future__ import annotations

import json

import pytest

from services.gallery_export import read_png_lineage
from tests.cli.conftest import Terminal, no_traceback, terminal_env
from tests.fakes.compatible_images import COMPAT_KEY, image_server_config
from tests.fakes.openai_server import FAKE_KEY


@pytest.fixture
def terminal(image_servers, compatible, tmp_path) -> Terminal:
    _images, openai_fake, _karlo = image_servers
    _handler, server = compatible
    env = terminal_env(
        tmp_path,
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=openai_fake.base_url,
        IMAGE_SERVERS=json.dumps([image_server_config(server)]),
    )
    return Terminal(env, tmp_path)


def test_a_compatible_lane_runs_beside_gpt_image(terminal, compatible, tmp_path):
    handler, _ = compatible
    out = tmp_path / "out"
    result = terminal.invoke(
        "compare", "A kite over dunes", "--lane", "openai:gpt-image-2",
        "--lane", "compatible:fake-sd/sd-turbo", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert handler.calls[-1].body["model"] == "sd-turbo"
    gallery = terminal.services().images
    run = gallery.get_run(gallery.get_image(gallery.image_ids()[0]).run_id)
    assert [(lane.provider, lane.model, lane.ok) for lane in run.lanes] == [
        ("openai", "gpt-image-2", True),
        ("compatible", "fake-sd/sd-turbo", True),
    ]
    assert "OpenAI-compatible server" in result.stderr
    lineages = [read_png_lineage(p.read_bytes()) for p in sorted(out.glob("*.png"))]
    assert any(lin.get("params", {}).get("server") == "fake-sd" for lin in lineages)
    assert COMPAT_KEY not in result.output + json.dumps(lineages)


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "compatible:SERVER/MODEL"), ("ko", "서버와 모델")]
)
def test_a_compatible_lane_without_a_server_says_which_exist(terminal, lang, words):
    result = terminal.invoke("--lang", lang, "compare", "A kite", "--lane", "compatible")
    assert result.exit_code != 0 and words in result.stderr
    assert "fake-sd/sd-turbo" in result.stderr and no_traceback(result.output)


def test_a_broken_image_servers_value_is_said_not_a_traceback(terminal):
    terminal.env["IMAGE_SERVERS"] = '[{"name": "x"'
    result = terminal.invoke("compare", "A kite", "--lane", "compatible:x/m")
    assert result.exit_code == 1 and no_traceback(result.output)
    assert "IMAGE_SERVERS" in result.stderr and "not valid JSON" in result.stderr
