"""The load benchmark's two baseline apps answer a message against the fake, so a broken
baseline cannot pass for a fast one in bench_sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.fakes.openai_server import FAKE_KEY

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def baseline_env(fake_openai, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("MINIMAL_DB", str(tmp_path / "baseline.db"))
    st.cache_resource.clear()  # the apps' cached client knows an earlier test's fake
    yield fake_openai
    st.cache_resource.clear()


def send(script: str, text: str) -> AppTest:
    at = AppTest.from_file(str(BENCH / script), default_timeout=30).run()
    at.chat_input[0].set_value(text).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("script", ["minimal_chat_app.py", "controls_chat_app.py"])
def test_a_baseline_app_streams_a_reply_and_keeps_the_history(baseline_env, script):
    at = send(script, "Imagine animals on Mars")
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert "Fake" in at.chat_message[1].markdown[0].value
    at.run()  # a run of the page reads the history back from SQLite
    assert [m.name for m in at.chat_message] == ["user", "assistant"]


def test_the_controls_app_draws_the_controls_and_sends_its_settings(baseline_env):
    at = send("controls_chat_app.py", "Imagine animals on Mars").run()  # the list is drawn first
    listed = [b.label for b in at.sidebar.button]
    assert "New chat" in listed and "Imagine animals on Mars" in listed
    assert len(at.selectbox) == 3 and len(at.slider) == 1 and len(at.text_area) == 1
    body = baseline_env.chat_requests()[-1].body
    assert body["max_completion_tokens"] == 1024 and body["stream"] is True
