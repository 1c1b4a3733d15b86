"""The Connection panel says where the key and the base URL come from, says so when a base URL
is set but not used, and offers no base URL field on a shared deployment that does not allow
one."""

from __future__ import annotations

from components import state as K
from tests.app.conftest import new_app, person, shared_app
from tests.fakes.openai_server import FAKE_KEY


def captions(at) -> str:
    return "\n".join(c.value for c in at.sidebar.caption)


def test_key_and_base_url_sources_are_shown(app):
    text = captions(app)
    assert "(from environment)" in text
    assert "Base URL: http://127.0.0.1:" in text  # local mode: the deployer is the user


def test_a_base_url_in_secrets_with_the_key_from_the_environment_is_reported(app_env, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    at = new_app()
    at.secrets["OPENAI_BASE_URL"] = "https://proxy.example/v1"
    at.run()
    text = captions(at)
    assert "Base URL: api.openai.com (default)" in text
    assert "OPENAI_BASE_URL in secrets is not used" in text


def test_a_shared_deployment_hides_the_base_url_field(app_env):
    at = shared_app(person("alice", "alice@team.example", "Alice")).run()
    keys = [w.key for w in at.sidebar.text_input]
    assert K.SIDEBAR_OPENAI_KEY in keys
    assert K.SIDEBAR_OPENAI_BASE_URL not in keys
    assert FAKE_KEY not in captions(at)
    assert "http://127.0.0.1" not in captions(at)  # the deployer's URL is not shown to visitors
