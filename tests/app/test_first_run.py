"""First visit without keys: one friendly panel on every page (both languages) with where keys
are made and how to add one; the chat box closed and nothing stored; the demo from the panel."""

from __future__ import annotations

import pytest

from tests.app.conftest import new_app, person, shared_app
from tests.app.test_chat_page import bubbles, send, texts
from tests.app.test_shared_page import shared_conversation
from tests.fakes.openai_server import FAKE_KEY
from tests.fakes.tutorial_model import PROMPT

PAGES = (
    "app_pages/chat.py",
    "app_pages/studio.py",
    "app_pages/compare.py",
    "app_pages/grid.py",
    "app_pages/gallery.py",
)
PANEL = {
    "en": ("Welcome to ChatCanvas", "Two ways to add a key", ".streamlit/secrets.toml"),
    "ko": (
        "ChatCanvas에 오신 것을 환영합니다",
        "키를 넣는 두 가지 방법",
        ".streamlit/secrets.toml",
    ),
}
KEY_PAGES = ("https://platform.openai.com/api-keys", "https://developers.kakao.com/console/app")


@pytest.fixture
def no_keys(app_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    return app_env


def link_urls(at) -> list[str]:
    return [e.proto.url for e in at.get("link_button")]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_panel_on_every_page_in_both_languages(no_keys, lang):
    at = new_app().run()
    at.sidebar.radio(key="lang").set_value(lang).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        shown = texts(at)
        for words in PANEL[lang]:
            assert words in shown, (page, words)
        assert sorted(link_urls(at)) == sorted(KEY_PAGES), page
        assert at.button(key="try_demo")  # local mode offers the demo
        # one friendly panel, not a red banner as well
        assert not [e for e in at.error if "API key" in str(e.value) or "API 키" in str(e.value)]


def test_no_panel_once_a_key_is_there(app):
    assert "Welcome to ChatCanvas" not in texts(app)
    assert not link_urls(app)


def test_chat_box_closed_and_nothing_stored_without_a_key(no_keys, fake_openai, monkeypatch):
    at = new_app().run()
    box = at.chat_input[0]
    assert box.proto.disabled
    assert "Add an OpenAI API key" in box.proto.placeholder
    assert "Start a conversation below" not in texts(at)  # no second box beside the panel
    # a key typed in the sidebar opens it; taken away again, the box closes before anything
    at.sidebar.text_input(key="sidebar_openai_key").input("sk-1").run()
    assert at.chat_input[0].proto.disabled  # too short to be a key: still closed
    assert "c" not in at.query_params
    assert not bubbles(at)
    # with a key, the app shows no conversation that the keyless message could have made
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    later = new_app().run()
    assert "No conversations yet" in texts(later)
    assert not fake_openai.chat_requests()


def test_new_chat_on_the_chat_page(app):
    send(app, "hello")
    assert app.query_params.get("c")
    app.button(key="chat_new_on_page").click().run()
    assert "c" not in app.query_params
    assert not bubbles(app)
    assert not [b for b in app.button if b.key == "chat_new_on_page"]  # a fresh chat already


def test_demo_from_the_panel(no_keys, tmp_path):
    at = new_app().run()
    at.button(key="try_demo").click().run()
    assert "Demo mode" in texts(at)
    assert "Welcome to ChatCanvas" not in texts(at)
    assert not at.chat_input[0].proto.disabled
    send(at, "Imagine animals on Mars")
    reply = bubbles(at)[-1][1]
    assert "made up by ChatCanvas's demo model" in reply
    assert "Imagine animals on Mars" in reply
    assert (tmp_path / "demo.db").exists()  # the demo's own database, beside the real one
    at.button(key="leave_demo").click().run()
    assert "Welcome to ChatCanvas" in texts(at)
    assert "c" not in at.query_params  # the demo's conversation is not in the real database


def test_a_shared_deployment_never_serves_the_demo(no_keys, monkeypatch):
    monkeypatch.setenv("CHATCANVAS_DEMO", "1")  # a deployer's slip
    at = shared_app(person("ada", "ada@team.org")).run()
    assert not at.exception
    shown = texts(at)
    assert "Demo mode is off on a shared deployment" in shown
    assert "Demo mode:" not in shown
    assert "Welcome to ChatCanvas" in shown  # a visitor is told how to add a key of their own
    assert ".env" not in shown  # ...for this session: the server's files are the deployer's
    assert not [b for b in at.button if b.key == "try_demo"]


def test_run_with_demo_flag_has_the_banner_and_no_leave_button(no_keys, monkeypatch):
    monkeypatch.setenv("CHATCANVAS_DEMO", "1")  # what `scripts/run.sh --demo` sets
    at = new_app().run()
    assert "Demo mode:" in texts(at)
    assert not [b for b in at.button if b.key == "leave_demo"]
    at.switch_page("app_pages/studio.py").run()
    assert "Demo mode:" in texts(at)


def test_a_key_taken_away_mid_conversation_stores_nothing_more(no_keys, fake_openai):
    at = new_app().run()
    at.sidebar.text_input(key="sidebar_openai_key").input(FAKE_KEY)
    at.sidebar.text_input(key="sidebar_openai_base_url").input(fake_openai.base_url).run()
    send(at, "first question")
    assert [name for name, _ in bubbles(at)] == ["user", "assistant"]
    at.sidebar.text_input(key="sidebar_openai_key").input("").run()
    regen = next(b for b in at.button if b.key and b.key.startswith("regen_"))
    regen.click().run()  # a turn asked for by a button, with no key to send it
    assert not at.exception
    assert "No OpenAI API key yet" in texts(at)
    assert [name for name, _ in bubbles(at)] == ["user", "assistant"]
    assert "reply #1: first question" in bubbles(at)[1][1]  # the answer is kept
    assert len(fake_openai.chat_requests()) == 1
    assert at.chat_input[0].proto.disabled


@pytest.mark.parametrize(
    ("idea", "first_words"),
    [("Animals on Mars", "A shaggy six-legged animal"), ("화성의 동물", "붉은 모래 언덕")],
)
def test_the_demo_studio_answers_in_the_ideas_language(no_keys, monkeypatch, idea, first_words):
    monkeypatch.setenv("CHATCANVAS_DEMO", "1")
    at = new_app().run()
    at.switch_page("app_pages/studio.py").run()
    at.text_area(key="studio_idea").set_value(idea).run()
    at.button(key="studio_run").click().run()
    assert not at.exception, at.exception
    run = at.query_params["run"]
    assert at.text_area(key=f"studio_out_{run}_0").value.startswith(first_words)
    assert at.text_area(key="studio_final_prompt").value == PROMPT


def test_a_kakao_key_alone_is_acknowledged(no_keys, monkeypatch):
    monkeypatch.setenv("KAKAO_REST_API_KEY", "a-kakao-rest-api-key-0000")
    at = new_app().run()
    shown = texts(at)
    assert "Welcome to ChatCanvas" in shown  # chat still needs the OpenAI key
    assert "Your Kakao key is set already" in shown


def test_a_share_link_reader_needs_no_key(no_keys):
    at = new_app(token=shared_conversation())
    at.switch_page("app_pages/shared.py").run()
    assert not at.exception
    assert "Imagine animals on Mars" in texts(at)
    assert "Welcome to ChatCanvas" not in texts(at)
