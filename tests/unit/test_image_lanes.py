"""run_lanes: lanes run at the same time, report as they finish, and fail alone. Real providers
against the fake OpenAI and Karlo image_servers."""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx2
import pytest

from services.errors import ChatCanvasError, ErrorKind
from services.i18n import load_strings
from services.images import (
    PROVIDERS,
    ImageProvider,
    ImageRequest,
    ImageResult,
    KarloProvider,
    OpenAIImageProvider,
    error_message_key,
    make_provider,
    run_lanes,
)
from services.images.base import ImageCapabilities
from services.images.servers import parse_image_servers
from services.settings import Secret, Settings
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY
from tests.unit.test_i18n import unpluralized

LANE_SECONDS = 1.0


@pytest.fixture
def fakes(image_servers):
    images, openai_fake, karlo_fake = image_servers
    images.calls.clear()
    images.set_fault(None)
    images.latency = LANE_SECONDS
    openai_fake.clear_faults()
    karlo_fake.calls.clear()
    karlo_fake.set_fault(None)
    karlo_fake.latency = LANE_SECONDS
    return image_servers


@pytest.fixture
def settings(fakes) -> Settings:
    _, openai_fake, karlo_fake = fakes
    return Settings(
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=openai_fake.base_url,
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
        karlo_base_url=karlo_fake.base_url,
    )


def lanes_for(settings: Settings) -> list[tuple[ImageProvider, ImageRequest]]:
    return [
        (
            OpenAIImageProvider(settings, max_retries=0),
            ImageRequest("a red fox in snow", "gpt-image-2", quality="low"),
        ),
        (
            KarloProvider(settings, timeout=httpx2.Timeout(10.0), retry_backoff=0.01),
            ImageRequest("a red fox in snow", "karlo-v2.1", seeds=(3,)),
        ),
    ]


def test_lanes_overlap_and_report_as_they_finish(fakes, settings):
    images, _, karlo_fake = fakes
    seen: list[tuple[int, object, int]] = []
    outcomes = run_lanes(
        lanes_for(settings),
        on_done=lambda i, outcome: seen.append((i, outcome, threading.get_ident())),
    )
    assert [type(o) for o in outcomes] == [ImageResult, ImageResult]
    assert outcomes[0].provider == "openai" and outcomes[1].provider == "karlo"
    assert sorted(i for i, _, _ in seen) == [0, 1]
    assert all(outcomes[i] is outcome for i, outcome, _ in seen)
    # callbacks run in the caller's thread (a Streamlit page may draw from them)
    assert {ident for _, _, ident in seen} == {threading.get_ident()}
    # both image_servers were working at the same time: each lane started before the other finished
    (openai_call,) = images.calls
    (karlo_call,) = karlo_fake.t2i_calls()
    assert openai_call.received_at < karlo_call.responded_at
    assert karlo_call.received_at < openai_call.responded_at


def test_a_failing_lane_does_not_touch_the_other(fakes, settings):
    images, _, karlo_fake = fakes
    karlo_fake.set_fault("service_terminated")
    seen: list[int] = []
    outcomes = run_lanes(lanes_for(settings), on_done=lambda i, _: seen.append(i))
    assert isinstance(outcomes[0], ImageResult) and len(outcomes[0].images) == 1
    assert isinstance(outcomes[1], ChatCanvasError)
    assert outcomes[1].kind is ErrorKind.SERVICE_TERMINATED and outcomes[1].provider == "karlo"
    assert sorted(seen) == [0, 1]
    assert len(images.calls) == 1


def test_a_lane_refused_before_sending_reports_first(fakes, settings):
    lanes = lanes_for(settings)
    lanes[1] = (lanes[1][0], ImageRequest("빨간 여우", "karlo-v2.1"))
    order: list[int] = []
    outcomes = run_lanes(lanes, on_done=lambda i, _: order.append(i))
    assert order == [1, 0]
    assert isinstance(outcomes[1], ChatCanvasError) and outcomes[1].code == "not_english"
    assert isinstance(outcomes[0], ImageResult)


class BrokenProvider:
    """A provider with a bug (raises something that is not a ChatCanvasError)."""

    name = "broken"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def models(self) -> list[str]:
        return ["broken-1"]

    def capabilities(self, model: str) -> ImageCapabilities:
        return ImageCapabilities(provider=self.name, model=model, family="broken")

    def generate(self, request: ImageRequest) -> ImageResult:
        raise RuntimeError(f"crashed while holding {self.settings.openai_api_key.reveal()}")


def test_a_provider_bug_becomes_that_lanes_error_without_the_key(fakes, settings):
    fakes[0].latency = 0.0
    lanes = [lanes_for(settings)[0], (BrokenProvider(settings), ImageRequest("x", "broken-1"))]
    outcomes = run_lanes(lanes)
    assert isinstance(outcomes[0], ImageResult)
    err = outcomes[1]
    assert isinstance(err, ChatCanvasError) and err.kind is ErrorKind.UNKNOWN
    assert err.provider == "broken" and "RuntimeError" in err.detail
    assert FAKE_KEY not in str(err)


def test_no_lanes():
    assert run_lanes([]) == []


def test_registry_builds_every_provider(settings):
    assert {"openai", "karlo", "compatible", "local"} <= set(PROVIDERS)
    servers = [{"name": "sd", "base_url": "http://127.0.0.1:9/v1", "models": ["sd-turbo"]}]
    settings = replace(settings, image_servers=parse_image_servers(servers))
    for name, entry in PROVIDERS.items():
        provider = make_provider(name, settings)
        assert isinstance(provider, ImageProvider)
        assert provider.name == name
        assert entry.label_key == f"images.providers.{name}"
        # a provider that runs on this machine needs no key
        assert entry.has_key(settings) and entry.runs_here == entry.has_key(Settings())
        assert provider.models()
        caps = provider.capabilities(provider.models()[0])
        assert caps.provider == name and caps.max_count >= 1
    with pytest.raises(KeyError):
        make_provider("midjourney", settings)


def test_error_message_keys_exist_in_both_languages():
    assert error_message_key(ChatCanvasError(ErrorKind.NO_KEY)) == "errors.no_key"
    assert (
        error_message_key(ChatCanvasError(ErrorKind.NO_KEY, provider="karlo"))
        == "images.errors.karlo_no_key"
    )
    errors = [ChatCanvasError(kind, provider="karlo") for kind in ErrorKind]
    errors += [
        ChatCanvasError(ErrorKind.BAD_REQUEST, code=c, provider="karlo")
        for c in ("not_english", "too_long")
    ]
    en, ko = load_strings("en"), load_strings("ko")
    for err in errors:
        key = error_message_key(err)
        assert key in en and key in ko, key


def test_image_locales_have_the_same_keys():
    en = unpluralized({k for k in load_strings("en") if k.startswith("images.")}, "en")
    ko = unpluralized({k for k in load_strings("ko") if k.startswith("images.")}, "ko")
    assert en == ko and len(en) > 50


def test_every_lane_is_kept_even_when_the_caller_is_interrupted(fakes, settings):
    """Streamlit stops a page run inside on_done when the user clicks anything: the lanes
    already paid for must still reach ``keep`` (which stores them)."""
    kept: dict[int, object] = {}
    threads: set[int] = set()

    def keep(index, outcome):
        kept[index] = outcome
        threads.add(threading.get_ident())

    def interrupted(index, outcome):
        raise KeyboardInterrupt  # stands in for Streamlit's StopException

    with pytest.raises(KeyboardInterrupt):
        run_lanes(lanes_for(settings), on_done=interrupted, keep=keep)
    assert sorted(kept) == [0, 1]
    assert all(isinstance(o, ImageResult) for o in kept.values())
    assert threading.get_ident() not in threads  # kept from the lanes' own threads
