"""A local-engine lane (the tiny random pipeline) beside GPT Image in a real browser: it shows
its step while it runs, and Cancel stops it. Skips without torch (``tiny_model``)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningApp, app_environment, choose
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY

pytestmark = pytest.mark.e2e
LANE = ".st-key-compare_lane_{}"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'
SIZE_IS_64 = """() => [...document.querySelectorAll('[class*="_size_local-sd"] input')]
    .some((input) => input.value === '64x64')"""


@pytest.fixture(scope="module")
def local_app(fake_openai, fake_karlo, tmp_path_factory, tiny_model):
    data = tmp_path_factory.mktemp("e2e-local")
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=fake_karlo.base_url,
        DATABASE_URL=f"sqlite:///{data}/chatcanvas.db",
        LOCAL_IMAGE_MODELS=tiny_model,
    )
    app = RunningApp(env, data / "streamlit.log")
    app.start()
    yield app
    app.stop()


@pytest.mark.timeout(300)  # the first lane on a server imports torch and loads the model
def test_a_local_lane_shows_its_steps_and_cancels(page, local_app, tiny_model):
    page.goto(local_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)
    page.get_by_role("button", name="Generate").wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the lanes' widgets have settled
    choose(
        page,
        '[class*="st-key-compare_"][class*="_provider"] >> nth=1',
        "Local engine (this machine)",
    )
    page.wait_for_selector('[class*="_model_local"]', timeout=30_000)
    choose(page, '[class*="_model_local"]', tiny_model)
    page.get_by_text("No GPU here").wait_for(timeout=120_000)  # the lane redrawn for the folder
    choose(page, '[class*="_size_local-sd"]', "64x64")
    page.wait_for_function(SIZE_IS_64, timeout=60_000)
    page.get_by_text("More parameters").nth(1).click()
    steps = page.get_by_role("spinbutton", name="Steps", exact=True)
    steps.fill("150")
    steps.press("Enter")
    page.wait_for_timeout(1000)
    page.fill(PROMPT_BOX, "A lighthouse at dawn")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(f"{LANE.format(1)} >> text=/Step \\d+ of 150/", timeout=60_000)
    page.locator(LANE.format(1)).get_by_role("button", name="Cancel").click()
    page.wait_for_selector(f"{LANE.format(1)} >> text=Cancelled before it finished", timeout=60_000)
    page.wait_for_selector(f"{LANE.format(0)} img", timeout=30_000)
