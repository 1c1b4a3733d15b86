"""Shared fixtures: a running fake OpenAI API, settings pointing at it, a fresh SQLite database,
and the services wired to them. Test modules may override any of these with their own."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest

from services.catalog import Catalog, load_catalog
from services.chat import ChatService
from services.chat_turns import ChatTurns
from services.settings import Secret, Settings
from services.storage import ConversationStore, Database, open_database
from services.studio import ChainEngine
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI
from tests.pg import (  # noqa: F401 - fixtures: a test asks for them by name
    database,
    empty_url,
    postgres_databases,
    postgres_server,
    postgres_storage_url,
)
from tests.s3 import s3_config, s3_server  # noqa: F401 - fixtures, as above

OWNER = "owner-a"
# Short enough that a hung server fails a test quickly, long enough for a loaded machine.
TEST_TIMEOUT = httpx2.Timeout(5.0, connect=1.0)


# The knobs a test may turn; they are put back to a fresh FakeOpenAI's values between tests.
_KNOBS = (
    "api_key",
    "first_token_delay",
    "token_delay",
    "hang_seconds",
    "trickle_delay",
    "trickle_after",
    "reply",
    "image_handler",
    "transcript",
    "max_audio_bytes",
    "max_chat_bytes",
)


def _reset(server: FakeOpenAI) -> None:
    defaults = FakeOpenAI()
    for name in _KNOBS:
        setattr(server, name, getattr(defaults, name))
    server.models[:] = [replace(m) for m in defaults.models]  # tests may edit a model
    server.clear_faults()
    server.requests.clear()


@pytest.fixture(scope="session", autouse=True)
def server_data_dir(tmp_path_factory) -> Iterator[Path]:
    """Image files of a server database (PostgreSQL) without a configured store go to a
    temporary data directory, never the checkout's data/."""
    from services.storage import blobs

    before = blobs.SERVER_DATA_DIR
    blobs.SERVER_DATA_DIR = tmp_path_factory.mktemp("server-data")
    yield blobs.SERVER_DATA_DIR
    blobs.SERVER_DATA_DIR = before


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeOpenAI]:
    # One server for the whole session; the per-test ``fake`` fixture resets it.
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The fake OpenAI API on 127.0.0.1 with its default models, no faults, no delays and
    an empty request log."""
    _reset(fake_server)
    yield fake_server
    _reset(fake_server)


@pytest.fixture
def settings(fake: FakeOpenAI) -> Settings:
    return Settings(openai_api_key=Secret(FAKE_KEY), openai_base_url=fake.base_url)


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    sqlite = open_database(f"sqlite:///{tmp_path}/t.db")
    yield sqlite
    sqlite.engine.dispose()


@pytest.fixture
def store(db: Database) -> ConversationStore:
    return ConversationStore(db, OWNER)


@pytest.fixture
def chat(settings: Settings, catalog: Catalog) -> ChatService:
    """No retries (a fault is seen at once) and a short timeout."""
    return ChatService(settings, catalog, timeout=TEST_TIMEOUT, max_retries=0)


@pytest.fixture
def engine(chat: ChatService) -> ChainEngine:
    return ChainEngine(chat)


@pytest.fixture
def turns(store: ConversationStore, chat: ChatService) -> ChatTurns:
    return ChatTurns(store, chat)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def image_servers():
    """Fake OpenAI images (behind a fake OpenAI server) and fake Karlo, for one module."""
    from tests.fakes.karlo_server import FakeKarlo
    from tests.fakes.openai_images import FakeOpenAIImages

    with (
        FakeOpenAIImages() as images,
        FakeOpenAI(image_handler=images) as openai_fake,
        FakeKarlo() as karlo_fake,
    ):
        yield images, openai_fake, karlo_fake


@pytest.fixture(scope="module")
def compatible_server():
    """The second fake image server (an OpenAI-compatible one, its own port and key), for one
    module: ``(handler, server)``; the handler records calls and takes fault knobs."""
    from tests.fakes.compatible_images import FakeCompatibleImages, start_compatible_server

    with FakeCompatibleImages() as images:
        server = start_compatible_server(images)
        try:
            yield images, server
        finally:
            server.stop()


@pytest.fixture
def compatible(compatible_server):
    """The second fake image server with no faults and an empty record."""
    images, server = compatible_server
    images.calls.clear()
    images.set_fault(None)
    server.clear_faults()
    server.requests.clear()
    return compatible_server


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A tiny random Stable Diffusion pipeline saved as a diffusers folder (built once per test
    session, in code: nothing is downloaded). Skips where the local extras cannot be imported."""
    from services.images.local_models import INSTALL_COMMAND, torch_available

    if not torch_available():
        pytest.skip(f"torch/diffusers not installed (the local engine's extras: {INSTALL_COMMAND})")
    from services.images.local_tiny import save_tiny_pipeline

    return str(save_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd")))


def use_hf_cache(monkeypatch, folder) -> None:
    """Point the Hugging Face cache at ``folder`` (read where the hub library looks it up at
    each call; its environment variable is read only once, at import)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(folder))
