"""Secrets hygiene: scrub never garbles text and catches a key echoed without its prefix; stored
error details are scrubbed; a database URL's password is never shown."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from services.errors import ChatCanvasError, ErrorKind, scrub
from services.images.base import ImageRequest
from services.settings import Settings, resolve_settings
from services.storage.chains import ChainStore
from services.storage.images import ImageStore
from services.studio import BUILTIN_CHAINS
from tests.app.conftest import app_env, fake_openai, new_app  # noqa: F401 (fixtures)
from tests.fakes import openai_server
from tests.fakes.openai_server import FAKE_KEY

KEY_BODY = FAKE_KEY.removeprefix("sk-")  # "fake-test-key-000…": what some servers echo
PG_URL = "postgresql+psycopg://chat:Hunter2-Very-Secret@db.example:5432/chatcanvas"


@pytest.mark.parametrize("key", ["v", "ser", "abc1234"])
def test_a_short_key_never_garbles_text(key):
    assert scrub("service abc1234 ser", [key]) == "service abc1234 ser"


@pytest.mark.parametrize(
    "echoed",
    [
        "proj-Zx81bQ3k9LmN0pQr5tUv",
        "Zx81bQ3k9LmN0pQr5tUv",
        "sk-proj-Zx81bQ3k9LmN0pQr5tUv",
    ],
)
def test_a_key_echoed_without_its_prefix_is_scrubbed(echoed):
    scrubbed = scrub(f"Incorrect API key provided: {echoed}.", ["sk-proj-Zx81bQ3k9LmN0pQr5tUv"])
    assert "Zx81bQ3k9LmN0pQr5tUv" not in scrubbed and "Incorrect API key provided" in scrubbed


def test_url_passwords_are_scrubbed_from_any_text():
    message = f"(psycopg.OperationalError) could not connect to {PG_URL}"
    assert "Hunter2" not in scrub(message)
    assert "postgresql+psycopg://chat:***@db.example:5432/chatcanvas" in scrub(message)


def test_settings_never_show_the_database_password():
    settings = resolve_settings(environ={"DATABASE_URL": PG_URL})
    assert "Hunter2" not in repr(settings) and "Hunter2" not in str(settings)
    assert settings.masked_database_url == (
        "postgresql+psycopg://chat:***@db.example:5432/chatcanvas"
    )
    error = "FATAL: password authentication failed (tried Hunter2-Very-Secret)"
    assert "Hunter2" not in scrub(error, settings.secrets())


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "KAKAO_REST_API_KEY"])
def test_a_short_typed_key_is_refused(name):
    settings = resolve_settings(sidebar={name: "abc"}, environ={name: "sk-environment-key-0000"})
    key = settings.openai_api_key if name == "OPENAI_API_KEY" else settings.kakao_rest_api_key
    assert key.reveal() == "sk-environment-key-0000"
    assert settings.sources[name] == "environment"


def test_the_sidebar_says_why_a_short_key_is_not_used(app_env):  # noqa: F811
    at = new_app().run()
    at.sidebar.text_input(key="sidebar_openai_key").set_value("v").run()
    assert not at.exception, at.exception
    assert any("shorter than 8 characters" in str(e.value) for e in at.sidebar.error)


@pytest.fixture
def echoing_server(fake, monkeypatch):
    """A server whose 401 message echoes the key without its "sk-" prefix."""
    status, body, headers = openai_server.ERRORS["invalid_key"]
    echoed = {**body, "message": f"Incorrect API key provided: {KEY_BODY}."}
    monkeypatch.setitem(openai_server.ERRORS, "invalid_key", (status, echoed, headers))
    return fake


def test_an_echoed_key_is_not_in_the_error_shown(chat, echoing_server):
    echoing_server.set_fault("invalid_key", endpoint="models")
    with pytest.raises(ChatCanvasError) as info:
        chat.list_models()
    assert info.value.kind is ErrorKind.INVALID_KEY
    assert KEY_BODY not in str(info.value) and KEY_BODY not in info.value.detail


def test_an_echoed_key_is_not_stored_with_a_failed_studio_step(db, engine, echoing_server):
    echoing_server.set_fault("invalid_key")
    chains = ChainStore(db, "owner-a")
    run = engine.new_run("a cat", BUILTIN_CHAINS["quick"])
    for step in engine.run(run):
        step.drain()
    chains.save_run(run)
    assert run.steps[0].error_kind == "invalid_key"
    with db.engine.connect() as c:
        stored = json.dumps(
            [list(r) for r in c.execute(text("SELECT * FROM studio_runs"))], default=str
        )
    assert KEY_BODY not in stored and "Incorrect API key provided" in stored


def test_stored_error_details_are_scrubbed_whoever_built_them(db):
    """Details built from a provider's raw words (an SDK message, a transport error) are
    scrubbed once more where they are stored."""
    detail = f"Bearer sk-proj-Zx81bQ3k9LmN0pQr5tUv rejected by {PG_URL}"
    images = ImageStore(db, "owner-a")
    run_id = images.start_run("a cat")
    error = ChatCanvasError(ErrorKind.INVALID_KEY, detail, provider="openai")
    images.save_lane(run_id, 0, ImageRequest(prompt="a cat", model="gpt-image-2"), error)
    with db.engine.connect() as c:
        stored = json.dumps([list(r) for r in c.execute(text("SELECT * FROM compare_lanes"))])
    assert "Zx81bQ3k9LmN0pQr5tUv" not in stored and "Hunter2" not in stored
    assert images.get_run(run_id).lanes[0].error_kind == "invalid_key"


def test_settings_repr_is_safe_with_keys_too():
    settings = Settings(database_url=PG_URL)
    assert "Hunter2" not in f"{settings!r} {settings}"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+nosuchdriver://chat:Hunter2-Very-Secret@db.example/chatcanvas",
        "postgresql://chat:Hunter2-Very-Secret@db.example:notaport/chatcanvas",
    ],
)
def test_a_database_that_cannot_be_opened_is_explained_without_its_password(
    app_env,  # noqa: F811
    monkeypatch,
    url,
):
    monkeypatch.setenv("DATABASE_URL", url)
    at = new_app().run()
    assert not at.exception, at.exception
    assert "cannot open its database" in at.error[0].value
    shown = [
        str(e.value) for kind in ("error", "code", "text", "markdown") for e in getattr(at, kind)
    ]
    assert any("chat:***@db.example" in s for s in shown)
    assert not any("Hunter2" in s for s in shown)
