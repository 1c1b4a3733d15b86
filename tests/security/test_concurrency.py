"""Two sessions on one conversation, a final write that fails, a lane the store refuses."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from services.chat import ChatOptions
from services.chat_turns import PendingReply, settle
from services.errors import ChatCanvasError
from services.images import ImageRequest, ImageResult, OpenAIImageProvider, run_lanes
from services.in_flight import InFlight
from services.storage.images import ImageStore
from services.storage.lane_keeper import LaneKeeper
from tests.security.conftest import FAST, openai_settings

MODEL = "gpt-4o-mini"
LONG_QUESTION = " ".join(f"word{i}" for i in range(60))


class Writer:
    """Streaming work of one session: stores (sets done) only when asked to stop."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.done.set()


def fail_writes(db, table: str, when: str = "INSERT") -> None:
    """Make the SQLite file refuse writes to ``table``, as a full disk or a broken file
    would: the database itself raises, not a stand-in for our store."""
    path = db.engine.url.database
    with sqlite3.connect(path) as raw:
        raw.execute(
            f"CREATE TRIGGER refuse_{table}_{when.lower()} BEFORE {when} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )


# -- settle with two writers ------------------------------------------------------------------


def test_waiting_without_stop_leaves_another_writers_entry():
    table, other_session = InFlight(), Writer()
    table.add("conversation", other_session)
    assert table.settle("conversation", timeout=0.05) is False  # this session only opened it
    assert "conversation" in table
    table.settle("conversation", cancel=True, timeout=5)  # the writer's own Stop
    assert other_session.cancelled


def test_another_session_opening_a_streaming_conversation_keeps_its_stop_working(
    turns, store, fake
):
    fake.token_delay = 0.05  # about three seconds of reply
    conversation = store.create()
    pending = turns.send(conversation, LONG_QUESTION, MODEL, ChatOptions())

    def first_session() -> None:  # what the chat page does with the stream
        completed = False
        try:
            for _ in pending:
                pass
            completed = True
        finally:
            pending.finish(stopped=not completed)

    streaming = threading.Thread(target=first_session)
    streaming.start()
    assert settle(conversation.id, timeout=0.2) is False  # a second session opens it
    assert settle(conversation.id, cancel=True, timeout=10)  # the first session's Stop
    streaming.join(10)
    assert store.messages(conversation.id)[-1].status == "stopped"


# -- a final write that fails ---------------------------------------------------------------


def test_a_failed_final_write_still_releases_the_reply(turns, store, fake, db):
    conversation = store.create()
    pending: PendingReply = turns.send(conversation, "short", MODEL, ChatOptions())
    "".join(pending)
    fail_writes(db, "messages", "UPDATE")
    with pytest.raises(Exception, match="disk is full"):
        pending.finish()
    assert pending.done.is_set()
    assert settle(conversation.id, timeout=0.05) is True  # no later run waits for it


# -- a lane the store refuses -----------------------------------------------------------------


def test_images_of_a_lane_the_store_refuses_are_kept_and_said_unsaved(db, openai_fake, images):
    store = ImageStore(db, "owner-a")
    request = ImageRequest("a cat", "gpt-image-2", count=2)
    run_id = store.start_run(request.prompt)
    fail_writes(db, "compare_lanes")
    keeper = LaneKeeper(store, run_id, [request])
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    (outcome,) = run_lanes([(provider, request)], keep=keeper)
    assert isinstance(outcome, ImageResult) and len(outcome.images) == 2
    unsaved = keeper.unsaved[0]
    assert unsaved.outcome is outcome and unsaved.model == "gpt-image-2"
    assert "Error" in unsaved.reason and "disk" not in unsaved.reason
    assert store.count() == 0 and store.get_run(run_id).lanes == ()
    assert not isinstance(outcome, ChatCanvasError)
