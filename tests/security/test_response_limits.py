"""Every answer read through the OpenAI SDK is capped: a "provider" cannot make the server
read an endless body into memory. Streams still stream; their lines are capped one by one."""

from __future__ import annotations

import pytest

from services.chat import ChatMessage
from services.errors import ChatCanvasError, ErrorKind
from services.http_clients import CHAT_LIMITS, IMAGE_LIMITS
from services.images.base import ImageRequest
from services.images.openai_images import OpenAIImageProvider
from services.settings import Secret, Settings
from tests.fakes.hostile import OVERSIZED_BYTES
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI

HELLO = [ChatMessage("user", "one two three four five six")]


def test_the_fake_is_larger_than_the_caps():
    assert CHAT_LIMITS.answer_bytes < OVERSIZED_BYTES
    assert CHAT_LIMITS.line_bytes < OVERSIZED_BYTES


def test_an_oversized_json_answer_is_refused(chat, fake):
    fake.set_fault("oversized", endpoint="models", times=1)
    with pytest.raises(ChatCanvasError) as info:
        chat.list_models()
    assert info.value.kind is ErrorKind.RESPONSE_TOO_LARGE
    assert "MiB" in info.value.detail
    assert chat.list_models()  # the next answer, of a normal size, is read


def test_an_oversized_stream_line_ends_the_reply_and_keeps_what_arrived(chat, fake):
    fake.set_fault("oversized", times=1)
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    deltas = list(stream)
    assert deltas == ["Fake"]  # the first piece arrived; the second was one 9 MiB line
    assert stream.text == "Fake"
    assert stream.error is not None and stream.error.kind is ErrorKind.RESPONSE_TOO_LARGE
    assert "larger than 1 MiB" in stream.error.detail
    assert not stream.complete


def test_a_long_stream_of_normal_events_is_not_capped(chat, fake):
    """The line cap is per event, not per reply: a long reply still streams whole."""
    fake.reply = lambda messages, model: ("x" * 50_000 + " ") * 40  # 40 events, 2 MB in all
    stream = chat.reply("gpt-4o-mini", HELLO)
    assert stream.complete
    assert len(stream.text) == 50_001 * 40 > CHAT_LIMITS.line_bytes


def oversized_image_answer(fake: FakeOpenAI, body: dict) -> tuple[int, dict]:
    return 200, {"created": 1, "data": [{"b64_json": "A" * (IMAGE_LIMITS.answer_bytes + 1)}]}


def test_an_oversized_image_answer_is_refused():
    with FakeOpenAI(image_handler=oversized_image_answer) as server:
        settings = Settings(openai_api_key=Secret(FAKE_KEY), openai_base_url=server.base_url)
        provider = OpenAIImageProvider(settings, max_retries=0)
        with pytest.raises(ChatCanvasError) as info:
            provider.generate(ImageRequest(prompt="a cat", model="gpt-image-2"))
    assert info.value.kind is ErrorKind.RESPONSE_TOO_LARGE
    assert "larger than 64 MiB" in info.value.detail  # refused while reading, not decoding
    assert info.value.provider == "openai"
