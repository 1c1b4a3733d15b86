"""The Chat page driven through AppTest against the fake OpenAI API."""

from __future__ import annotations

import pytest

from tests.app.conftest import new_app
from tests.fakes.openai_server import FAKE_KEY


def texts(at) -> str:
    """Everything the page shows as text, for 'does the user see X' assertions."""
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def send(at, text: str):
    """Send ``text``; the tree is then the whole page, as the browser shows it."""
    return whole_page(submit(at, text))


def submit(at, text: str):
    """Send ``text``; the tree is what that run drew (only its fragments, when it ran them)."""
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def whole_page(at):
    """After a run of fragments alone (a message answered in place), AppTest's tree holds only
    what they drew, where the browser keeps the rest of the page: run the page to have it."""
    if not at.chat_input:
        at.run()
        assert not at.exception, at.exception
    return at


def bubbles(at) -> list[tuple[str, str]]:
    return [(m.name, "\n".join(str(x.value) for x in m.markdown)) for m in at.chat_message]


def test_first_run_shows_welcome_and_default_model(app):
    assert not app.exception
    assert "Start a conversation" in texts(app)
    model = app.selectbox(key="chat_model")
    assert model.value == "gpt-5.4-mini"  # the catalog's current, inexpensive default
    # the live list marks retiring models and still offers them, retired ones come last
    assert model.options[-1].startswith("gpt-3.5-turbo")


def test_model_status_uses_material_icons_not_emoji(app):
    """Emoji need an emoji font and show as empty boxes without one; Streamlit's Material
    icons always draw. Labels say the status in words; the icon marks the chosen model."""
    model = app.selectbox(key="chat_model")
    labels = "\n".join(model.options)
    assert "⏳" not in labels and "⛔" not in labels
    assert "shuts down" in labels and "retired" in labels
    assert model.proto.icon == ""  # the default model is current
    retired = next(o for o in model.options if "retired" in o).split(" — ")[0]
    model.set_value(retired).run()
    assert app.selectbox(key="chat_model").proto.icon == ":material/block:"
    retiring = next(o for o in model.options if "shuts down" in o).split(" — ")[0]
    app.selectbox(key="chat_model").set_value(retiring).run()
    assert app.selectbox(key="chat_model").proto.icon == ":material/schedule:"


def test_send_streams_reply_with_usage_and_url(app, fake_openai):
    send(app, "Imagine animals on Mars")
    roles = [name for name, _ in bubbles(app)]
    assert roles == ["user", "assistant"]
    assert "Fake gpt-5.4-mini reply #1: Imagine animals on Mars" in bubbles(app)[1][1]
    caption = texts(app)
    assert "in ·" in caption and "out" in caption and "$" in caption
    assert app.query_params["c"]
    body = fake_openai.chat_requests()[-1].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "temperature" not in body  # reasoning model: default temperature only
    assert body["messages"][0]["role"] == "system"


def test_history_is_carried_and_survives_a_new_session(app, fake_openai):
    send(app, "first")
    send(app, "second")
    sent = fake_openai.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    conversation_id = app.query_params["c"]
    # a reload is a new session with the same URL
    reloaded = new_app(c=conversation_id).run()
    assert [name for name, _ in bubbles(reloaded)] == ["user", "assistant", "user", "assistant"]
    assert "reply #2: second" in bubbles(reloaded)[3][1]


def test_switch_between_conversations(app):
    send(app, "about cats")
    first = app.query_params["c"]
    app.sidebar.button(key="chat_new").click().run()
    assert "c" not in app.query_params
    send(app, "about dogs")
    second = app.query_params["c"]
    assert second != first
    app.sidebar.button(key=f"conv_{first}").click().run()
    assert app.query_params["c"] == first
    assert "about cats" in bubbles(app)[0][1]


def test_temperature_only_for_models_that_take_it(app, fake_openai):
    assert not [s for s in app.slider if s.key == "chat_temperature"]
    app.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    app.slider(key="chat_temperature").set_value(0.3).run()
    app.number_input(key="chat_max_tokens").set_value(512).run()
    send(app, "hi")
    body = fake_openai.chat_requests()[-1].body
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.3 and body["max_tokens"] == 512


def test_empty_input_is_not_sent(app, fake_openai):
    send(app, "   ")
    assert not fake_openai.chat_requests()
    assert "nothing was sent" in texts(app)
    assert not app.chat_message


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("insufficient_quota", "retrying will not help"),
        ("invalid_key", "API key was rejected"),
        ("rate_limit", "Retry in about 1 second."),  # one second, not "1 seconds"
        ("context_length", "longer than this model can read"),
        ("unsupported_parameter", "does not accept one of the parameters"),
        ("model_not_found", "does not exist or has been retired"),
        ("server_error", "internal error"),
    ],
)
def test_errors_keep_the_message_and_offer_retry(app, fake_openai, fault, expected):
    fake_openai.set_fault(fault)
    send(app, "please keep this text")
    assert expected in texts(app)
    assert bubbles(app)[0] == ("user", "please keep this text")
    assert "Traceback" not in texts(app)
    fake_openai.clear_faults()
    app.button(key=next(b.key for b in app.button if b.key.startswith("retry_"))).click().run()
    assert [name for name, _ in bubbles(app)] == ["user", "assistant"]
    assert "please keep this text" in bubbles(app)[1][1]


def test_unreachable_base_url(app_env, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    at = new_app().run()
    send(at, "hello")
    assert "Could not reach the API" in texts(at)
    assert bubbles(at)[0] == ("user", "hello")


def test_cut_stream_is_kept_and_marked_incomplete(app, fake_openai):
    fake_openai.set_fault("cut_stream")
    send(app, "one two three four five six seven eight")
    name, text = bubbles(app)[1]
    assert name == "assistant" and text.startswith("Fake")
    assert "incomplete" in texts(app)


def test_regenerate_and_edit(app, fake_openai):
    send(app, "original")
    regen = next(b for b in app.button if b.key and b.key.startswith("regen_"))
    regen.click().run()
    assert [name for name, _ in bubbles(app)] == ["user", "assistant"]
    assert len(fake_openai.chat_requests()) == 2
    app.button(key=next(b.key for b in app.button if b.key.startswith("edit_"))).click().run()
    box = next(t for t in app.text_area if t.key.startswith("edit_text_"))
    box.set_value("edited question").run()
    app.button(key=next(b.key for b in app.button if b.key.startswith("resend_"))).click().run()
    assert bubbles(app)[0] == ("user", "edited question")
    assert "edited question" in bubbles(app)[1][1]
    assert len(app.chat_message) == 2


def test_show_earlier_pages_long_conversations(app_env):
    from services.storage import ConversationStore, open_database

    store = ConversationStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    conversation = store.create(title="long")
    for i in range(120):
        store.add_message(conversation.id, "user" if i % 2 == 0 else "assistant", f"message {i}")
    at = new_app(c=conversation.id).run()
    assert len(at.chat_message) == 30
    assert "message 119" in bubbles(at)[-1][1]
    at.button(key="chat_show_earlier").click().run()
    assert len(at.chat_message) == 60


def test_a_message_sent_in_place_is_drawn_under_the_transcript_as_it_was(app_env, fake_openai):
    """The transcript above a message sent in an open conversation is read after the message
    and its reply's row are stored (so that the request leaves first: bench/bench_sessions.py
    measures what that buys): it is still the conversation before the message (its newest
    page, its count), and the message and its reply are drawn once, under it."""
    from services.storage import ConversationStore, open_database

    store = ConversationStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    conversation = store.create(title="a page long")
    for i in range(30):  # exactly one page: nothing earlier to show
        store.add_message(conversation.id, "user" if i % 2 == 0 else "assistant", f"message {i}")
    at = new_app(c=conversation.id).run()
    submit(at, "one more")
    assert not at.sidebar.button  # answered in place: this run drew the transcript and the turn
    texts_drawn = [text for _, text in bubbles(at)]
    assert texts_drawn[:30] == [f"message {i}" for i in range(30)]
    assert texts_drawn[30] == "one more" and "reply #16: one more" in texts_drawn[31]
    assert len(texts_drawn) == 32
    assert not [b for b in at.button if b.key == "chat_show_earlier"]  # counted as before


def test_a_message_sent_in_place_reads_its_conversation_once(app_env, fake_openai, monkeypatch):
    """The input's callback reads the newest conversation (does the open one lead the list?)
    to choose a run of the part alone; that run takes the row it read instead of reading the
    conversation again before the request leaves (bench/bench_sessions.py)."""
    from services.storage import ConversationStore, open_database

    store = ConversationStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    conversation = store.create(title="read once")
    store.add_message(conversation.id, "user", "hello")
    store.add_message(conversation.id, "assistant", "hi")
    at = new_app(c=conversation.id).run()
    reads, get = [], ConversationStore.get
    monkeypatch.setattr(
        ConversationStore, "get", lambda self, cid: reads.append(cid) or get(self, cid)
    )
    submit(at, "one more")
    assert not at.sidebar.button  # answered in place
    assert "reply #2: one more" in bubbles(at)[-1][1]
    assert reads == []


def test_rename_delete_and_search(app):
    send(app, "a conversation about whales")
    conversation_id = app.query_params["c"]
    app.sidebar.text_input(key=f"title_{conversation_id}").set_value("Whales").run()
    app.sidebar.button(key="chat_rename_save").click().run()
    assert app.subheader[0].value == "Whales"
    app.sidebar.text_input(key="chat_search").set_value("whales").run()
    assert [b for b in app.sidebar.button if b.key == f"conv_{conversation_id}"]
    app.sidebar.text_input(key="chat_search").set_value("zebras").run()
    assert not [b for b in app.sidebar.button if b.key == f"conv_{conversation_id}"]
    shown = texts(app)
    assert "No conversation matches “zebras”." in shown and "No conversations yet" not in shown
    # nothing offers to rename, delete or export a conversation the list does not show
    assert not [b for b in app.sidebar.button if b.key == "chat_delete_confirm"]
    assert not [w for w in app.sidebar.text_input if w.key == f"title_{conversation_id}"]
    assert not app.sidebar.get("download_button")
    app.sidebar.text_input(key="chat_search").set_value("").run()
    assert len(app.sidebar.get("download_button")) == 2
    app.sidebar.button(key="chat_delete_confirm").click().run()
    assert "c" not in app.query_params
    assert not app.chat_message


def test_missing_conversation_in_url(app_env):
    at = new_app(c="doesnotexist").run()
    assert not at.exception
    assert "c" not in at.query_params
    # a Material icon, not an emoji (an empty box where no emoji font is installed)
    assert [toast.icon for toast in at.toast] == [":material/warning:"]


def test_no_key_says_how_to_add_one(app_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    at = new_app().run()
    assert "Two ways to add a key" in texts(at)  # the first-run panel (tests/app/test_first_run.py)


def test_sidebar_key_wins_and_is_masked(app_env, fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-wrong-key-from-env-000000")
    at = new_app().run()
    at.sidebar.text_input(key="sidebar_openai_key").input(FAKE_KEY)
    # a sidebar key goes with a sidebar base URL (or api.openai.com), never the environment's
    at.sidebar.text_input(key="sidebar_openai_base_url").input(fake_openai.base_url).run()
    send(at, "hello")
    assert "reply #1" in bubbles(at)[1][1]
    assert FAKE_KEY not in texts(at)
    assert "sk-…0000 (from this session)" in texts(at)


def test_test_connection_lists_models_or_explains(app, fake_openai):
    app.sidebar.button(key="test_connection").click().run()
    assert f"Connected: {len(fake_openai.models)} models" in texts(app)
    fake_openai.set_fault("invalid_key", endpoint="models")
    app.sidebar.button(key="test_connection").click().run()
    assert "API key was rejected" in texts(app)


def test_korean_ui(app):
    app.sidebar.radio(key="lang").set_value("ko").run()
    assert "아래에서 대화를 시작하세요" in texts(app)
    app.chat_input[0].set_value("   ").run()
    assert "메시지가 비어 있어 보내지 않았습니다" in texts(app)


def test_the_chosen_language_is_kept_in_the_url(app):
    assert "lang" not in app.query_params  # nobody chose: the browser's language, a bare URL
    app.sidebar.radio(key="lang").set_value("ko").run()
    assert app.query_params["lang"] == "ko"
    reloaded = new_app(lang="ko").run()  # a reload or a shared link is a new session
    assert reloaded.sidebar.radio(key="lang").value == "ko"
    assert "아래에서 대화를 시작하세요" in texts(reloaded)
    korean_browser = new_app(lang="en")
    korean_browser.context["locale"] = "ko-KR"
    assert korean_browser.run().sidebar.radio(key="lang").value == "en"
    assert new_app(lang="fr").run().sidebar.radio(key="lang").value == "en"


def test_an_unknown_model_from_the_server_sticks_and_is_sent(app_env, fake_openai):
    """An id only the server knows (say, an Ollama model) is offered, stays selected, is sent
    as it is, and its cost shows as unknown rather than a guess."""
    from tests.fakes.openai_server import FakeModel

    fake_openai.models.append(FakeModel("llama3.2"))
    at = new_app().run()
    at.selectbox(key="chat_model").set_value("llama3.2").run()
    at.run()
    assert at.selectbox(key="chat_model").value == "llama3.2"
    send(at, "hi")
    assert fake_openai.chat_requests()[-1].body["model"] == "llama3.2"
    assert "cost unknown" in texts(at)


def test_a_failed_regenerate_keeps_the_answer_and_says_why(app, fake_openai):
    send(app, "original")
    fake_openai.set_fault("insufficient_quota")
    app.button(
        key=next(b.key for b in app.button if b.key and b.key.startswith("regen_"))
    ).click().run()
    assert [name for name, _ in bubbles(app)] == ["user", "assistant"]
    assert "reply #1: original" in bubbles(app)[1][1]
    assert "retrying will not help" in texts(app)


def test_an_imported_conversation_with_odd_values_opens(app_env):
    """Files from elsewhere may carry kinds and parameters this version does not know."""
    from services.storage import ConversationStore, open_database
    from services.storage.conversation_files import import_json

    store = ConversationStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    conversation = import_json(
        store,
        {
            "format": "chatcanvas.conversation.v1",
            "title": "odd",
            "params": {"temperature": 2, "max_tokens": 2_000_000_000, "top_k": "warm"},
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "user", "content": "hi", "status": "error", "error_kind": "quota"}
            ],
        },
    )
    at = new_app(c=conversation.id).run()
    assert not at.exception, at.exception
    assert "Something went wrong" in texts(at)
    assert at.slider(key="chat_temperature").value == 2.0


def test_chat_settings_survive_a_visit_to_another_page(app, fake_openai):
    app.text_area(key="chat_system_prompt").set_value("You are a pirate.").run()
    app.switch_page("app_pages/gallery.py").run()
    app.switch_page("app_pages/chat.py").run()
    assert app.text_area(key="chat_system_prompt").value == "You are a pirate."
    send(app, "hello")
    assert fake_openai.chat_requests()[-1].body["messages"][0]["content"] == "You are a pirate."


def test_a_key_error_goes_away_once_the_key_is_fixed(app_env, fake_openai, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    at = new_app().run()
    at.sidebar.text_input(key="sidebar_openai_base_url").set_value(fake_openai.base_url)
    at.sidebar.text_input(key="sidebar_openai_key").set_value("sk-wrong-key-0000").run()
    send(at, "hello there")
    assert "rejected" in texts(at)
    at.sidebar.text_input(key="sidebar_openai_key").set_value(FAKE_KEY).run()
    assert not at.exception, at.exception
    assert "rejected" not in texts(at)  # the old error is no longer shown as the current state
    assert bubbles(at)[0] == ("user", "hello there")  # kept, and one click from being sent
    at.button(key=next(b.key for b in at.button if b.key.startswith("retry_"))).click().run()
    assert "reply #1: hello there" in bubbles(at)[1][1]


def test_the_sidebar_groups_conversations_by_when_they_were_used(app):
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from components.conversation_list import recency_group

    seoul, today = ZoneInfo("Asia/Seoul"), date(2026, 3, 10)
    # 23:30 UTC on the 9th is already the 10th in Seoul
    assert recency_group(datetime(2026, 3, 9, 23, 30), today=today, zone=seoul) == "today"
    assert recency_group(datetime(2026, 3, 9, 23, 30), today=today, zone=UTC) == "yesterday"
    assert recency_group(datetime(2026, 3, 4, 12), today=today, zone=UTC) == "week"
    assert recency_group(datetime(2026, 2, 1, 12), today=today, zone=UTC) == "older"

    app.chat_input[0].set_value("Hello there").run()
    captions = [str(c.value) for c in app.sidebar.caption]
    assert "Today" in captions
    # the actions sit side by side; the export buttons say their format, not a cut-off label
    assert {b.label for b in app.sidebar.get("download_button")} == {"Markdown", "JSON"}


def last_reply(at) -> str:
    """The text of the last reply (its first block; its actions follow)."""
    return str(at.chat_message[-1].markdown[0].value)


def test_regenerate_keeps_earlier_versions_to_flip_between(app, fake_openai):
    answers = iter(["first answer", "second answer"])
    fake_openai.reply = lambda messages, model: next(answers)
    send(app, "a question")
    next(b for b in app.button if b.key and b.key.startswith("regen_")).click().run()
    assert last_reply(app) == "second answer"
    assert "2 / 2" in texts(app)
    assert app.button(key="chat_version_next").disabled
    app.button(key="chat_version_previous").click().run()
    assert last_reply(app) == "first answer"
    assert "1 / 2" in texts(app) and len(app.chat_message) == 2
    assert len(fake_openai.chat_requests()) == 2  # flipping sends nothing
    app.button(key="chat_version_next").click().run()
    assert last_reply(app) == "second answer"
    reopened = new_app(c=app.query_params["c"]).run()
    assert last_reply(reopened) == "second answer" and "2 / 2" in texts(reopened)


def test_the_chat_page_reopens_the_conversation_after_another_page(app, fake_openai):
    send(app, "remember me")
    opened = app.query_params["c"]
    app.switch_page("app_pages/compare.py").run()
    app.query_params.pop("c", None)  # a page link starts from a bare address
    app.switch_page("app_pages/chat.py").run()
    assert app.query_params["c"] == opened
    assert "remember me" in bubbles(app)[0][1]
    app.sidebar.button(key="chat_new").click().run()  # New chat still opens a blank one
    app.switch_page("app_pages/gallery.py").run()
    app.switch_page("app_pages/chat.py").run()
    assert "c" not in app.query_params and not app.chat_message


def test_the_copy_button_carries_a_hostile_reply_as_text(app, fake_openai):
    hostile = '"><img src=x onerror=alert(1)></button><script>alert(2)</script>'
    fake_openai.reply = lambda messages, model: hostile
    send(app, "say something nasty")
    (copy,) = [h for h in app.get("html") if "data-text" in h.proto.body]
    body = copy.proto.body
    assert "<img" not in body and "alert(2)</script>" not in body
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in body


def test_a_message_in_the_open_conversation_reruns_only_the_conversation(app, fake_openai):
    """A typed message in a conversation that has its title and leads the sidebar's list runs
    only the conversation part (transcript and turn): the sidebar and the settings, which
    would be sent again unchanged, are not drawn again. The reply still ends with its actions."""
    submit(app, "First message")
    assert app.sidebar.button and app.selectbox  # a first message runs the whole page after
    submit(app, "Second message")
    assert not app.sidebar.button and not app.selectbox  # nothing outside the part was re-run
    assert [name for name, _ in bubbles(app)] == ["user", "assistant"] * 2
    assert "reply #2: Second message" in bubbles(app)[-1][1]
    assert [b for b in app.button if b.key.startswith("regen_")]
    # the reply kept as streamed, with its caption and actions added once (Stop's mark going
    # with it is seen in the browser: tests/e2e/test_chat_flow.py)
    reply, question = app.chat_message[-1], app.chat_message[-2]
    assert [str(c.value).count("to first token") for c in reply.caption] == [1]
    assert [b.key for b in question.button if b.key.startswith("edit_")]
    assert [b.label for b in reply.button] == ["Read aloud", "Regenerate"]
    assert [h for h in reply.get("html") if "data-text" in h.proto.body]  # Copy
    app.run()  # the whole page as the browser keeps it
    assert len(app.chat_message) == 4 and app.sidebar.button


def test_a_message_in_an_older_conversation_reruns_the_whole_page(app, fake_openai):
    """The list is most recently used first: a message in a conversation below the top moves
    it up, so the whole page (with the sidebar) runs."""
    send(app, "about whales")
    whales = app.query_params["c"]
    app.sidebar.button(key="chat_new").click().run()
    send(app, "about zebras")
    app.sidebar.button(key=f"conv_{whales}").click().run()
    send(app, "more about whales")
    listed = [b.key for b in app.sidebar.button if b.key.startswith("conv_")]
    assert listed[0] == f"conv_{whales}"
    assert "more about whales" in bubbles(app)[-1][1]


def test_a_message_sent_before_the_page_took_in_a_new_model_goes_to_that_model(app, fake_openai):
    """A message sent in place uses the settings the last page run read; when a setting has
    changed since (its run interrupted by the message), the whole page runs and reads it."""
    send(app, "First message")
    app.session_state["chat_model"] = "gpt-4o-mini"  # changed, not yet read by a page run
    send(app, "Second message")
    assert fake_openai.chat_requests()[-1].body["model"] == "gpt-4o-mini"


def test_a_new_conversation_keeps_the_settings_it_was_started_with(app, fake_openai):
    """The first message stores the settings on screen; the page run after it does not fill
    the widgets again from the stored conversation (a reasoning model stores no temperature:
    that would put the temperature set for another model back to 1.0)."""
    app.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    app.slider(key="chat_temperature").set_value(0.3).run()
    app.selectbox(key="chat_model").set_value("gpt-5.4-mini").run()
    send(app, "hi")
    app.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    assert app.slider(key="chat_temperature").value == 0.3
