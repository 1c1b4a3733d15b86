"""Images in chat in a real browser: a file chosen through the chat input's file chooser is
sent with the question, the fake says it saw the image, and the question shows its thumbnail."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.e2e.test_chat_flow import ASSISTANT, INPUT, USER, open_app

pytestmark = pytest.mark.e2e
QUESTION = "What colour is this leaf?"


def test_attach_an_image_and_ask_about_it(page, running_app, fake_openai, tmp_path):
    picture = tmp_path / "leaf.png"
    out = io.BytesIO()
    Image.new("RGB", (2600, 1300), (40, 160, 70)).save(out, "PNG")
    picture.write_bytes(out.getvalue())

    open_app(page, running_app.url)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stChatInputFileUploadButton").click()
    chooser.value.set_files(str(picture))
    page.wait_for_selector('[data-testid="stChatInput"] >> text=leaf.png', timeout=20_000)
    page.fill(INPUT, QUESTION)
    page.keyboard.press("Enter")

    page.wait_for_selector(f"{ASSISTANT} >> text=I saw 1 image.", timeout=30_000)
    sent = fake_openai.chat_requests()[-1].body["messages"][-1]["content"]
    assert sent[0] == {"type": "text", "text": QUESTION}
    assert sent[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    question = page.locator(USER).last
    # the stored thumbnail with its size (while the reply streams, the image shows without it)
    question.locator("text=2048×1024").wait_for(timeout=30_000)
    question.locator("img").first.wait_for(timeout=30_000)
