"""Fake providers for the security tests: the OpenAI API with images, and Karlo, each started
once per module and reset before every test."""

from __future__ import annotations

import httpx2
import pytest

from services.images import ImageRequest
from services.images.base import LaneOutcome, run_lanes
from services.settings import Secret, Settings
from services.storage.images import ImageStore
from tests.fakes.karlo_server import FAKE_KAKAO_KEY, FakeKarlo
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FakeOpenAI

IMAGE_KEY = "sk-fake-security-images-key-000000"
FAST = httpx2.Timeout(5.0, connect=2.0)


@pytest.fixture(scope="module")
def openai_servers():
    with (
        FakeOpenAIImages() as handler,
        FakeOpenAI(api_key=IMAGE_KEY, image_handler=handler) as server,
    ):
        yield server, handler


@pytest.fixture
def images(openai_servers) -> FakeOpenAIImages:
    server, handler = openai_servers
    server.clear_faults()
    handler.calls.clear()
    handler.downloads.clear()
    handler.set_fault(None)
    handler.trickle_seconds = handler.download_trickle_seconds = 0.0
    handler.image_bytes = None
    return handler


@pytest.fixture
def openai_fake(openai_servers, images) -> FakeOpenAI:
    return openai_servers[0]


def openai_settings(fake: FakeOpenAI, **kwargs) -> Settings:
    return Settings(openai_api_key=Secret(IMAGE_KEY), openai_base_url=fake.base_url, **kwargs)


@pytest.fixture(scope="module")
def karlo_server():
    with FakeKarlo() as fake:
        yield fake


@pytest.fixture
def karlo(karlo_server) -> FakeKarlo:
    karlo_server.calls.clear()
    karlo_server.set_fault(None)
    karlo_server.latency = karlo_server.trickle_seconds = 0.0
    karlo_server.image_bytes = None
    return karlo_server


def karlo_settings(fake: FakeKarlo) -> Settings:
    return Settings(kakao_rest_api_key=Secret(FAKE_KAKAO_KEY), karlo_base_url=fake.base_url)


def run_and_store(store: ImageStore, provider, request: ImageRequest) -> tuple[str, LaneOutcome]:
    """One lane as the Compare page runs it: generated, then kept in the store.
    Returns (run id, outcome)."""
    run_id = store.start_run(request.prompt)
    (outcome,) = run_lanes(
        [(provider, request)], keep=lambda i, o: store.save_lane(run_id, i, request, o)
    )
    return run_id, outcome
