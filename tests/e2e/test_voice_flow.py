"""Voice in a real browser: Chromium speaks into the chat input's microphone (its fake audio
capture plays a WAV that Debian's espeak-ng made), the transcript is sent and answered, and
Read aloud gives an audio element playing the fake's speech."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_chat_flow import ASSISTANT, INPUT, USER, open_app

pytestmark = pytest.mark.e2e
QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        message = "espeak-ng not found: apt-get install espeak-ng (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    wav = tmp_path_factory.mktemp("voice") / "question.wav"
    subprocess.run([espeak, "-w", str(wav), QUESTION], check=True, timeout=60)
    return wav


@pytest.fixture(scope="module")
def speaking_browser(spoken_wav):
    """Chromium whose microphone is the WAV (allowed without asking), for this test only."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    voice_args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={spoken_wav}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + voice_args)
        yield browser
        browser.close()


def test_speak_a_question_then_hear_the_answer(speaking_browser, running_app, fake_openai):
    context = speaking_browser.new_context(
        viewport={"width": 1280, "height": 860}, permissions=["microphone"]
    )
    page = context.new_page()
    try:
        open_app(page, running_app.url)
        page.wait_for_selector(INPUT)
        page.get_by_test_id("stChatInputMicButton").click()
        page.wait_for_timeout(2500)  # let the fake microphone play the question
        page.get_by_test_id("stChatInputApproveButton").click()

        page.wait_for_selector(f"{USER} >> text={QUESTION}", timeout=30_000)
        page.wait_for_selector(f"{ASSISTANT} >> text=reply #1: {QUESTION}", timeout=30_000)
        heard = [r for r in fake_openai.requests if r.path.endswith("/audio/transcriptions")]
        assert heard[-1].body["language"] == "en"
        assert heard[-1].body["file"]["size"] > 10_000  # seconds of sound, not an empty file

        page.wait_for_selector("text=to first token", timeout=30_000)  # stored, complete
        audio = page.locator(f"{ASSISTANT} audio").last
        for _attempt in range(3):  # a click that lands while the page reruns is dropped
            page.locator(ASSISTANT).last.get_by_role("button", name="Read aloud").click()
            try:
                audio.wait_for(state="attached", timeout=15_000)
                break
            except PlaywrightTimeoutError:
                continue
        page.wait_for_function(
            f"""() => {{
                const a = [...document.querySelectorAll('{ASSISTANT} audio')].pop();
                return a && a.duration > 0 && !a.paused && a.currentTime > 0;
            }}""",
            timeout=30_000,
        )
        source = audio.get_attribute("src")
        played = page.request.get(
            source if source.startswith("http") else running_app.url + source.lstrip("/")
        )
        assert played.body()[:4] == b"RIFF"  # the fake's WAV, as the browser got it
        spoken = [r for r in fake_openai.requests if r.path.endswith("/audio/speech")]
        assert len(spoken) == 1
    finally:
        context.close()
