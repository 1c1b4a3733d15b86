"""What a misbehaving provider can send back: endless bodies, trickles, URLs elsewhere.
Every answer is read within a byte cap and one deadline per call; image URLs are fetched only
from the provider's own host or the deployer's allow-list, never through a redirect."""

from __future__ import annotations

import tracemalloc

import pytest

from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageRequest, KarloProvider, OpenAIImageProvider, error_message_key
from services.images.bounded_read import MAX_JSON_BYTES
from services.settings import Mode, resolve_settings
from services.storage.images import ImageStore
from tests.security.conftest import FAST, karlo_settings, openai_settings, run_and_store

CAT = ImageRequest("a cat", "gpt-image-2")
DALL_E_URL = ImageRequest("a cat", "dall-e-3", extras={"response_format": "url"})
KARLO_CAT = ImageRequest("a cat", "karlo-v2.1")


@pytest.fixture
def image_store(db) -> ImageStore:
    return ImageStore(db, "owner-a")


def lane_error(store: ImageStore, provider, request: ImageRequest) -> ChatCanvasError:
    """Run one lane as the Compare page does; it must end as an error with nothing stored."""
    run_id, outcome = run_and_store(store, provider, request)
    assert isinstance(outcome, ChatCanvasError), "the answer was accepted"
    assert store.count() == 0
    assert store.get_run(run_id).lanes[0].error_kind == str(outcome.kind)
    return outcome


# -- byte caps ------------------------------------------------------------------------------


def test_an_endless_karlo_answer_is_refused_with_bounded_memory(karlo, image_store):
    karlo.set_fault("endless_body")
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST)
    tracemalloc.start()
    try:
        err = lane_error(image_store, provider, KARLO_CAT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.kind is ErrorKind.RESPONSE_TOO_LARGE
    assert peak < 2 * MAX_JSON_BYTES + 16 * 1024 * 1024


def test_an_endless_openai_images_answer_is_refused(openai_fake, images, image_store):
    images.set_fault("endless_body")
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    assert lane_error(image_store, provider, CAT).kind is ErrorKind.RESPONSE_TOO_LARGE


def test_an_endless_image_download_is_refused(openai_fake, images, image_store):
    images.set_fault("endless_download")
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    assert lane_error(image_store, provider, DALL_E_URL).kind is ErrorKind.RESPONSE_TOO_LARGE


# -- one deadline per call --------------------------------------------------------------------


def test_a_trickling_karlo_answer_ends_in_a_timeout(karlo, image_store):
    karlo.trickle_seconds = 0.05  # each read is quick; the whole answer would take minutes
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST, deadline=1.0)
    err = lane_error(image_store, provider, KARLO_CAT)
    assert err.kind is ErrorKind.TIMEOUT
    assert error_message_key(err) == "errors.timeout"


def test_a_trickling_openai_images_answer_ends_in_a_timeout(openai_fake, images, image_store):
    images.trickle_seconds = 0.05
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST, deadline=1.0)
    assert lane_error(image_store, provider, CAT).kind is ErrorKind.TIMEOUT


def test_a_trickling_download_ends_in_a_timeout(openai_fake, images, image_store):
    images.download_trickle_seconds = 0.05
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST, deadline=1.5)
    assert lane_error(image_store, provider, DALL_E_URL).kind is ErrorKind.TIMEOUT


def test_a_slow_first_byte_counts_against_the_deadline(karlo, image_store):
    karlo.latency = 3.0  # within the 5 s read timeout, past the 1 s deadline
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST, deadline=1.0)
    assert lane_error(image_store, provider, KARLO_CAT).kind is ErrorKind.TIMEOUT


# -- where image URLs may point -------------------------------------------------------------


def test_an_image_url_on_another_host_is_not_downloaded(openai_fake, images, image_store):
    images.set_fault("foreign_url")  # "localhost" while the base URL says 127.0.0.1
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    err = lane_error(image_store, provider, DALL_E_URL)
    assert err.kind is ErrorKind.ADDRESS_REFUSED and err.provider == "openai"
    assert images.downloads == []


def test_the_deployers_allow_list_admits_another_host(openai_fake, images):
    images.set_fault("foreign_url")
    settings = openai_settings(openai_fake, image_download_hosts=("localhost",))
    result = OpenAIImageProvider(settings, timeout=FAST).generate(DALL_E_URL)
    assert len(result.images) == 1 and len(images.downloads) == 1


def test_shared_mode_never_downloads_from_an_internal_address(openai_fake, images, image_store):
    # the URL is on the provider's own host, but that host is 127.0.0.1
    settings = openai_settings(openai_fake, mode=Mode.SHARED)
    err = lane_error(image_store, OpenAIImageProvider(settings, timeout=FAST), DALL_E_URL)
    assert err.kind is ErrorKind.ADDRESS_REFUSED
    assert images.downloads == []


def test_a_redirect_is_not_followed(openai_fake, images, image_store):
    images.set_fault("redirect_url")
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    err = lane_error(image_store, provider, DALL_E_URL)
    assert err.kind is ErrorKind.ADDRESS_REFUSED and "redirect" in err.detail  # one rule everywhere
    assert len(images.downloads) == 1  # the redirect's target was never asked for


def test_karlo_urls_are_never_downloaded(karlo, image_store):
    karlo.set_fault("answer_urls")  # URLs although base64 was asked for
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST)
    assert lane_error(image_store, provider, KARLO_CAT).kind is ErrorKind.BAD_RESPONSE
    assert [c for c in karlo.calls if c.method == "GET"] == []


def test_the_allow_list_is_the_deployers_alone():
    settings = resolve_settings(
        sidebar={"IMAGE_DOWNLOAD_HOSTS": "evil.example"},
        environ={"IMAGE_DOWNLOAD_HOSTS": "Images.Example.com, .cdn.example"},
    )
    assert settings.image_download_hosts == (".cdn.example", "images.example.com")
