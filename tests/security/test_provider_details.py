"""The Details box under an error shows the provider's own words only when they come as an
OpenAI error body; a base URL pointing at another service must not turn the page into a window
onto that service's answers."""

from __future__ import annotations

import pytest

from services.chat import ChatMessage
from services.errors import MAX_DETAIL_CHARS, ChatCanvasError, ErrorKind
from tests.fakes.hostile import FOREIGN_BODY

HELLO = [ChatMessage("user", "hello")]


def error_of(call) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        call()
    return info.value


@pytest.mark.parametrize("endpoint", ["models", "chat"])
def test_another_services_json_is_not_shown(chat, fake, endpoint):
    fake.set_fault("foreign_error", endpoint=endpoint, times=1)
    call = chat.list_models if endpoint == "models" else lambda: chat.reply("gpt-4o-mini", HELLO)
    err = error_of(call)
    assert err.kind is ErrorKind.SERVER_ERROR  # the status still says what kind of failure
    for text in (err.detail, str(err)):
        assert "hunter2" not in text
        assert FOREIGN_BODY["message"] not in text
        assert "db-credentials" not in text


def test_a_providers_long_message_is_cut(chat, fake):
    fake.set_fault("long_error", endpoint="models", times=1)
    err = error_of(chat.list_models)
    assert err.detail.startswith("The server is overloaded.")
    assert len(err.detail) <= MAX_DETAIL_CHARS + 1


def test_a_well_formed_error_body_still_shows_its_message(chat, fake):
    fake.set_fault("server_error", endpoint="models", times=1)
    err = error_of(chat.list_models)
    assert err.detail == (
        "The server had an error while processing your request. Sorry about that!"
    )
