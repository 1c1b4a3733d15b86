"""Streamed GPT Image lanes: the fake's event stream as the SDK reads it, and the provider
handing each partial image to the lane's watch before the final image, with usage, cost,
first-pixels time and errors mid-stream."""

from __future__ import annotations

import base64
import io
import threading

import openai
import pytest
from PIL import Image, ImageChops, ImageStat

from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageRequest, OpenAIImageProvider
from services.images.lane_watch import LaneProgress, LaneWatch
from services.settings import Secret, Settings
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-fake-test-stream-0123456789abcdefABCDEF"
SMALL = ImageRequest(prompt="a lighthouse at dusk", model="gpt-image-2", size="256x256")


@pytest.fixture(scope="module")
def servers():
    with FakeOpenAIImages() as handler, FakeOpenAI(api_key=KEY, image_handler=handler) as server:
        yield server, handler


@pytest.fixture
def images(servers):
    server, handler = servers
    server.clear_faults()
    handler.calls.clear()
    handler.set_fault(None)
    handler.event_delay = None
    return handler


@pytest.fixture
def fake(servers, images):
    return servers[0]


@pytest.fixture
def provider(fake):
    settings = Settings(openai_api_key=Secret(KEY), openai_base_url=fake.base_url)
    return OpenAIImageProvider(settings, timeout=10.0, max_retries=0)


class Recorder(LaneWatch):
    """A watch that keeps every report, in order, with what the fake had sent by then."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[LaneProgress] = []

    def report(self, progress: LaneProgress) -> None:
        self.reports.append(progress)
        super().report(progress)


def decoded(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


# -- the fake's event stream, read by the real SDK ---------------------------------------------


def test_fake_streams_partial_images_then_the_completed_image(fake):
    client = openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0)
    events = list(
        client.images.generate(
            model="gpt-image-2", prompt="a fox", size="256x256", stream=True, partial_images=3
        )
    )
    assert [e.type for e in events] == ["image_generation.partial_image"] * 3 + [
        "image_generation.completed"
    ]
    assert [e.partial_image_index for e in events[:3]] == [0, 1, 2]
    for event in events:
        assert (event.size, event.output_format, event.quality) == ("256x256", "png", "medium")
        assert event.background in ("opaque", "transparent") and event.created_at > 0
        assert decoded(event.b64_json).size == (256, 256)  # every partial is a real PNG
    # each partial is closer to the final image than the one before
    final = decoded(events[-1].b64_json).convert("RGB")
    distance = [_distance(decoded(e.b64_json).convert("RGB"), final) for e in events[:3]]
    assert distance[0] > distance[1] > distance[2] > 0
    usage = events[-1].usage
    assert usage.output_tokens == 66 + 3 * 100  # 256x256 medium, and 100 a partial image
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.text_tokens == usage.input_tokens


def _distance(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).sum)


def test_fake_refuses_streaming_where_the_api_does(fake):
    client = openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="gpt-image-2", prompt="x", stream=True, partial_images=4)
    assert info.value.code == "integer_above_max_value"
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="dall-e-3", prompt="x", stream=True)
    assert info.value.code == "unsupported_parameter"


def test_fake_error_bodies_and_faults_still_apply_to_streams(fake, images):
    client = openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0)
    fake.set_fault("rate_limit", endpoint="images", times=1)
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model="gpt-image-2", prompt="x", stream=True)
    images.set_fault("stream_error", times=1)
    seen = []
    with pytest.raises(openai.APIError, match="failed while it was streaming"):
        for event in client.images.generate(
            model="gpt-image-2", prompt="x", size="256x256", stream=True, partial_images=2
        ):
            seen.append(event.type)
    assert seen == ["image_generation.partial_image"]


# -- the provider --------------------------------------------------------------------------------


def test_a_watched_gpt_image_lane_streams_partials_before_the_final(provider, images):
    watch = Recorder()
    result = provider.generate_watched(SMALL, watch)
    body = images.calls[-1].body
    assert body["stream"] is True and body["partial_images"] == 2  # the default
    partials = [r for r in watch.reports if r.partial is not None]
    assert [r.partial_index for r in partials] == [0, 1]
    assert all(r.partials == 2 for r in partials)
    assert all(Image.open(io.BytesIO(r.partial)).size == (256, 256) for r in partials)
    assert partials[0].partial != result.images[0].data  # a preview, then the final image
    assert Image.open(io.BytesIO(result.images[0].data)).size == (256, 256)
    assert result.usage["output_tokens"] == 66 + 2 * 100
    assert result.cost_usd is not None and result.cost_usd > 0
    assert result.first_pixels_ms is not None and 0 <= result.first_pixels_ms <= result.latency_ms
    assert result.params["first_pixels_ms"] == result.first_pixels_ms  # kept in the lineage
    assert result.params["stream"] is True


def test_the_lane_sets_how_many_partial_images(provider, images):
    watch = Recorder()
    request = ImageRequest(
        prompt="a lighthouse", model="gpt-image-2", size="256x256", extras={"partial_images": 3}
    )
    provider.generate_watched(request, watch)
    assert images.calls[-1].body["partial_images"] == 3
    assert [r.partial_index for r in watch.reports if r.partial] == [0, 1, 2]


def test_cost_matches_the_plain_call_plus_the_partials(provider, images):
    plain = provider.generate(SMALL)
    assert "stream" not in images.calls[-1].body
    assert "partial_images" not in images.calls[-1].body
    streamed = provider.generate_watched(
        ImageRequest(**{**SMALL.__dict__, "extras": {"partial_images": 0}}), Recorder()
    )
    assert streamed.usage["output_tokens"] == plain.usage["output_tokens"]
    assert streamed.cost_usd == pytest.approx(plain.cost_usd)


def test_models_that_cannot_stream_are_called_as_before(provider, images):
    watch = Recorder()
    result = provider.generate_watched(
        ImageRequest(prompt="a fox", model="gpt-image-2", size="256x256", count=2), watch
    )
    assert len(result.images) == 2 and result.first_pixels_ms is None
    assert "stream" not in images.calls[-1].body and not watch.reports
    provider.generate_watched(ImageRequest(prompt="a fox", model="dall-e-3"), watch)
    assert "stream" not in images.calls[-1].body and not watch.reports


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("stream_error", ErrorKind.SERVER_ERROR), ("cut_stream", ErrorKind.STREAM_INTERRUPTED)],
)
def test_a_stream_that_fails_midway_is_a_clear_error(provider, images, fault, kind):
    images.set_fault(fault, times=1)
    watch = Recorder()
    with pytest.raises(ChatCanvasError) as info:
        provider.generate_watched(SMALL, watch)
    assert info.value.kind is kind and info.value.provider == "openai"
    assert "after 1 partial image" in info.value.detail
    assert [r.partial_index for r in watch.reports if r.partial] == [0]  # it did arrive


def test_an_error_before_the_stream_is_the_usual_error(provider, fake):
    fake.set_fault("insufficient_quota", endpoint="images", times=1)
    with pytest.raises(ChatCanvasError) as info:
        provider.generate_watched(SMALL, Recorder())
    assert info.value.kind is ErrorKind.NO_CREDIT


def test_a_refused_prompt_is_refused_before_any_event(provider):
    with pytest.raises(ChatCanvasError) as info:
        provider.generate_watched(
            ImageRequest(prompt="something forbidden", model="gpt-image-2"), Recorder()
        )
    assert info.value.kind is ErrorKind.CONTENT_REFUSED


def test_cancel_stops_a_stream_between_events(provider, images):
    images.event_delay = 0.3
    watch = Recorder()
    first = threading.Event()
    original = watch.report

    def report(progress: LaneProgress) -> None:
        original(progress)
        first.set()

    watch.report = report  # type: ignore[method-assign]
    threading.Thread(target=lambda: first.wait(10) and watch.cancel(), daemon=True).start()
    with pytest.raises(ChatCanvasError) as info:
        provider.generate_watched(SMALL, watch)
    assert info.value.kind is ErrorKind.CANCELLED


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("malformed_b64", ErrorKind.BAD_RESPONSE), ("empty_data", ErrorKind.STREAM_INTERRUPTED)],
)
def test_the_fakes_answer_faults_apply_to_streams_too(provider, images, fault, kind):
    images.set_fault(fault, times=1)
    with pytest.raises(ChatCanvasError) as info:
        provider.generate_watched(SMALL, Recorder())
    assert info.value.kind is kind
