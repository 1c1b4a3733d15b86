"""One click is one paid generation: a request that may have reached the provider is never
sent again by itself."""

from __future__ import annotations

from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageRequest, KarloProvider, OpenAIImageProvider, run_lanes
from tests.security.conftest import FAST, karlo_settings, openai_settings

KARLO_CAT = ImageRequest("a cat", "karlo-v2.1")


def test_karlo_dropping_the_connection_after_the_request_is_not_retried(karlo):
    karlo.set_fault("drop_after_body")  # the body was read: Kakao may be generating already
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST, retry_backoff=0.01)
    (outcome,) = run_lanes([(provider, KARLO_CAT)])
    assert isinstance(outcome, ChatCanvasError)
    assert outcome.kind is ErrorKind.CONNECTION and outcome.provider == "karlo"
    assert len(karlo.t2i_calls()) == 1


def test_karlo_server_error_is_not_retried(karlo):
    karlo.set_fault("server_error")
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST, retry_backoff=0.01)
    assert isinstance(run_lanes([(provider, KARLO_CAT)])[0], ChatCanvasError)
    assert len(karlo.t2i_calls()) == 1


def test_karlo_rate_limit_without_retry_after_is_not_retried(karlo):
    karlo.set_fault("rate_limit_no_wait")
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST, retry_backoff=0.01)
    (outcome,) = run_lanes([(provider, KARLO_CAT)])
    assert outcome.kind is ErrorKind.RATE_LIMIT
    assert len(karlo.t2i_calls()) == 1


def test_openai_image_generation_is_sent_once_by_default(openai_fake, images):
    openai_fake.set_fault("server_error", endpoint="images")
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)  # default retries
    (outcome,) = run_lanes([(provider, ImageRequest("a cat", "gpt-image-2"))])
    assert outcome.kind is ErrorKind.SERVER_ERROR
    generations = [r for r in openai_fake.requests if r.path.endswith("/images/generations")]
    assert len(generations) == 1
