"""AppTest fixtures: the real app.py, its settings from the environment, the fake OpenAI API."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def app_env(fake_openai, tmp_path, monkeypatch):
    """Environment as a user's .env would set it, pointing at the fake and a fresh database."""
    monkeypatch.setenv("CHATCANVAS_SKIP_DOTENV", "1")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/chatcanvas.db")
    monkeypatch.delenv("KAKAO_REST_API_KEY", raising=False)
    return tmp_path


def new_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at


@pytest.fixture
def app(app_env) -> AppTest:
    return new_app().run()
