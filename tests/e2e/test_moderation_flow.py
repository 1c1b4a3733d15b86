"""The safety check in a real browser: with MODERATION_CHECK on, a prompt the moderation model
flags stops on Compare before any image provider is called, with its categories shown; the
person can still proceed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningApp, app_environment
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY

pytestmark = pytest.mark.e2e
PROMPT_BOX = 'textarea[aria-label="Prompt"]'


@pytest.fixture(scope="module")
def moderated_app(fake_openai, fake_karlo, data_dir):
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=fake_karlo.base_url,
        DATABASE_URL=f"sqlite:///{data_dir}/chatcanvas.db",
        MODERATION_CHECK="on",
    )
    app = RunningApp(env, data_dir / "streamlit.log")
    app.start()
    yield app
    app.stop()


def test_a_flagged_prompt_stops_before_any_image_provider(
    page, moderated_app, fake_openai, fake_images, fake_karlo
):
    fake_images.calls.clear()
    fake_karlo.calls.clear()
    page.goto(moderated_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)
    page.fill(PROMPT_BOX, "A FLAGME fox in a snowy forest")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()

    held = page.locator(".st-key-moderation_held_compare")
    held.get_by_role("button", name="Proceed anyway").wait_for(timeout=30_000)
    assert "flagged this prompt" in held.inner_text()
    assert "Flagged for: harassment, violence" in held.inner_text()
    assert fake_images.calls == [] and fake_karlo.t2i_calls() == []
    moderations = [r for r in fake_openai.requests if r.path.endswith("/moderations")]
    assert moderations[-1].body["input"] == ["A FLAGME fox in a snowy forest"]
    assert page.locator(PROMPT_BOX).input_value() == "A FLAGME fox in a snowy forest"

    page.get_by_role("button", name="Proceed anyway").click()
    page.wait_for_selector(".st-key-compare_lane_0 img", timeout=30_000)
    page.wait_for_selector(".st-key-compare_lane_1 img", timeout=30_000)
    assert len(fake_images.calls) == 1 and len(fake_karlo.t2i_calls()) == 1
