"""Shared mode through AppTest: with ``[auth]`` in the secrets, nothing runs before sign-in,
the allow-lists refuse strangers, each signed-in user sees only their own conversations,
and only admins reach /admin."""

from __future__ import annotations

import pytest

from tests.app.conftest import new_app, person
from tests.app.conftest import shared_app as new_shared_app
from tests.app.test_chat_page import send, texts


def shared_app(user: dict | None = None, lang: str | None = None, **query: str):
    at = new_shared_app(user, **query)
    if lang:
        at.session_state["lang"] = lang
    return at.run()


def sidebar_text(at) -> str:
    return "\n".join(str(e.value) for e in at.sidebar.markdown)


@pytest.mark.parametrize(
    ("lang", "title", "button"),
    [("en", "Sign in to ChatCanvas", "Sign in"), ("ko", "ChatCanvas에 로그인", "로그인")],
)
def test_an_anonymous_visitor_sees_only_the_sign_in_page(app_env, lang, title, button):
    at = shared_app(lang=lang)
    assert not at.exception
    assert at.title[0].value == title
    assert at.button(key="auth_login").label == button
    assert not at.chat_input  # the chat page never ran
    assert [b.key for b in at.button] == ["auth_login"]
    assert not at.sidebar.button  # no conversations, no connection panel


def test_a_sign_in_that_cannot_start_says_so_in_words(app_env):
    # AppTest's secrets never reach st.login's own check, which then finds no [auth]: the
    # same error a deployer's incomplete [auth] section raises.
    at = shared_app()
    at.button(key="auth_login").click().run()
    assert not at.exception
    assert "not set up correctly" in at.error[0].value


def test_an_anonymous_visitor_opening_a_conversation_url_sees_the_sign_in_page(app_env):
    at = shared_app(c="0123456789abcdef")
    assert at.title[0].value == "Sign in to ChatCanvas" and not at.chat_input


def test_a_signed_in_user_sees_the_app_with_their_name_and_sign_out(app_env):
    at = shared_app(person("ada", "ada@team.org", "Ada Lovelace"))
    assert not at.exception
    assert at.chat_input
    assert "Ada Lovelace" in sidebar_text(at)
    assert at.sidebar.button(key="auth_logout").label == "Sign out"


def test_local_mode_has_no_sign_in_and_no_account_panel(app_env):
    at = new_app().run()
    assert at.chat_input
    assert "auth_logout" not in [b.key for b in at.sidebar.button]


def test_a_stranger_gets_the_refusal_page_and_nothing_else(app_env, monkeypatch):
    monkeypatch.setenv("ALLOWED_DOMAINS", "team.org")
    at = shared_app(person("eve", "eve@elsewhere.com", "Eve"))
    assert not at.exception
    assert at.title[0].value == "This ChatCanvas is not open to you"
    assert "eve@elsewhere.com" in texts(at)
    assert [b.key for b in at.button] == ["auth_refused_logout"]
    assert not at.chat_input and not at.sidebar.button and not sidebar_text(at)


def test_an_unverified_email_on_the_allowed_domain_is_refused(app_env, monkeypatch):
    monkeypatch.setenv("ALLOWED_DOMAINS", "team.org")
    at = shared_app(person("mallory", "ceo@team.org", email_verified=False))
    assert at.title[0].value == "This ChatCanvas is not open to you"
    assert "did not confirm" in texts(at)
    allowed = shared_app(person("ada", "ada@team.org", email_verified=True))
    assert allowed.chat_input


def test_two_users_never_see_each_others_conversations(app_env, fake_openai):
    ada = shared_app(person("ada", "ada@team.org", "Ada"))
    send(ada, "Ada's secret plan")
    ada_conversation = ada.query_params["c"]

    bo = shared_app(person("bo", "bo@team.org", "Bo"))
    assert "Ada's secret plan" not in texts(bo)
    assert not [b for b in bo.sidebar.button if "Ada" in str(b.label)]

    opened = shared_app(person("bo", "bo@team.org", "Bo"), c=ada_conversation)
    missing = shared_app(person("bo", "bo@team.org", "Bo"), c="0" * 32)
    assert "Ada's secret plan" not in texts(opened)
    assert [str(t.value) for t in opened.toast] == [str(t.value) for t in missing.toast]
    assert opened.toast, "a foreign id answers like a missing one: 'does not exist'"
    assert "c" not in opened.query_params

    again = shared_app(person("ada", "ada@team.org", "Ada"), c=ada_conversation)
    assert "Ada's secret plan" in texts(again)


def test_only_admins_reach_the_admin_page(app_env, monkeypatch):
    monkeypatch.setenv("ADMIN_EMAILS", "boss@team.org")
    admin = shared_app(person("boss", "boss@team.org", "Boss", email_verified=True))
    admin.switch_page("app_pages/admin.py").run()
    assert not admin.exception
    assert admin.subheader[0].value == "Admin"
    assert "Boss" in admin.dataframe[0].value.to_string()

    visitor = shared_app(person("bo", "bo@team.org", "Bo"))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        visitor.switch_page("app_pages/admin.py").run()
