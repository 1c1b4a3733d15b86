"""One browser session through every page with canary keys, then a scan: the keys appear in
no file under the data directory, no log line, no download and no page HTML."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningApp, app_environment, browser  # noqa: F401 - the browser fixture
from tests.fakes.karlo_server import FakeKarlo
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tutorial_model import IDEA, scripted

pytestmark = pytest.mark.e2e
OPENAI_KEY = f"sk-proj-canary{secrets.token_hex(16)}"
KAKAO_KEY = f"kakaocanary{secrets.token_hex(16)}"
INPUT = '[data-testid="stChatInput"] textarea'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
LANE = ".st-key-compare_lane_{}"


@pytest.fixture(scope="module")
def canary_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("canary")
    images = FakeOpenAIImages()
    with (
        FakeOpenAI(api_key=OPENAI_KEY, image_handler=images) as openai_fake,
        FakeKarlo(api_key=KAKAO_KEY) as karlo,
    ):
        openai_fake.reply = scripted
        env = app_environment(
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=openai_fake.base_url,
            KAKAO_REST_API_KEY=KAKAO_KEY,
            KARLO_BASE_URL=karlo.base_url,
            DATABASE_URL=f"sqlite:///{data}/chatcanvas.db",
        )
        app = RunningApp(env, data / "streamlit.log")
        app.start()
        yield app, data
        app.stop()


def download(page, selector: str) -> bytes:
    with page.expect_download(timeout=30_000) as info:
        page.locator(selector).first.click()  # a help tooltip may wrap a second copy
    return Path(info.value.path()).read_bytes()


def chat(page, url: str, captured: list[bytes]) -> None:
    page.goto(url)
    page.wait_for_selector(INPUT, timeout=30_000)
    page.fill(INPUT, "Hello, what can you draw?")
    page.keyboard.press("Enter")
    page.wait_for_selector(ASSISTANT, timeout=30_000)
    page.wait_for_selector("text=to first token", timeout=30_000)  # the reply is complete
    page.wait_for_function("() => location.search.includes('c=')", timeout=30_000)
    page.reload()
    page.wait_for_selector(".st-key-chat_export_json button", timeout=30_000)
    captured.append(download(page, ".st-key-chat_export_md button"))
    captured.append(download(page, ".st-key-chat_export_json button"))
    captured.append(page.content().encode())


def studio_to_compare(page, url: str, captured: list[bytes]) -> None:
    page.goto(url + "studio")
    page.wait_for_selector("textarea[aria-label]", timeout=30_000)
    page.locator("textarea").first.fill(IDEA)
    page.keyboard.press("Control+Enter")
    page.locator(".st-key-studio_run button").click()
    page.wait_for_selector(".st-key-studio_send_to_compare button", timeout=90_000)
    captured.append(page.content().encode())
    final = page.locator(".st-key-studio_final_prompt textarea").input_value()
    page.locator(".st-key-studio_send_to_compare button").click()
    page.wait_for_function(
        f"() => document.querySelector('textarea[aria-label=\"Prompt\"]')?.value === {final!r}",
        timeout=30_000,
    )
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(f"{LANE.format(0)} img", timeout=60_000)
    page.wait_for_selector(f"{LANE.format(1)} img", timeout=60_000)
    captured.append(page.content().encode())


def gallery(page, url: str, captured: list[bytes]) -> None:
    page.goto(url + "gallery")
    page.wait_for_selector('[data-testid="stImage"] img', timeout=30_000)
    page.locator(".st-key-gallery_select_page button").click()
    page.wait_for_selector(".st-key-gallery_export_zip button", timeout=30_000)
    captured.append(download(page, ".st-key-gallery_export_zip button"))
    page.locator('[class*="st-key-gallery_open_"] button').first.click()
    page.wait_for_selector(".st-key-gallery_download_png button", timeout=30_000)
    captured.append(download(page, ".st-key-gallery_download_png button"))
    captured.append(page.content().encode())


def test_keys_appear_nowhere_after_a_session_through_every_page(canary_app, browser):  # noqa: F811
    app, data = canary_app
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    captured: list[bytes] = []
    try:
        chat(page, app.url, captured)
        studio_to_compare(page, app.url, captured)
        gallery(page, app.url, captured)
    finally:
        context.close()
    assert len(captured) == 8
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files) and any(p.suffix == ".db" for p in files)
    # Each key whole, and its distinctive part without the prefix a scrubber might look for.
    needles = [OPENAI_KEY, OPENAI_KEY.removeprefix("sk-proj-"), KAKAO_KEY]
    for blob_name, blob in [(str(p), p.read_bytes()) for p in files] + [
        (f"capture {i}", b) for i, b in enumerate(captured)
    ]:
        for needle in needles:
            assert needle.encode() not in blob, f"a key leaked into {blob_name}"
