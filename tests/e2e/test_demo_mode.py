"""Demo mode in a real browser: the app started as `scripts/run.sh --demo` starts it
(CHATCANVAS_DEMO=1) with no key at all; chat streams, a comparison paints with both engines,
every page says the answers and images are made up, and the real database is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import RunningApp, app_environment

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
INPUT = '[data-testid="stChatInput"] textarea'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
BANNER = "text=Demo mode:"
LANE = ".st-key-compare_lane_{}"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e-demo")
    env = app_environment(CHATCANVAS_DEMO="1", DATABASE_URL=f"sqlite:///{data}/chatcanvas.db")
    app = RunningApp(env, data / "streamlit.log")
    app.start()
    yield app, data
    app.stop()


def test_demo_chat_compare_and_banner(page, demo_app):
    app, data = demo_app
    page.goto(app.url)
    page.wait_for_selector(INPUT, timeout=30_000)
    page.wait_for_selector(BANNER, timeout=20_000)
    assert page.get_by_text("Welcome to ChatCanvas").count() == 0  # the demo has keys

    page.fill(INPUT, "Imagine animals on Mars")
    page.keyboard.press("Enter")
    reply = page.locator(ASSISTANT).last
    reply.get_by_text("made up by ChatCanvas's demo model").wait_for(timeout=30_000)
    reply.get_by_text("side by side and vote for the best").wait_for(timeout=30_000)

    # on a phone, a new chat is on the page itself (the sidebar is folded away)
    page.set_viewport_size({"width": 390, "height": 844})
    new_chat = page.locator(".st-key-chat_new_on_page button")
    new_chat.wait_for(timeout=20_000)
    assert new_chat.is_visible()
    page.set_viewport_size({"width": 1280, "height": 860})

    page.goto(app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)
    page.wait_for_selector(BANNER, timeout=20_000)
    page.fill(PROMPT_BOX, "A red fox in a snowy forest, watercolor")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(f"{LANE.format(0)} img", timeout=60_000)  # OpenAI's fake
    page.wait_for_selector(f"{LANE.format(1)} img", timeout=60_000)  # Karlo's fake

    page.goto(app.url + "gallery")
    page.wait_for_selector('[data-testid="stImage"] img', timeout=30_000)
    page.wait_for_selector(BANNER, timeout=20_000)

    assert (data / "demo.db").exists()  # the demo's own database
    assert not (data / "chatcanvas.db").exists()  # the real one is never opened


@pytest.fixture(scope="module")
def keyless_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e-keyless")
    app = RunningApp(
        app_environment(DATABASE_URL=f"sqlite:///{data}/chatcanvas.db"), data / "streamlit.log"
    )
    app.start()
    yield app
    app.stop()


def test_first_visit_on_a_phone_in_korean_then_the_demo(browser, keyless_app):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR")
    page = context.new_page()
    try:
        page.goto(keyless_app.url)
        page.get_by_text("ChatCanvas에 오신 것을 환영합니다").wait_for(timeout=30_000)
        openai = page.get_by_role("link", name="OpenAI API 키 만들기")
        assert openai.get_attribute("href") == "https://platform.openai.com/api-keys"
        assert page.locator(INPUT).is_disabled()
        page.get_by_role("button", name="데모 써 보기").click()
        page.get_by_text("데모 모드:").wait_for(timeout=30_000)
        page.wait_for_function(
            f"() => !document.querySelector('{INPUT}')?.disabled", timeout=30_000
        )
    finally:
        context.close()


def test_first_run_panel_screenshot(page, keyless_app):
    page.goto(keyless_app.url + "compare")
    page.get_by_text("Welcome to ChatCanvas").wait_for(timeout=30_000)
    assert page.get_by_role("link", name="Make a Kakao REST API key").get_attribute("href") == (
        "https://developers.kakao.com/console/app"
    )
    page.screenshot(path=str(ROOT / "docs" / "screenshot-first-run.png"))  # the README's picture
