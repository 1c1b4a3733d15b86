"""Compare in a real browser: a GPT Image lane beside a lane on an OpenAI-compatible server
the deployer set up (IMAGE_SERVERS, the second fake on its own port); both show results, the
compatible lane's lineage names the server, and its key appears nowhere on the page."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import FAKE_KEY, RunningApp, app_environment
from tests.fakes.compatible_images import COMPAT_KEY, image_server_config

pytestmark = pytest.mark.e2e
LANE = ".st-key-compare_lane_{}"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'


@pytest.fixture(scope="module")
def compat_app(fake_openai, compatible_server, data_dir):
    _handler, server = compatible_server
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        DATABASE_URL=f"sqlite:///{data_dir}/chatcanvas.db",
        IMAGE_SERVERS=json.dumps([image_server_config(server)]),
    )
    app = RunningApp(env, data_dir / "streamlit.log")
    app.start()
    yield app
    app.stop()


def test_gpt_image_beside_a_compatible_server_lane(
    page, compat_app, fake_images, compatible_server
):
    handler, _ = compatible_server
    page.goto(compat_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)
    # the second lane's provider: the deployer's compatible server instead of Karlo
    page.locator('[data-testid="stSelectbox"]', has_text="Provider").nth(1).click()
    page.get_by_role("option", name="OpenAI-compatible server").click()
    page.wait_for_function(  # the rerun drew the server's first model as the lane's model
        """() => [...document.querySelectorAll('[data-testid="stSelectbox"] input')]
            .some(input => input.value === 'fake-sd/sd-turbo')""",
        timeout=20_000,
    )
    page.fill(PROMPT_BOX, "A paper lantern over a river")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(f"{LANE.format(0)} img", timeout=30_000)
    page.wait_for_selector(f"{LANE.format(1)} img", timeout=30_000)
    compat_lane = page.locator(LANE.format(1))
    assert "fake-sd/sd-turbo" in compat_lane.inner_text()
    assert fake_images.calls[-1].body["model"] == "gpt-image-2"
    assert handler.calls[-1].body["model"] == "sd-turbo"
    compat_lane.get_by_text("Parameters sent").first.click()
    compat_lane.get_by_text('"fake-sd"').first.wait_for(timeout=10_000)  # the server, by name
    assert COMPAT_KEY not in page.content()
