"""Issue #12's whole comparison in a real browser: a GPT Image lane, a lane on the deployer's
OpenAI-compatible server (the second fake, its own port) and a local-engine lane (the tiny
random pipeline built in code) run together and show their images side by side, each with
its lineage. Skips without torch (``tiny_model``); steps and Cancel: test_local_lane.py."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import FAKE_KEY, RunningApp, app_environment, choose
from tests.fakes.compatible_images import COMPAT_KEY, image_server_config

pytestmark = pytest.mark.e2e
LANE = ".st-key-compare_lane_{}"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'
PROVIDER = '[class*="st-key-compare_"][class*="_provider"] >> nth={}'
HAS_VALUE = """(value) => [...document.querySelectorAll('[data-testid="stSelectbox"] input')]
    .some((input) => input.value === value)"""


@pytest.fixture(scope="module")
def three_engine_app(fake_openai, compatible_server, tmp_path_factory, tiny_model):
    _handler, server = compatible_server
    data = tmp_path_factory.mktemp("e2e-three")
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        DATABASE_URL=f"sqlite:///{data}/chatcanvas.db",
        IMAGE_SERVERS=json.dumps([image_server_config(server)]),
        LOCAL_IMAGE_MODELS=tiny_model,
    )
    app = RunningApp(env, data / "streamlit.log")
    app.start()
    yield app
    app.stop()


def lineage(page, lane: int) -> str:
    """The lane's "Parameters sent", opened. A click that lands while the lane is drawn again
    (the page run after the last lane's image) is lost with the old element: click again."""
    box = page.locator(LANE.format(lane))
    params = box.locator('[data-testid="stJson"]').first
    for _attempt in range(3):
        if not params.is_visible():
            box.get_by_text("Parameters sent").first.click()
        try:
            expect(params).to_contain_text(re.compile(r'"\w+"'), timeout=5_000)
            break
        except AssertionError:
            continue
    return box.inner_text()


@pytest.mark.timeout(300)  # the first local lane on a server imports torch and loads the model
def test_gpt_image_a_compatible_server_and_the_local_engine_side_by_side(
    page, three_engine_app, fake_images, compatible_server, tiny_model
):
    handler, _ = compatible_server
    page.goto(three_engine_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)
    page.get_by_role("button", name="Generate").wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the lanes' widgets have settled
    choose(page, PROVIDER.format(1), "OpenAI-compatible server")
    page.wait_for_function(HAS_VALUE, arg="fake-sd/sd-turbo", timeout=20_000)
    page.get_by_role("button", name="Add lane").click()
    page.locator(PROVIDER.format(2)).wait_for(timeout=20_000)
    choose(page, PROVIDER.format(2), "Local engine (this machine)")
    page.wait_for_selector('[class*="_model_local"]', timeout=30_000)
    choose(page, '[class*="_model_local"]', tiny_model)
    page.get_by_text("No GPU here").wait_for(timeout=120_000)  # the lane redrawn for the folder
    choose(page, '[class*="_size_local-sd"]', "64x64")
    page.wait_for_function(HAS_VALUE, arg="64x64", timeout=60_000)
    page.fill(PROMPT_BOX, "A lighthouse at dawn")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()
    for lane in range(3):
        page.wait_for_selector(f"{LANE.format(lane)} img", timeout=120_000)
    assert fake_images.calls[-1].body["model"] == "gpt-image-2"
    assert handler.calls[-1].body["model"] == "sd-turbo"
    # read together, in one frame: the page may scroll to the results between three reads
    tops = page.evaluate(
        "selectors => selectors.map(s => Math.round(document.querySelector(s)"
        ".getBoundingClientRect().top + window.scrollY))",
        [LANE.format(lane) for lane in range(3)],
    )
    assert len(set(tops)) == 1, tops  # side by side
    assert '"fake-sd"' in lineage(page, 1)  # the server, by name
    local = lineage(page, 2)
    for name in ('"seeds"', '"num_inference_steps"', '"guidance_scale"', '"device"', tiny_model):
        assert name in local, name
    assert COMPAT_KEY not in page.content()
