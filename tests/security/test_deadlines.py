"""Whole-exchange deadlines: a server that trickles bytes never lets a per-read timeout fire,
so the chat stream has a deadline between events and overall, and the model listing one
overall. The test deadlines are short, so these tests end quickly whatever the server does."""

from __future__ import annotations

import pytest

from services.chat import ChatMessage, ChatOptions, ChatService
from services.chat_turns import ChatTurns
from services.errors import ChatCanvasError, ErrorKind
from services.http_clients import Deadlines

HELLO = [ChatMessage("user", "one two three four five six seven eight")]
FULL = "Fake gpt-4o-mini reply #1: one two three four five six seven eight"


def service(settings, catalog, deadlines: Deadlines) -> ChatService:
    # A per-read timeout far longer than the deadlines: only the deadlines can end the calls.
    return ChatService(settings, catalog, timeout=30.0, max_retries=0, deadlines=deadlines)


def test_a_trickling_stream_ends_at_the_deadline_between_events(settings, catalog, fake):
    fake.set_fault("trickle", times=1)
    fake.trickle_after, fake.trickle_delay = 2, 0.05  # then one byte every 50 ms, for ever
    chat = service(settings, catalog, Deadlines(stream=30.0, between_events=0.5))
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    deltas = list(stream)
    assert deltas == ["Fake", " gpt-4o-mini"]  # what arrived before the trickle is kept
    assert stream.text == "Fake gpt-4o-mini"
    assert stream.error is not None and stream.error.kind is ErrorKind.TIMEOUT
    assert not stream.complete


def test_a_slow_stream_ends_at_the_overall_deadline(settings, catalog, fake):
    """Every event comes in time, but the reply as a whole takes too long."""
    fake.token_delay = 0.2
    chat = service(settings, catalog, Deadlines(stream=0.5, between_events=5.0))
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    list(stream)
    assert stream.error is not None and stream.error.kind is ErrorKind.TIMEOUT
    assert stream.text and FULL.startswith(stream.text) and stream.text != FULL
    assert not stream.complete


def test_a_trickled_model_list_ends_at_its_deadline(settings, catalog, fake):
    fake.set_fault("trickle", endpoint="models", times=1)
    fake.trickle_delay = 0.05
    chat = service(settings, catalog, Deadlines(answer=0.5))
    with pytest.raises(ChatCanvasError) as info:
        chat.list_models()
    assert info.value.kind is ErrorKind.TIMEOUT
    assert chat.list_models()  # an answer in time is read


def test_a_silent_model_list_ends_at_its_deadline_not_the_read_timeout(settings, catalog, fake):
    fake.set_fault("timeout", endpoint="models", times=1)
    fake.hang_seconds = 3.0
    chat = service(settings, catalog, Deadlines(answer=0.5))
    with pytest.raises(ChatCanvasError) as info:
        chat.list_models()
    assert info.value.kind is ErrorKind.TIMEOUT


def test_a_timed_out_reply_is_stored_with_what_arrived(settings, catalog, fake, store):
    fake.token_delay = 0.2
    turns = ChatTurns(store, service(settings, catalog, Deadlines(stream=0.5, between_events=5)))
    conversation = store.create(title="", model="gpt-4o-mini")
    pending = turns.send(conversation, HELLO[0].content, "gpt-4o-mini", ChatOptions())
    list(pending)
    row = pending.finish()
    assert row.status == "incomplete"
    assert row.error_kind == "timeout"
    assert row.content and FULL.startswith(row.content)
