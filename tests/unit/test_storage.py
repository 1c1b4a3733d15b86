"""ConversationStore on a real SQLite file: CRUD, search, totals, export/import, owners."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, text

from services.errors import ChatCanvasError
from services.storage import ConversationStore, ConversationTotals, open_database
from services.storage.conversation_files import (
    EXPORT_FORMAT,
    export_json,
    export_markdown,
    import_json,
)
from services.storage.conversations import (
    ConversationRow,
    MessageRow,
    auto_title,
)


@pytest.fixture
def db(database):
    """Every test here runs on SQLite and on PostgreSQL."""
    return database


@pytest.fixture
def other(db) -> ConversationStore:
    return ConversationStore(db, "owner-b")


def row_counts(db) -> tuple[int, int]:
    """(conversations, messages) in the whole database, every owner included."""
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(ConversationRow)),
            s.scalar(select(func.count()).select_from(MessageRow)),
        )


def filled(store: ConversationStore, title: str = "Trip plans"):
    conv = store.create(
        title=title,
        system_prompt="You are a travel agent.",
        model="gpt-4o-mini",
        params={"temperature": 0.7},
    )
    store.add_message(conv.id, "user", "Where should I go in May?")
    store.add_message(
        conv.id,
        "assistant",
        "Try Jeju island.",
        model="gpt-4o-mini",
        finish_reason="stop",
        prompt_tokens=20,
        completion_tokens=5,
        cost_usd=0.000006,
        latency_ms=120,
    )
    store.add_message(conv.id, "user", "And in June? 제주도 말고")
    store.add_message(
        conv.id,
        "assistant",
        "Gangneung, perhaps",
        status="stopped",
        model="gpt-4o-mini",
        prompt_tokens=40,
        completion_tokens=3,
        cost_usd=0.000008,
    )
    return conv


# -- schema and database -------------------------------------------------------------------
def test_open_database_is_one_per_url_and_creates_the_tables(tmp_path):
    db = open_database(f"sqlite:///{tmp_path}/t.db")
    assert open_database(f"sqlite:///{tmp_path}/t.db") is db
    assert (tmp_path / "t.db").exists()
    with db.session() as s:
        mode = s.execute(text("PRAGMA journal_mode")).scalar()
        tables = {
            r[0] for r in s.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        }
    assert mode == "wal"
    assert {"conversations", "messages"} <= tables


def test_open_database_creates_missing_directories(tmp_path):
    db = open_database(f"sqlite:///{tmp_path}/deeper/dir/x.db")
    try:
        ConversationStore(db, "o").create(title="hi")
        assert (tmp_path / "deeper" / "dir" / "x.db").exists()
    finally:
        db.engine.dispose()


def test_a_plain_postgres_url_uses_the_installed_driver(postgres_databases):
    url = postgres_databases.create().replace("postgresql+psycopg://", "postgres://")
    db = open_database(url)
    try:
        assert db.engine.dialect.driver == "psycopg"
        assert ConversationStore(db, "o").list() == []
    finally:
        db.engine.dispose()


def test_a_server_connection_dropped_while_idle_is_replaced(postgres_databases):
    """Hosted PostgreSQL closes idle connections; the pool checks before use."""
    db = open_database(postgres_databases.create())
    try:
        with db.session() as s:
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
        with postgres_databases.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        store = ConversationStore(db, "o")
        assert store.get(store.create(title="still here").id).title == "still here"
    finally:
        db.engine.dispose()


# -- conversations -------------------------------------------------------------------------
def test_create_and_get(store):
    conv = store.create(
        title="Hello", system_prompt="Be kind.", model="gpt-5.4-mini", params={"a": 1}
    )
    got = store.get(conv.id)
    assert got == conv
    assert (got.title, got.system_prompt, got.model, got.params) == (
        "Hello",
        "Be kind.",
        "gpt-5.4-mini",
        {"a": 1},
    )
    assert got.owner_id == "owner-a"
    assert store.get("no-such-id") is None


def test_list_is_newest_first_by_activity(store):
    first = store.create(title="first")
    second = store.create(title="second")
    third = store.create(title="third")
    assert [c.id for c in store.list()] == [third.id, second.id, first.id]
    store.add_message(first.id, "user", "bump")  # activity moves a conversation up
    assert [c.id for c in store.list()] == [first.id, third.id, second.id]
    store.update(second.id, title="renamed")
    assert [c.id for c in store.list()] == [second.id, first.id, third.id]


def test_list_pages(store):
    made = [store.create(title=f"c{i}") for i in range(5)]
    newest_first = [c.id for c in reversed(made)]
    assert [c.id for c in store.list(limit=2)] == newest_first[:2]
    assert [c.id for c in store.list(limit=2, offset=2)] == newest_first[2:4]
    assert [c.id for c in store.list(limit=2, offset=4)] == newest_first[4:]


def test_search_by_title_case_insensitive(store):
    trip = filled(store, title="Trip plans")
    store.create(title="Recipes")
    assert [c.id for c in store.list("trip")] == [trip.id]
    assert [c.id for c in store.list("  PLANS ")] == [trip.id]


def test_search_by_message_text(store):
    trip = filled(store, title="Untitled")
    store.create(title="Other")
    assert [c.id for c in store.list("jeju")] == [trip.id]
    assert [c.id for c in store.list("제주도")] == [trip.id]
    assert store.list("nothing like this") == []


def test_blank_search_lists_everything(store):
    a, b = store.create(title="a"), store.create(title="b")
    assert {c.id for c in store.list("   ")} == {a.id, b.id}


def test_search_treats_percent_and_underscore_literally(store):
    store.create(title="a 50% discount")
    store.create(title="a 500 discount")
    store.create(title="snake_case names")
    store.create(title="snakeXcase names")
    assert [c.title for c in store.list("50%")] == ["a 50% discount"]
    assert [c.title for c in store.list("snake_case")] == ["snake_case names"]


def test_update_changes_only_allowed_fields(store):
    conv = store.create(title="old", model="gpt-4o-mini")
    store.update(
        conv.id,
        title="new",
        system_prompt="sp",
        model="gpt-5.4-mini",
        params={"max_tokens": 10},
        owner_id="thief",
        id="other-id",
    )
    got = store.get(conv.id)
    assert (got.title, got.system_prompt, got.model, got.params) == (
        "new",
        "sp",
        "gpt-5.4-mini",
        {"max_tokens": 10},
    )
    assert got.owner_id == "owner-a"
    assert got.updated_at >= conv.updated_at


def test_delete_removes_the_conversation_and_its_messages(store, db):
    keep = filled(store, title="keep")
    gone = filled(store, title="gone")
    assert row_counts(db) == (2, 8)
    store.delete(gone.id)
    assert store.get(gone.id) is None
    assert store.messages(gone.id) == []
    assert row_counts(db) == (1, 4)
    assert len(store.messages(keep.id)) == 4


# -- messages ------------------------------------------------------------------------------
def test_add_message_stores_every_field(store):
    conv = store.create()
    m = store.add_message(
        conv.id,
        "assistant",
        "hi",
        status="incomplete",
        model="gpt-4o-mini",
        finish_reason="length",
        error_kind="stream_interrupted",
        prompt_tokens=1,
        completion_tokens=2,
        cost_usd=0.5,
        latency_ms=30,
        owner_id="ignored",
    )
    [stored] = store.messages(conv.id)
    assert stored == m
    assert (stored.status, stored.finish_reason, stored.error_kind) == (
        "incomplete",
        "length",
        "stream_interrupted",
    )
    assert (stored.prompt_tokens, stored.completion_tokens, stored.cost_usd, stored.latency_ms) == (
        1,
        2,
        0.5,
        30,
    )


def test_a_message_is_stored_without_returning_on_sqlite(tmp_path):
    """SQLite before 3.35 (a Python 3.11 on Ubuntu 20.04 or Debian bullseye) has no INSERT ...
    RETURNING: on SQLite a message's id comes from the driver's last row id."""
    db = open_database(f"sqlite:///{tmp_path}/old.db")
    store = ConversationStore(db, "local")
    sent: list[str] = []
    record = lambda _conn, _cursor, statement, *_: sent.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        conversation = store.create(title="old SQLite")
        first = store.add_message(conversation.id, "user", "hello")
        second = store.add_message(conversation.id, "assistant", "hi")
        assert [m.id for m in store.messages(conversation.id)] == [first.id, second.id]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.engine.dispose()
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
    assert inserts and not [s for s in inserts if "RETURNING" in s.upper()]


def test_new_messages_default_to_complete(store):
    conv = store.create()
    assert store.add_message(conv.id, "user", "x").status == "complete"


def test_messages_are_in_chronological_order(store):
    conv = store.create()
    for i in range(5):
        store.add_message(conv.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    assert [m.content for m in store.messages(conv.id)] == ["m0", "m1", "m2", "m3", "m4"]


def test_messages_last_n_are_the_newest_in_chronological_order(store):
    conv = store.create()
    for i in range(7):
        store.add_message(conv.id, "user", f"m{i}")
    assert [m.content for m in store.messages(conv.id, last=3)] == ["m4", "m5", "m6"]
    assert [m.content for m in store.messages(conv.id, last=1)] == ["m6"]
    assert len(store.messages(conv.id, last=100)) == 7


def test_update_message(store):
    conv = store.create()
    m = store.add_message(conv.id, "assistant", "", status="incomplete")
    store.update_message(m.id, content="done", status="complete", role="system", cost_usd=0.25)
    [got] = store.messages(conv.id)
    assert (got.content, got.status, got.role, got.cost_usd) == (
        "done",
        "complete",
        "assistant",
        0.25,
    )


def test_delete_messages_from(store):
    conv = store.create()
    ids = [store.add_message(conv.id, "user", f"m{i}").id for i in range(4)]
    store.delete_messages_from(conv.id, ids[2])
    assert [m.content for m in store.messages(conv.id)] == ["m0", "m1"]


def test_messages_of_one_conversation_only(store):
    a, b = store.create(), store.create()
    store.add_message(a.id, "user", "in a")
    store.add_message(b.id, "user", "in b")
    assert [m.content for m in store.messages(a.id)] == ["in a"]


# -- totals --------------------------------------------------------------------------------
def test_totals(store):
    conv = filled(store)
    totals = store.totals(conv.id)
    assert totals == ConversationTotals(
        messages=4,
        prompt_tokens=60,
        completion_tokens=8,
        cost_usd=pytest.approx(0.000014),
        cost_incomplete=False,
    )


def test_totals_of_an_empty_conversation(store):
    conv = store.create()
    assert store.totals(conv.id) == ConversationTotals(0, 0, 0, 0.0, False)


def test_totals_flag_a_priced_gap(store):
    conv = filled(store)
    # answered (it has tokens) but its model has no known price
    store.add_message(
        conv.id, "assistant", "x", model="gpt-6.1-sol", prompt_tokens=10, completion_tokens=4
    )
    totals = store.totals(conv.id)
    assert totals.cost_incomplete
    assert totals.completion_tokens == 12
    assert totals.cost_usd == pytest.approx(0.000014)  # a lower bound


def test_unanswered_messages_do_not_make_the_cost_incomplete(store):
    conv = store.create()
    store.add_message(conv.id, "user", "hi")
    store.add_message(conv.id, "assistant", "partial", status="incomplete")
    assert not store.totals(conv.id).cost_incomplete


# -- export / import -----------------------------------------------------------------------
def comparable(export: dict) -> dict:
    data = {k: v for k, v in export.items() if k != "created_at"}
    data["messages"] = [
        {k: v for k, v in m.items() if k != "created_at"} for m in export["messages"]
    ]
    return data


def test_export_json_shape(store):
    conv = filled(store)
    data = export_json(store, conv.id)
    assert data["format"] == EXPORT_FORMAT
    assert data["title"] == "Trip plans"
    assert data["system_prompt"] == "You are a travel agent."
    assert data["model"] == "gpt-4o-mini"
    assert data["params"] == {"temperature": 0.7}
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "user", "assistant"]
    assert data["messages"][1]["prompt_tokens"] == 20
    assert data["messages"][3]["status"] == "stopped"
    for m in data["messages"]:
        assert "id" not in m and "conversation_id" not in m and "owner_id" not in m
    json.dumps(data)  # serialisable as it is


def test_export_of_an_unknown_conversation_is_a_key_error(store):
    with pytest.raises(KeyError):
        export_json(store, "nope")


@pytest.mark.parametrize("as_text", [True, False])
def test_export_import_round_trip(store, other, as_text):
    conv = filled(store)
    exported = export_json(store, conv.id)
    payload = json.dumps(exported, ensure_ascii=False) if as_text else exported
    imported = import_json(other, payload)
    assert imported.id != conv.id
    assert imported.owner_id == "owner-b"
    assert comparable(export_json(other, imported.id)) == comparable(exported)
    assert other.totals(imported.id) == store.totals(conv.id)
    assert [c.id for c in other.list()] == [imported.id]


# a fine-tuned model id can be long; PostgreSQL, unlike SQLite, enforces VARCHAR lengths
LONG_MODEL = "ft:gpt-4o-mini-2024-07-18:" + "my-team-with-a-long-name:" * 12 + "abc123"


def test_long_model_ids_titles_and_finish_reasons_are_kept(store):
    conv = store.create(title="t" * 500, model=LONG_MODEL)
    reply = store.add_message(
        conv.id, "assistant", "hi", model=LONG_MODEL, finish_reason="provider-specific" * 10
    )
    store.update(conv.id, model=LONG_MODEL + "-2")
    assert (store.get(conv.id).title, store.get(conv.id).model) == ("t" * 500, LONG_MODEL + "-2")
    [stored] = store.messages(conv.id)
    assert stored == reply and stored.model == LONG_MODEL


def test_a_nul_character_is_no_crash(store):
    # PostgreSQL text cannot hold U+0000; it is dropped there, kept by SQLite
    conv = store.create(title="a\x00b")
    store.add_message(conv.id, "user", "pasted\x00text")
    assert [m.content.replace("\x00", "") for m in store.messages(conv.id)] == ["pastedtext"]
    assert store.get("\x00" + conv.id[1:]) is None
    assert [c.id for c in store.list("pasted\x00")] == [conv.id]


def test_import_refuses_values_longer_than_their_column(store, db):
    message = {"role": "assistant", "content": "hi", "status": "complete" * 10}
    with pytest.raises(ChatCanvasError):
        import_json(store, {"format": EXPORT_FORMAT, "messages": [message]})
    assert row_counts(db) == (0, 0)


def test_import_accepts_bytes(store):
    conv = filled(store)
    raw = json.dumps(export_json(store, conv.id)).encode()
    imported = import_json(store, raw)
    assert len(store.messages(imported.id)) == 4


@pytest.mark.parametrize(
    "payload",
    [
        "not json at all",
        "[]",
        json.dumps({"title": "x", "messages": []}),
        json.dumps({"format": "someone.else.v1", "messages": []}),
        json.dumps({"format": EXPORT_FORMAT, "title": "no messages"}),
        json.dumps({"format": EXPORT_FORMAT, "messages": "nope"}),
        json.dumps({"format": EXPORT_FORMAT, "messages": [{"role": "user", "content": "ok"}, "x"]}),
        json.dumps(
            {
                "format": EXPORT_FORMAT,
                "messages": [{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}],
            }
        ),
    ],
)
def test_import_rejects_foreign_files_and_creates_nothing(store, db, payload):
    with pytest.raises(ChatCanvasError):
        import_json(store, payload)
    assert store.list() == []
    assert row_counts(db) == (0, 0)


def test_a_failed_import_leaves_no_half_created_conversation(store, db):
    payload = {
        "format": EXPORT_FORMAT,
        "title": "half",
        "messages": [{"role": "user", "content": "hi", "prompt_tokens": {"not": "a number"}}],
    }
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do, as long as nothing stays
        import_json(store, payload)
    assert store.list() == []
    assert row_counts(db) == (0, 0)


def test_export_markdown(store):
    conv = filled(store)
    md = export_markdown(store, conv.id)
    assert md.startswith("# Trip plans\n")
    assert "*Model: gpt-4o-mini*" in md
    assert "## system\n\nYou are a travel agent." in md
    assert "## user\n\nWhere should I go in May?" in md
    assert "## assistant\n\nTry Jeju island." in md
    assert "## assistant (stopped)\n\nGangneung, perhaps" in md
    assert md.index("May?") < md.index("Jeju") < md.index("June?") < md.index("Gangneung")


def test_export_markdown_of_an_untitled_conversation(store):
    conv = store.create()
    store.add_message(conv.id, "user", "hi")
    md = export_markdown(store, conv.id)
    assert md.startswith("# Conversation\n")
    assert "Model:" not in md
    assert "## system" not in md


# -- owners --------------------------------------------------------------------------------
def test_another_owner_sees_nothing(store, other):
    conv = filled(store)
    assert other.get(conv.id) is None
    assert other.list() == []
    assert other.list("jeju") == []
    assert other.messages(conv.id) == []
    assert other.messages(conv.id, last=2) == []
    assert other.totals(conv.id) == ConversationTotals(0, 0, 0, 0.0, False)
    with pytest.raises(KeyError):
        export_json(other, conv.id)


def test_another_owner_cannot_change_or_delete(store, other, db):
    conv = filled(store)
    before_conv = store.get(conv.id)
    before_messages = store.messages(conv.id)
    other.update(conv.id, title="hacked", system_prompt="evil")
    other.update_message(before_messages[0].id, content="hacked", status="error")
    other.delete_messages_from(conv.id, before_messages[0].id)
    other.delete(conv.id)
    assert store.get(conv.id) == before_conv
    assert store.messages(conv.id) == before_messages
    assert row_counts(db) == (1, 4)


def test_owners_lists_are_separate(store, other):
    mine = store.create(title="mine")
    theirs = other.create(title="theirs")
    assert [c.id for c in store.list()] == [mine.id]
    assert [c.id for c in other.list()] == [theirs.id]
    assert store.get(theirs.id) is None


# -- auto_title ----------------------------------------------------------------------------
def test_auto_title_keeps_short_text():
    assert auto_title("How do I bake bread?") == "How do I bake bread?"


def test_auto_title_collapses_whitespace():
    assert auto_title("  How   do\tI   bake  ") == "How do I bake"


def test_auto_title_cuts_long_text_at_a_word():
    text = "Please explain the difference between streaming and non-streaming chat completions"
    title = auto_title(text)
    assert title.endswith("…")
    assert len(title) <= 61
    assert text.startswith(title[:-1])
    assert title[:-1] == title[:-1].rstrip()
    assert text[len(title) - 1] == " "  # the cut fell between words


def test_auto_title_cuts_one_long_word_at_the_limit():
    assert auto_title("x" * 100) == "x" * 60 + "…"
    assert auto_title("abcdef", limit=3) == "abc…"


def test_auto_title_korean():
    assert auto_title("제주도 여행 계획을 세워 줘") == "제주도 여행 계획을 세워 줘"


def test_auto_title_uses_the_first_line():
    assert (
        auto_title("Summarise this article:\nThe quick brown fox jumps")
        == "Summarise this article:"
    )
