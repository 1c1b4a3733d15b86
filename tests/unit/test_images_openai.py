"""OpenAIImageProvider against the fake OpenAI server through the real SDK."""

from __future__ import annotations

import io
import socket

import openai
import pytest
from PIL import Image

from services.errors import ChatCanvasError, ErrorKind, from_openai
from services.images import ImageRequest, OpenAIImageProvider
from services.images.openai_images import image_capabilities
from services.settings import Secret, Settings
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.prompt_rewriter import revised_prompt

KEY = "sk-fake-test-images-0123456789abcdefABCDEF"


@pytest.fixture(scope="module")
def servers():
    # one pair of servers for the module (stopping one takes half a second); reset per test
    with FakeOpenAIImages() as handler, FakeOpenAI(api_key=KEY, image_handler=handler) as server:
        yield server, handler


@pytest.fixture
def images(servers):
    _, handler = servers
    handler.calls.clear()
    handler.set_fault(None)
    handler.hang_seconds = 30.0
    return handler


@pytest.fixture
def fake(servers, images):
    server, _ = servers
    server.clear_faults()
    return server


def settings_for(fake: FakeOpenAI, key: str = KEY) -> Settings:
    return Settings(openai_api_key=Secret(key), openai_base_url=fake.base_url)


@pytest.fixture
def provider(fake):
    return OpenAIImageProvider(settings_for(fake), timeout=10.0, max_retries=0)


def sent(images: FakeOpenAIImages) -> dict:
    assert images.calls, "nothing reached the server"
    return images.calls[-1].body


def error_of(provider: OpenAIImageProvider, request: ImageRequest) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        provider.generate(request)
    assert info.value.provider == "openai"
    return info.value


# -- GPT Image parameters ---------------------------------------------------------------------


def test_gpt_image_sends_its_own_parameters_and_drops_foreign_extras(provider, images):
    request = ImageRequest(
        "  a lighthouse at dusk  ",
        "gpt-image-2",
        size="1536x1024",
        count=2,
        quality="low",
        output_format="webp",
        extras={
            "background": "opaque",
            "moderation": "low",
            "output_compression": 80,
            "style": "vivid",  # left over from a DALL·E lane
            "response_format": "url",
            "guidance_scale": 7.0,  # left over from a Karlo lane
        },
    )
    result = provider.generate(request)
    body = sent(images)
    assert body == {
        "model": "gpt-image-2",
        "prompt": "a lighthouse at dusk",
        "n": 2,
        "size": "1536x1024",
        "quality": "low",
        "output_format": "webp",
        "background": "opaque",
        "moderation": "low",
        "output_compression": 80,
    }
    assert dict(result.params) == body  # what was sent, exactly
    assert result.provider == "openai" and result.model == "gpt-image-2"
    assert len(result.images) == 2
    for image in result.images:
        assert image.mime_type == "image/webp"
        assert image.seed is None and image.revised_prompt is None
        assert Image.open(io.BytesIO(image.data)).size == (1536, 1024)
    assert result.seeds == ()
    assert result.latency_ms >= 0


def test_model_is_always_sent_and_unset_options_are_left_to_the_api(provider, images):
    provider.generate(ImageRequest("a cat", "gpt-image-2"))
    assert sent(images) == {"model": "gpt-image-2", "prompt": "a cat", "n": 1}


def test_cost_comes_from_usage_and_the_catalog_price(provider, images):
    result = provider.generate(ImageRequest("a cat", "gpt-image-2", quality="medium"))
    usage = result.usage
    assert usage["input_tokens"] > 0 and usage["output_tokens"] == 1056
    text_in = usage["input_tokens_details"]["text_tokens"]
    # gpt-image-2 in services/data/models.json: $5 text input, $30 image output per 1M tokens
    assert result.cost_usd == pytest.approx((text_in * 5.0 + 1056 * 30.0) / 1_000_000)
    assert result.cost_is_estimate is False


def test_cost_is_unknown_without_a_price_or_without_usage(provider, images):
    assert provider.generate(ImageRequest("a cat", "gpt-image-2.5-flare")).cost_usd is None
    images.set_fault("no_usage", times=1)
    result = provider.generate(ImageRequest("a cat", "gpt-image-2"))
    assert result.cost_usd is None and result.usage == {}


def test_custom_sizes_on_gpt_image_2_and_later(provider, images):
    provider.generate(ImageRequest("a cat", "gpt-image-2", width=1536, height=864))
    assert sent(images)["size"] == "1536x864"
    provider.generate(ImageRequest("a cat", "gpt-image-2.6-flare", size="3840x2160"))
    assert sent(images)["size"] == "3840x2160"
    provider.generate(ImageRequest("a cat", "gpt-image-2", size="2160x3840"))
    assert sent(images)["size"] == "2160x3840"


@pytest.mark.parametrize(
    ("model", "size", "reason"),
    [
        ("gpt-image-2", "1000x1000", "multiples of 16"),
        ("gpt-image-2", "3840x1024", "aspect ratio"),
        ("gpt-image-2", "4096x2160", "at most 3840"),
        ("gpt-image-2", "3840x2304", "pixels"),
        ("gpt-image-1.5", "1536x864", "not offered"),
        ("gpt-image-2", "huge", "allowed"),
    ],
)
def test_bad_sizes_are_refused_before_sending(provider, images, model, size, reason):
    err = error_of(provider, ImageRequest("a cat", model, size=size))
    assert err.kind is ErrorKind.BAD_REQUEST and err.param == "size"
    assert reason in err.detail
    assert images.calls == []


@pytest.mark.parametrize(
    ("request_kwargs", "param"),
    [
        ({"count": 0}, "n"),
        ({"count": 11}, "n"),
        ({"quality": "hd"}, "quality"),
        ({"quality": "xhigh"}, "quality"),  # only the 2.5 models take xhigh
        ({"output_format": "gif"}, "output_format"),
        ({"extras": {"background": "purple"}}, "background"),
        ({"extras": {"moderation": "none"}}, "moderation"),
        ({"extras": {"background": "transparent"}, "output_format": "jpeg"}, "background"),
        ({"extras": {"output_compression": 101}, "output_format": "webp"}, "output_compression"),
    ],
)
def test_bad_values_are_refused_before_sending(provider, images, request_kwargs, param):
    err = error_of(provider, ImageRequest("a cat", "gpt-image-2", **request_kwargs))
    assert err.kind is ErrorKind.BAD_REQUEST and err.param == param
    assert images.calls == []


def test_quality_choices_come_from_the_data_file(provider, images):
    provider.generate(ImageRequest("a cat", "gpt-image-2.5-flare", quality="xhigh"))
    assert sent(images)["quality"] == "xhigh"
    assert "xhigh" not in image_capabilities("gpt-image-2").qualities


def test_transparent_background_with_png(provider, images):
    provider.generate(ImageRequest("a logo", "gpt-image-2", extras={"background": "transparent"}))
    assert sent(images)["background"] == "transparent"


def test_compression_is_only_sent_for_lossy_formats(provider, images):
    provider.generate(
        ImageRequest("a cat", "gpt-image-2", output_format="png", extras={"output_compression": 50})
    )
    assert "output_compression" not in sent(images)


def test_empty_and_oversized_prompts_are_not_sent(provider, images):
    assert error_of(provider, ImageRequest("   ", "gpt-image-2")).kind is ErrorKind.EMPTY_INPUT
    err = error_of(provider, ImageRequest("x" * 32_001, "gpt-image-2"))
    assert err.kind is ErrorKind.INPUT_TOO_LONG
    assert images.calls == []


def test_capabilities_for_unknown_and_dated_ids():
    dated = image_capabilities("gpt-image-2-2026-04-21")
    assert dated.family == "gpt-image" and dated.size_rule is not None
    unknown = image_capabilities("gpt-image-9")
    assert unknown.family == "gpt-image" and unknown.max_count == 10
    compat = image_capabilities("my-dall-e-3-clone")
    assert compat.family == "dall-e" and "style" in compat.extras
    old = image_capabilities("gpt-image-1")
    assert old.size_rule is None and "auto" in old.sizes


def test_dated_snapshot_inherits_the_price(provider, images):
    result = provider.generate(ImageRequest("a cat", "gpt-image-2-2026-04-21"))
    assert sent(images)["model"] == "gpt-image-2-2026-04-21"
    assert result.cost_usd is not None


# -- DALL·E family (OpenAI-compatible servers) -------------------------------------------------


def test_dall_e_3_sends_style_quality_and_downloads_url_results(provider, images):
    result = provider.generate(
        ImageRequest(
            "a fox",
            "dall-e-3",
            size="1792x1024",
            quality="hd",
            output_format="webp",  # not a DALL·E parameter: not sent
            extras={"style": "natural", "response_format": "url", "background": "opaque"},
        )
    )
    assert sent(images) == {
        "model": "dall-e-3",
        "prompt": "a fox",
        "n": 1,
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
        "response_format": "url",
    }
    (image,) = result.images
    assert image.mime_type == "image/png"
    assert Image.open(io.BytesIO(image.data)).size == (1792, 1024)
    assert image.revised_prompt == revised_prompt("a fox")
    assert result.cost_usd is None


def test_dall_e_defaults_to_b64_json(provider, images):
    result = provider.generate(ImageRequest("a fox", "dall-e-2", size="512x512", count=3))
    body = sent(images)
    assert body["response_format"] == "b64_json" and "style" not in body and "quality" not in body
    assert len(result.images) == 3
    assert all(i.revised_prompt is None for i in result.images)  # DALL·E 2 revises nothing


def test_dall_e_limits_come_from_the_data_file(provider, images):
    err = error_of(provider, ImageRequest("a fox", "dall-e-3", count=2))
    assert err.param == "n"
    err = error_of(provider, ImageRequest("a fox", "dall-e-3", quality="high"))
    assert err.param == "quality"
    err = error_of(provider, ImageRequest("a fox", "dall-e-3", size="1536x1024"))
    assert err.param == "size"
    assert images.calls == []


def test_the_fake_rejects_dall_e_parameters_on_gpt_image_like_the_api(fake, images):
    client = openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0)
    for extra in ({"response_format": "b64_json"}, {"style": "vivid"}):
        with pytest.raises(openai.BadRequestError) as info:
            client.images.generate(model="gpt-image-2", prompt="a cat", **extra)
        err = from_openai(info.value)
        assert err.kind is ErrorKind.UNSUPPORTED_PARAMETER
        assert err.param == next(iter(extra))


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-image-2", "dall-e-3"])
def test_safety_refusal_is_content_refused(provider, model):
    err = error_of(provider, ImageRequest("something forbidden", model))
    assert err.kind is ErrorKind.CONTENT_REFUSED
    assert err.status == 400
    assert "safety system" in err.detail


def test_invalid_key(fake, images):
    wrong = "sk-fake-wrong-key-test-99999999999999"
    provider = OpenAIImageProvider(settings_for(fake, wrong), max_retries=0)
    err = error_of(provider, ImageRequest("a cat", "gpt-image-2"))
    assert err.kind is ErrorKind.INVALID_KEY and err.status == 401
    assert wrong not in str(err) and wrong not in err.detail
    assert images.calls == []


def test_no_key():
    err = error_of(OpenAIImageProvider(Settings()), ImageRequest("a cat", "gpt-image-2"))
    assert err.kind is ErrorKind.NO_KEY


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("insufficient_quota", ErrorKind.NO_CREDIT),
        ("rate_limit", ErrorKind.RATE_LIMIT),
        ("server_error", ErrorKind.SERVER_ERROR),
        ("permission", ErrorKind.PERMISSION),
        ("model_not_found", ErrorKind.MODEL_NOT_FOUND),
    ],
)
def test_api_errors_map_to_kinds(fake, provider, fault, kind):
    fake.set_fault(fault, endpoint="images")
    err = error_of(provider, ImageRequest("a cat", "gpt-image-2"))
    assert err.kind is kind
    if kind is ErrorKind.RATE_LIMIT:
        assert err.retry_after == 1.0


def test_key_echoed_by_the_server_is_scrubbed(provider, images):
    images.set_fault("echo_key")
    err = error_of(provider, ImageRequest("a cat", "gpt-image-2"))
    assert err.kind is ErrorKind.BAD_REQUEST
    assert "Malformed request" in err.detail
    assert KEY not in str(err) and KEY not in err.detail and KEY[10:] not in err.detail


def test_timeout(fake, images):
    images.hang_seconds = 3.0
    images.set_fault("timeout", times=1)
    provider = OpenAIImageProvider(settings_for(fake), timeout=0.5, max_retries=0)
    err = error_of(provider, ImageRequest("a cat", "gpt-image-2"))
    assert err.kind is ErrorKind.TIMEOUT


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(openai_api_key=Secret(KEY), openai_base_url=f"http://127.0.0.1:{port}/v1")
    err = error_of(
        OpenAIImageProvider(settings, timeout=2.0, max_retries=0),
        ImageRequest("a cat", "gpt-image-2"),
    )
    assert err.kind is ErrorKind.CONNECTION
    assert KEY not in str(err)


@pytest.mark.parametrize("fault", ["malformed_b64", "empty_data"])
def test_unreadable_answers_are_bad_response(provider, images, fault):
    images.set_fault(fault)
    assert error_of(provider, ImageRequest("a cat", "gpt-image-2")).kind is ErrorKind.BAD_RESPONSE


def test_dall_e_url_that_cannot_be_downloaded_is_bad_response(provider, images):
    images.set_fault("expired_url")
    err = error_of(provider, ImageRequest("a fox", "dall-e-3", extras={"response_format": "url"}))
    assert err.kind is ErrorKind.BAD_RESPONSE and err.status == 404


def test_a_korean_prompt_is_revised_in_korean():
    revised = revised_prompt("눈 덮인 숲 속의 붉은 여우를 그려줘")
    assert "눈 덮인 숲 속의 붉은 여우" in revised and "그려줘" not in revised
    assert revised != revised_prompt("a fox")


def test_gpt_image_models_revise_nothing(provider, images):
    (image,) = provider.generate(ImageRequest("a fox", "gpt-image-2")).images
    assert image.revised_prompt is None
