"""AppTest fixtures: the real app.py, its settings from the environment, the fake OpenAI API."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fakes.karlo_server import FakeKarlo
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake_images():
    return FakeOpenAIImages()


@pytest.fixture
def images_openai(fake_images):
    """The fake OpenAI API with images too: an image page's module makes it its
    ``fake_openai`` (``def fake_openai(images_openai): return images_openai``)."""
    with FakeOpenAI(image_handler=fake_images) as fake:
        yield fake


@pytest.fixture
def fake_karlo():
    with FakeKarlo() as fake:
        yield fake


@pytest.fixture
def app_env(fake_openai, tmp_path, monkeypatch):
    """Environment as a user's .env would set it, pointing at the fake and a fresh database."""
    monkeypatch.setenv("CHATCANVAS_SKIP_DOTENV", "1")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/chatcanvas.db")
    monkeypatch.delenv("KAKAO_REST_API_KEY", raising=False)
    monkeypatch.delenv("MODERATION_CHECK", raising=False)
    return tmp_path


def new_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at


@pytest.fixture
def app(app_env) -> AppTest:
    return new_app().run()


ISSUER = "https://issuer.example"
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-some-length",
    "client_id": "chatcanvas",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def person(sub: str, email: str | None = None, name: str | None = None, **extra) -> dict:
    """The claims of a signed-in user as st.user holds them."""
    claims = {"is_logged_in": True, "iss": ISSUER, "sub": sub, **extra}
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    return claims


def shared_app(user: dict | None = None, **query: str) -> AppTest:
    """The app as a shared deployment ([auth] in the secrets), signed in as ``user`` if given;
    not yet run."""
    at = new_app(**query)
    at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    return at
