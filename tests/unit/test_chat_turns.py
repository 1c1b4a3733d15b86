"""ChatTurns: stored conversations driven against the fake OpenAI API over real HTTP."""

from __future__ import annotations

import itertools

import pytest

from services import chat_turns
from services.catalog import Catalog
from services.chat import (
    ChatMessage,
    ChatOptions,
    ChatService,
    estimate_prompt_tokens,
    estimate_tokens,
)
from services.chat_turns import ChatTurns, PendingReply, live_reply, settle
from services.errors import ChatCanvasError, ErrorKind
from services.storage import ConversationStore
from services.storage.conversation_files import export_json, export_markdown, import_json
from tests.fakes.openai_server import FAKE_KEY, count_tokens, split_tokens

MODEL = "gpt-4o-mini"
OPTS = ChatOptions()
LONG_QUESTION = " ".join(f"word{i}" for i in range(30))


def run(pending: PendingReply) -> str:
    """Consume a reply as the page does, then record its final state."""
    text = "".join(pending)
    pending.finish()
    return text


def send(turns: ChatTurns, conv, text: str, model: str = MODEL, options: ChatOptions = OPTS):
    pending = turns.send(conv, text, model, options)
    run(pending)
    return pending


def roles(store: ConversationStore, conv) -> list[tuple[str, str, str]]:
    return [(m.role, m.content, m.status) for m in store.messages(conv.id)]


def sent_messages(fake) -> list[dict]:
    return fake.chat_requests()[-1].body["messages"]


def error_of(call) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        call()
    return info.value


# -- send ----------------------------------------------------------------------------------
def test_send_stores_the_question_then_the_complete_reply(turns, store, fake, catalog):
    fake.first_token_delay = 0.05
    conv = store.create(system_prompt="Be brief.")
    pending = turns.send(conv, "What is a fake?", MODEL, ChatOptions(temperature=0.5))
    # the question is committed before the reply streams
    [question, placeholder] = store.messages(conv.id)
    assert (question.role, question.content, question.status) == (
        "user",
        "What is a fake?",
        "complete",
    )
    assert (placeholder.role, placeholder.status, placeholder.model) == (
        "assistant",
        "incomplete",
        MODEL,
    )

    text = "".join(pending)
    final = pending.finish()
    assert final == store.messages(conv.id)[-1]  # what finish() returns is what was stored
    assert text == "Fake gpt-4o-mini reply #1: What is a fake?"
    assert final.id == placeholder.id
    assert final.role == "assistant"
    assert final.content == text
    assert final.status == "complete"
    assert final.finish_reason == "stop"
    assert final.error_kind is None
    assert final.model == MODEL
    assert final.prompt_tokens == sum(count_tokens(t) + 4 for t in ("Be brief.", "What is a fake?"))
    assert final.completion_tokens == len(split_tokens(text))
    expected_cost = catalog.spec(MODEL).cost(final.prompt_tokens, final.completion_tokens)
    assert final.cost_usd == pytest.approx(expected_cost)
    assert final.latency_ms is not None and final.latency_ms >= 50
    assert store.messages(conv.id) == [question, final]


def test_send_gives_the_conversation_an_auto_title_once(turns, store):
    conv = store.create()
    send(turns, conv, "  Plan a three day trip to Jeju\nwith kids  ")
    titled = store.get(conv.id)
    assert titled.title == "Plan a three day trip to Jeju"
    send(turns, titled, "And a fourth day?")
    assert store.get(conv.id).title == "Plan a three day trip to Jeju"


def test_send_keeps_an_existing_title(turns, store):
    conv = store.create(title="My title")
    send(turns, conv, "hello")
    assert store.get(conv.id).title == "My title"


def test_send_bumps_the_conversation_in_the_list(turns, store):
    older = store.create(title="older")
    store.create(title="newer")
    send(turns, older, "hello")
    assert store.list()[0].id == older.id


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_stores_and_sends_nothing(turns, store, fake, text):
    conv = store.create()
    assert error_of(lambda: turns.send(conv, text, MODEL, OPTS)).kind is ErrorKind.EMPTY_INPUT
    assert store.messages(conv.id) == []
    assert fake.chat_requests() == []
    assert store.get(conv.id).title == ""


def test_oversized_text_stores_and_sends_nothing(turns, store, fake):
    conv = store.create()
    err = error_of(lambda: turns.send(conv, "x" * 200_001, MODEL, OPTS))
    assert err.kind is ErrorKind.INPUT_TOO_LONG
    assert store.messages(conv.id) == []
    assert fake.chat_requests() == []


def test_the_model_receives_the_whole_history(turns, store, fake):
    conv = store.create(system_prompt="You are terse.")
    send(turns, conv, "one")
    send(turns, store.get(conv.id), "two")
    assert sent_messages(fake) == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "Fake gpt-4o-mini reply #1: one"},
        {"role": "user", "content": "two"},
    ]


def test_options_reach_the_request_as_the_model_takes_them(turns, store, fake):
    conv = store.create()
    send(turns, conv, "hi", "gpt-5.4-mini", ChatOptions(temperature=0.3, max_tokens=50))
    body = fake.chat_requests()[-1].body
    assert body["max_completion_tokens"] == 50
    assert "temperature" not in body and "max_tokens" not in body


def test_an_unpriced_model_stores_no_cost_and_totals_say_so(turns, store, fake):
    from tests.fakes.openai_server import FakeModel

    fake.models.append(FakeModel("gpt-6.1-sol", reasoning=True))
    conv = store.create()
    send(turns, conv, "hi", "gpt-6.1-sol")
    reply = store.messages(conv.id)[-1]
    assert reply.completion_tokens and reply.cost_usd is None
    assert store.totals(conv.id).cost_incomplete


# -- api_messages --------------------------------------------------------------------------
def test_api_messages_system_first_and_empty_assistant_rows_skipped(turns, store):
    conv = store.create(system_prompt="System here.")
    store.add_message(conv.id, "user", "q1")
    store.add_message(conv.id, "assistant", "", status="incomplete")
    store.add_message(conv.id, "assistant", "   ", status="stopped")
    store.add_message(conv.id, "user", "q2", status="error", error_kind="timeout")
    store.add_message(conv.id, "assistant", "partial answer", status="stopped")
    store.add_message(conv.id, "user", "q3")
    assert turns.api_messages(conv) == [
        ChatMessage("system", "System here."),
        ChatMessage("user", "q1"),
        ChatMessage("user", "q2"),
        ChatMessage("assistant", "partial answer"),
        ChatMessage("user", "q3"),
    ]


def test_api_messages_without_a_system_prompt(turns, store):
    conv = store.create(system_prompt="   ")
    store.add_message(conv.id, "user", "q1")
    assert turns.api_messages(conv) == [ChatMessage("user", "q1")]


# -- errors before the stream opens --------------------------------------------------------
def test_no_credit_marks_the_question_and_stores_nothing_else(turns, store, fake):
    conv = store.create()
    fake.set_fault("insufficient_quota")
    err = error_of(lambda: turns.send(conv, "Are you there?", MODEL, OPTS))
    assert err.kind is ErrorKind.NO_CREDIT
    [question] = store.messages(conv.id)
    assert question.role == "user"
    assert question.content == "Are you there?"
    assert question.status == "error"
    assert question.error_kind == "no_credit"
    assert store.totals(conv.id).messages == 1


def test_retry_after_the_fault_clears_answers_and_resets_the_question(turns, store, fake):
    conv = store.create()
    fake.set_fault("insufficient_quota")
    error_of(lambda: turns.send(conv, "Are you there?", MODEL, OPTS))
    fake.clear_faults()
    run(turns.reply(store.get(conv.id), MODEL, OPTS))
    [question, answer] = store.messages(conv.id)
    assert (question.status, question.error_kind) == ("complete", None)
    assert (answer.role, answer.status) == ("assistant", "complete")
    assert answer.content == "Fake gpt-4o-mini reply #1: Are you there?"
    # the question was sent once, not twice
    assert [m["role"] for m in sent_messages(fake)] == ["user"]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("rate_limit", "rate_limit"),
        ("server_error", "server_error"),
        ("permission", "permission"),
        ("model_not_found", "model_not_found"),
        ("invalid_key", "invalid_key"),
    ],
)
def test_each_pre_stream_error_is_recorded_on_the_question(turns, store, fake, fault, kind):
    conv = store.create()
    fake.set_fault(fault, times=1)
    assert error_of(lambda: turns.send(conv, "hi", MODEL, OPTS)).kind == kind
    [question] = store.messages(conv.id)
    assert (question.status, question.error_kind) == ("error", kind)


def test_unknown_model_is_recorded_as_model_not_found(turns, store):
    conv = store.create()
    assert (
        error_of(lambda: turns.send(conv, "hi", "gpt-nope", OPTS)).kind is ErrorKind.MODEL_NOT_FOUND
    )
    assert store.messages(conv.id)[-1].error_kind == "model_not_found"


def test_reply_without_a_question_is_refused(turns, store, fake):
    conv = store.create()
    assert error_of(lambda: turns.reply(conv, MODEL, OPTS)).kind is ErrorKind.EMPTY_INPUT
    send(turns, conv, "hi")
    # the last message is now the answer: nothing to answer
    assert error_of(lambda: turns.reply(conv, MODEL, OPTS)).kind is ErrorKind.EMPTY_INPUT
    assert len(fake.chat_requests()) == 1


# -- context window ------------------------------------------------------------------------
def test_an_over_long_message_is_refused_before_sending(turns, store, fake):
    conv = store.create()
    # gpt-3.5-turbo reads 16,385 tokens; 70,000 characters estimate at 17,500.
    err = error_of(lambda: turns.send(conv, "x" * 70_000, "gpt-3.5-turbo", OPTS))
    assert err.kind is ErrorKind.CONTEXT_TOO_LONG
    assert fake.chat_requests() == []
    [question] = store.messages(conv.id)
    assert (question.status, question.error_kind) == ("error", "context_too_long")


def test_a_history_that_outgrows_the_window_is_refused_before_sending(store, settings, fake):
    small = Catalog(
        {
            "default_chat_model": MODEL,
            "default_image_model": "gpt-image-2",
            "models": {MODEL: {"kind": "chat", "context_window": 50}},
        }
    )
    turns = ChatTurns(store, ChatService(settings, small, timeout=5.0, max_retries=0))
    conv = store.create()
    send(turns, conv, "first question about something")  # about 12 tokens
    assert len(fake.chat_requests()) == 1
    # with the first answer (about 19) and this (about 28), the history passes 50
    err = error_of(lambda: turns.send(conv, "second question " * 6, MODEL, OPTS))
    assert err.kind is ErrorKind.CONTEXT_TOO_LONG
    assert len(fake.chat_requests()) == 1
    assert store.messages(conv.id)[-1].status == "error"


# -- regenerate and edit -------------------------------------------------------------------
def numbered_replies(fake) -> None:
    counter = itertools.count(1)
    fake.reply = lambda messages, model: f"answer {next(counter)}"


def test_regenerate_replaces_the_last_reply(turns, store, fake):
    numbered_replies(fake)
    conv = store.create(system_prompt="sys")
    send(turns, conv, "q1")
    send(turns, store.get(conv.id), "q2")
    history_sent = sent_messages(fake)
    run(turns.regenerate(conv, MODEL, OPTS))
    assert roles(store, conv) == [
        ("user", "q1", "complete"),
        ("assistant", "answer 1", "complete"),
        ("user", "q2", "complete"),
        ("assistant", "answer 3", "complete"),
    ]
    assert sent_messages(fake) == history_sent  # the same history, without the old reply


def test_regenerate_replaces_a_stopped_or_cut_reply(turns, store, fake):
    conv = store.create()
    fake.set_fault("cut_stream", times=1)
    send(turns, conv, "q1")
    assert store.messages(conv.id)[-1].status == "incomplete"
    run(turns.regenerate(conv, MODEL, OPTS))
    msgs = store.messages(conv.id)
    assert [(m.role, m.status) for m in msgs] == [("user", "complete"), ("assistant", "complete")]
    assert sent_messages(fake) == [{"role": "user", "content": "q1"}]


def test_regenerate_on_an_empty_conversation_is_refused(turns, store):
    conv = store.create()
    assert error_of(lambda: turns.regenerate(conv, MODEL, OPTS)).kind is ErrorKind.EMPTY_INPUT


def test_edit_last_replaces_the_last_question_and_what_followed(turns, store, fake):
    numbered_replies(fake)
    conv = store.create()
    send(turns, conv, "q1")
    send(turns, store.get(conv.id), "q2 with a typo")  # the page reloads the conversation
    run(turns.edit_last(store.get(conv.id), "q2 fixed", MODEL, OPTS))
    assert roles(store, conv) == [
        ("user", "q1", "complete"),
        ("assistant", "answer 1", "complete"),
        ("user", "q2 fixed", "complete"),
        ("assistant", "answer 3", "complete"),
    ]
    assert sent_messages(fake) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "answer 1"},
        {"role": "user", "content": "q2 fixed"},
    ]
    assert store.get(conv.id).title == "q1"


def test_regenerate_keeps_earlier_versions_to_flip_between(turns, store, fake):
    counter = itertools.count(1)
    fake.reply = lambda messages, model: f"answer {next(counter)}"
    conv = store.create()
    send(turns, conv, "q1")
    run(turns.regenerate(conv, MODEL, OPTS))
    run(turns.regenerate(conv, MODEL, OPTS))
    assert [m.content for m in turns.versions(conv)] == ["answer 1", "answer 2", "answer 3"]
    assert roles(store, conv) == [("user", "q1", "complete"), ("assistant", "answer 3", "complete")]
    assert store.totals(conv.id).messages == 2
    costs = [m.cost_usd for m in turns.versions(conv)]
    assert store.totals(conv.id).cost_usd == pytest.approx(sum(costs))  # replaced, still paid

    first = turns.versions(conv)[0]
    assert turns.show_version(conv, first.id)
    assert roles(store, conv)[-1] == ("assistant", "answer 1", "complete")
    assert len(turns.versions(conv)) == 3
    send(turns, conv, "q2")  # the model sees the version shown
    assert [m["content"] for m in sent_messages(fake)] == ["q1", "answer 1", "q2"]
    assert not turns.show_version(conv, first.id)  # not a version of the last reply any more

    turns.edit_last(store.get(conv.id), "q2 again", MODEL, OPTS).finish()
    assert [m.content for m in store.messages(conv.id)][:2] == ["q1", "answer 1"]


def test_edit_and_resend_drops_the_versions_of_the_reply_it_replaces(turns, store, fake):
    conv = store.create()
    send(turns, conv, "q1")
    run(turns.regenerate(conv, MODEL, OPTS))
    run(turns.edit_last(store.get(conv.id), "q1 fixed", MODEL, OPTS))
    assert len(turns.versions(conv)) == 1
    assert [m.role for m in store.messages(conv.id)] == ["user", "assistant"]


def test_edit_last_with_empty_text_changes_nothing(turns, store, fake):
    conv = store.create()
    send(turns, conv, "q1")
    before = store.messages(conv.id)
    assert error_of(lambda: turns.edit_last(conv, "  ", MODEL, OPTS)).kind is ErrorKind.EMPTY_INPUT
    assert store.messages(conv.id) == before
    assert len(fake.chat_requests()) == 1


def test_edit_last_of_a_failed_question(turns, store, fake):
    conv = store.create()
    fake.set_fault("server_error", times=1)
    error_of(lambda: turns.send(conv, "q1", MODEL, OPTS))
    run(turns.edit_last(store.get(conv.id), "q1 again", MODEL, OPTS))
    assert roles(store, conv) == [
        ("user", "q1 again", "complete"),
        ("assistant", "Fake gpt-4o-mini reply #1: q1 again", "complete"),
    ]


# -- stopping, abandoning and cut streams --------------------------------------------------
def test_the_first_words_are_handed_over_before_the_reply_is_saved(turns, store, fake):
    # saved a second after the stream opened, not at its first token: with ten sessions
    # answering at once, ten commits queued on the database's one writer before ten first tokens
    conv = store.create()
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS)
    deltas = pending.__iter__()
    assert next(deltas)
    row = store.messages(conv.id)[-1]
    assert (row.role, row.content, row.status) == ("assistant", "", "incomplete")
    deltas.close()


def test_an_abandoned_reply_stays_stored_as_incomplete(turns, store, fake, monkeypatch):
    monkeypatch.setattr(chat_turns, "SAVE_EVERY_SECONDS", 0.0)  # saved at every piece
    fake.token_delay = 0.01
    conv = store.create()
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS)
    deltas = pending.__iter__()
    received = "".join(next(deltas) for _ in range(3))
    # the process could die here: what the database holds must already say "incomplete"
    row = store.messages(conv.id)[-1]
    assert row.role == "assistant"
    assert row.status == "incomplete"
    assert row.content and received.startswith(row.content)  # text is saved as it streams
    assert row.prompt_tokens is None and row.cost_usd is None
    deltas.close()  # the consumer goes away without finish()
    row = store.messages(conv.id)[-1]
    assert row.status == "incomplete"
    assert row.content and received.startswith(row.content)
    # what was shown is what the model sees next time
    assert turns.api_messages(conv)[-1] == ChatMessage("assistant", row.content)


def test_stop_mid_stream_stores_stopped_with_the_partial_text(turns, store, fake):
    fake.token_delay = 0.01
    conv = store.create()
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS)
    deltas = iter(pending)
    received = "".join(next(deltas) for _ in range(4))
    final = pending.finish(stopped=True)
    assert final == store.messages(conv.id)[-1]  # what finish() returns is what was stored
    assert final.status == "stopped"
    assert final.content == received
    full = f"Fake gpt-4o-mini reply #1: {LONG_QUESTION}"
    assert full.startswith(final.content) and len(final.content) < len(full)
    assert final.error_kind is None
    # no usage came: counted from the prompt and the text that arrived, not as 0 and $0
    assert final.completion_tokens == estimate_tokens(received)
    assert final.prompt_tokens == estimate_prompt_tokens([ChatMessage("user", LONG_QUESTION)])
    spec = turns.chat.catalog.spec(MODEL)
    assert final.cost_usd == pytest.approx(spec.cost(final.prompt_tokens, final.completion_tokens))
    assert final.cost_usd > 0
    assert store.totals(conv.id).cost_usd == pytest.approx(final.cost_usd)
    deltas.close()
    assert store.messages(conv.id)[-1] == final


def test_a_reply_in_the_background_is_complete_though_nobody_reads_it(turns, store, fake):
    """The page that started the reply is left (another page, another conversation, a
    reload): the writer goes on, and a later run finds the whole reply stored complete."""
    fake.token_delay = 0.01
    conv = store.create()
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS).in_background()
    assert live_reply(conv.id) is pending  # a page run coming back can follow it
    assert pending.done.wait(30)
    final = store.messages(conv.id)[-1]
    assert final.content == f"Fake gpt-4o-mini reply #1: {LONG_QUESTION}"
    assert final.status == "complete" and final.completion_tokens
    assert live_reply(conv.id) is None


def test_following_a_background_reply_gives_the_whole_text(turns, store, fake):
    fake.token_delay = 0.01
    conv = store.create()
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS).in_background()
    first = next(pending.follow())  # a reader that came back mid-stream
    rest = "".join(live_reply(conv.id).follow()) if live_reply(conv.id) else ""
    full = f"Fake gpt-4o-mini reply #1: {LONG_QUESTION}"
    assert first and full.startswith(first)
    assert rest == "" or full.endswith(rest)
    assert store.messages(conv.id)[-1].content == full


def test_only_stop_ends_a_background_reply(turns, store, fake):
    fake.token_delay = 0.05
    conv = store.create()
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS).in_background()
    next(pending.follow())
    assert settle(conv.id, cancel=True)
    final = store.messages(conv.id)[-1]
    full = f"Fake gpt-4o-mini reply #1: {LONG_QUESTION}"
    assert final.status == "stopped"
    assert final.content and full.startswith(final.content) and final.content != full


def test_stop_after_the_reply_completed_is_still_complete(turns, store):
    conv = store.create()
    pending = turns.send(conv, "short", MODEL, OPTS)
    "".join(pending)
    assert pending.finish(stopped=True).status == "complete"


def test_a_cut_stream_is_stored_incomplete_with_its_error(turns, store, fake):
    conv = store.create()
    fake.set_fault("cut_stream", times=1)
    pending = turns.send(conv, LONG_QUESTION, MODEL, OPTS)
    text = "".join(pending)
    final = pending.finish()
    full = f"Fake gpt-4o-mini reply #1: {LONG_QUESTION}"
    assert text and full.startswith(text) and len(text) < len(full)
    assert final.content == text
    assert final.status == "incomplete"
    assert final.error_kind == "stream_interrupted"
    assert final.finish_reason is None
    assert final.completion_tokens == estimate_tokens(text) and final.cost_usd > 0  # estimated
    # the question itself was sent fine
    assert store.messages(conv.id)[0].status == "complete"


def test_a_stream_without_finish_reason_is_stored_incomplete(turns, store, fake):
    conv = store.create()
    fake.set_fault("no_finish", times=1)
    final = send(turns, conv, "hi").finish()
    assert final.content == "Fake gpt-4o-mini reply #1: hi"
    assert final.status == "incomplete"
    assert final.error_kind == "stream_interrupted"


def test_a_reply_cut_by_the_token_limit_is_complete_with_finish_reason_length(turns, store):
    conv = store.create()
    send(turns, conv, LONG_QUESTION, MODEL, ChatOptions(max_tokens=4))
    final = store.messages(conv.id)[-1]
    assert final.status == "complete"
    assert final.finish_reason == "length"
    assert final.completion_tokens == 4


# -- secrets -------------------------------------------------------------------------------
def test_the_database_file_never_contains_the_api_key(turns, store, fake, tmp_path):
    conv = store.create(system_prompt="Be helpful.")
    send(turns, conv, "hello")
    fake.set_fault("insufficient_quota", times=1)
    error_of(lambda: turns.send(store.get(conv.id), "again", MODEL, OPTS))
    run(turns.reply(store.get(conv.id), MODEL, OPTS))
    fake.set_fault("cut_stream", times=1)
    send(turns, store.get(conv.id), LONG_QUESTION)
    run(turns.regenerate(store.get(conv.id), MODEL, OPTS))
    run(turns.edit_last(store.get(conv.id), "edited", "gpt-5.4-mini", ChatOptions(max_tokens=99)))
    import_json(store, export_json(store, conv.id))
    assert len(store.messages(conv.id)) == 6

    key = FAKE_KEY.encode()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("t.db")]
    assert files
    for path in files:
        data = path.read_bytes()
        assert key not in data, path.name
        assert b"sk-fake" not in data, path.name
    exported = export_json(store, conv.id)
    assert FAKE_KEY not in repr(exported)
    assert FAKE_KEY not in export_markdown(store, conv.id)


def test_a_regenerate_that_cannot_start_keeps_the_old_answer(turns, store, fake):
    conv = store.create()
    send(turns, conv, "Tell me about Jeju")
    before = store.messages(conv.id)
    fake.set_fault("insufficient_quota")
    with pytest.raises(ChatCanvasError) as caught:
        turns.regenerate(store.get(conv.id), MODEL, ChatOptions())
    assert caught.value.kind is ErrorKind.NO_CREDIT
    assert store.messages(conv.id) == before  # the answer is still there, nothing marked
