"""KarloProvider against the fake Kakao Karlo server over real HTTP; make_karlo_ready against
the fake OpenAI chat endpoint."""

from __future__ import annotations

import io
import socket

import httpx2
import pytest
from PIL import Image

from services.catalog import load_catalog
from services.chat import ChatService
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import load_strings
from services.images import ImageRequest, KarloProvider, error_message_key, karlo_prompt_problems
from services.images.translate import make_karlo_ready, shorten
from services.settings import Secret, Settings
from tests.fakes.karlo_server import FAKE_KAKAO_KEY, T2I_PATH, FakeKarlo
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI

FAST = httpx2.Timeout(5.0, connect=2.0)


@pytest.fixture(scope="module")
def server():
    with FakeKarlo() as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.calls.clear()
    server.set_fault(None)
    server.latency = 0.0
    server.hang_seconds = 30.0
    return server


def settings_for(fake: FakeKarlo, key: str = FAKE_KAKAO_KEY) -> Settings:
    return Settings(kakao_rest_api_key=Secret(key), karlo_base_url=fake.base_url)


@pytest.fixture
def provider(fake):
    return KarloProvider(settings_for(fake), timeout=FAST, retry_backoff=0.01)


def error_of(provider: KarloProvider, request: ImageRequest) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        provider.generate(request)
    assert info.value.provider == "karlo"
    return info.value


def cat(**kwargs) -> ImageRequest:
    return ImageRequest(
        kwargs.pop("prompt", "a cat on a sofa"), kwargs.pop("model", "karlo-v2.1"), **kwargs
    )


# -- the request ------------------------------------------------------------------------------


def test_body_headers_and_decoded_images(provider, fake):
    result = provider.generate(
        cat(
            negative_prompt="blurry, text",
            width=640,
            height=480,
            count=3,
            seeds=(42,),
            output_format="png",
            extras={
                "image_quality": 90,
                "prior_num_inference_steps": 30,
                "prior_guidance_scale": 6.5,
                "num_inference_steps": 40,
                "guidance_scale": 4.0,
                "scheduler": "decoder_ddpm_v_prediction",
                "nsfw_checker": True,
                "background": "opaque",  # an OpenAI extra left over: not sent
            },
        )
    )
    (call,) = fake.t2i_calls()
    assert call.headers["Authorization"] == f"KakaoAK {FAKE_KAKAO_KEY}"
    assert call.headers["Content-Type"] == "application/json"
    assert call.body == {
        "version": "v2.1",
        "prompt": "a cat on a sofa",
        "negative_prompt": "blurry, text",
        "width": 640,
        "height": 480,
        "samples": 3,
        "return_type": "base64_string",
        "image_format": "png",
        "image_quality": 90,
        "prior_num_inference_steps": 30,
        "prior_guidance_scale": 6.5,
        "num_inference_steps": 40,
        "guidance_scale": 4.0,
        "scheduler": "decoder_ddpm_v_prediction",
        "nsfw_checker": True,
        "seed": [42, 43, 44],
    }
    assert dict(result.params) == call.body
    assert result.seeds == (42, 43, 44)
    assert [i.seed for i in result.images] == [42, 43, 44]
    for image in result.images:
        assert image.mime_type == "image/png"
        assert Image.open(io.BytesIO(image.data)).size == (640, 480)
        assert image.nsfw is False and image.nsfw_score == pytest.approx(0.01)
    assert result.cost_usd is None
    assert result.usage["images"] == 3 and result.usage["model_version"] == "v2.1"


def test_defaults_and_random_seeds_come_back(provider, fake):
    result = provider.generate(cat(count=2))
    body = fake.t2i_calls()[-1].body
    assert body == {
        "version": "v2.1",
        "prompt": "a cat on a sofa",
        "width": 512,
        "height": 512,
        "samples": 2,
        "return_type": "base64_string",
    }
    assert len(result.seeds) == 2 and all(isinstance(s, int) for s in result.seeds)
    assert all(i.mime_type == "image/webp" for i in result.images)  # Karlo's default format
    assert all(i.nsfw is None for i in result.images)


def test_explicit_seeds_and_upscale(provider, fake):
    result = provider.generate(
        cat(
            width=512,
            height=256,
            count=2,
            seeds=(7, 9),
            output_format="jpeg",
            extras={"upscale": True, "scale": 4},
        )
    )
    body = fake.t2i_calls()[-1].body
    assert body["seed"] == [7, 9] and body["upscale"] is True and body["scale"] == 4
    assert Image.open(io.BytesIO(result.images[0].data)).size == (2048, 1024)
    assert result.images[0].mime_type == "image/jpeg"


def test_scale_without_upscale_is_not_sent(provider, fake):
    provider.generate(cat(extras={"scale": 4}))
    assert "scale" not in fake.t2i_calls()[-1].body


def test_numeric_quality_is_karlo_image_quality(provider, fake):
    provider.generate(cat(quality="55"))
    assert fake.t2i_calls()[-1].body["image_quality"] == 55


def test_v2_0_is_limited_to_640(provider, fake):
    provider.generate(cat(model="karlo-v2.0", width=640, height=640))
    assert fake.t2i_calls()[-1].body["version"] == "v2.0"
    err = error_of(provider, cat(model="karlo-v2.0", width=768, height=768))
    assert err.kind is ErrorKind.BAD_REQUEST and "640" in err.detail
    assert len(fake.t2i_calls()) == 1


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"width": 500, "height": 512}, "width"),
        ({"width": 1288, "height": 512}, "width"),
        ({"count": 9}, "samples"),
        ({"count": 0}, "samples"),
        ({"seeds": (1, 2), "count": 3}, "seed"),
        ({"seeds": (-1,)}, "seed"),
        ({"seeds": (4_294_967_296,)}, "seed"),
        ({"output_format": "gif"}, "image_format"),
        ({"extras": {"scale": 3, "upscale": True}}, "scale"),
        ({"extras": {"upscale": True, "scale": 4}, "width": 640, "height": 512}, "scale"),
        ({"extras": {"num_inference_steps": 5}}, "num_inference_steps"),
        ({"extras": {"num_inference_steps": 20.5}}, "num_inference_steps"),
        ({"extras": {"guidance_scale": 25.0}}, "guidance_scale"),
        ({"extras": {"image_quality": 0}}, "image_quality"),
        ({"extras": {"scheduler": "euler"}}, "scheduler"),
        ({"model": "karlo-v3"}, "model"),
    ],
)
def test_invalid_parameters_are_refused_before_sending(provider, fake, kwargs, param):
    err = error_of(provider, cat(**kwargs))
    assert err.kind is ErrorKind.BAD_REQUEST and err.param == param
    assert fake.t2i_calls() == []


def test_the_fake_validates_like_kakao(fake):
    response = httpx2.post(
        fake.base_url + T2I_PATH,
        json={"prompt": "a cat", "width": 500, "height": 512},
        headers={"Authorization": f"KakaoAK {FAKE_KAKAO_KEY}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == -2
    response = httpx2.post(fake.base_url + T2I_PATH, json={"prompt": "a cat"})
    assert response.status_code == 401 and response.json()["code"] == -401


def test_the_fake_serves_url_results(fake):
    response = httpx2.post(
        fake.base_url + T2I_PATH,
        json={"prompt": "a cat", "width": 256, "height": 256, "image_format": "png"},
        headers={"Authorization": f"KakaoAK {FAKE_KAKAO_KEY}"},
    )
    payload = response.json()
    assert set(payload) == {"id", "model_version", "images"}
    (item,) = payload["images"]
    assert set(item) == {"id", "seed", "image", "nsfw_content_detected", "nsfw_score"}
    image = httpx2.get(item["image"])
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (256, 256)


# -- prompt checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "problems"),
    [
        ("a cat on a sofa, watercolor", []),
        ("café au lait, 35mm, f/1.8 — soft light", []),
        ("소파 위의 고양이", ["not_english"]),
        ("a cat 猫", ["not_english"]),
        ("x" * 256, []),
        ("x" * 257, ["too_long"]),
        ("고양이 " * 90, ["not_english", "too_long"]),
        ("   ", ["empty"]),
    ],
)
def test_karlo_prompt_problems(prompt, problems):
    assert karlo_prompt_problems(prompt) == problems


def test_non_english_prompt_is_not_sent(provider, fake):
    err = error_of(provider, cat(prompt="소파 위의 고양이"))
    assert err.kind is ErrorKind.NOT_ENGLISH and err.own_check and not err.detail
    assert error_message_key(err) == "images.errors.karlo_not_english"
    err = error_of(provider, cat(negative_prompt="흐릿한"))
    assert err.param == "negative_prompt"
    assert fake.t2i_calls() == []


def test_too_long_prompt_is_not_sent(provider, fake):
    err = error_of(provider, cat(prompt="a cat " * 50))
    assert err.kind is ErrorKind.PROMPT_TOO_LONG and err.own_check
    assert error_message_key(err) == "images.errors.karlo_too_long"
    assert error_of(provider, cat(prompt="")).kind is ErrorKind.EMPTY_INPUT
    assert fake.t2i_calls() == []


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "kind", "status", "code"),
    [
        ("invalid_parameter", ErrorKind.BAD_REQUEST, 400, "-2"),
        ("maintenance", ErrorKind.MAINTENANCE, 503, "-7"),
        ("service_terminated", ErrorKind.SERVICE_TERMINATED, 400, "-9"),
        ("quota_exceeded", ErrorKind.QUOTA_EXCEEDED, 429, "-10"),
        ("app_suspended", ErrorKind.PERMISSION, 403, "-12"),
        ("invalid_key", ErrorKind.INVALID_KEY, 401, "-401"),
        ("not_found", ErrorKind.SERVICE_TERMINATED, 404, None),
    ],
)
def test_kakao_errors_map_to_kinds_and_are_not_retried(provider, fake, fault, kind, status, code):
    fake.set_fault(fault)
    err = error_of(provider, cat())
    assert (err.kind, err.status, err.code) == (kind, status, code)
    assert len(fake.t2i_calls()) == 1  # Kakao's own codes do not change on retry


def test_wrong_key_is_invalid_key_and_never_shown(fake):
    wrong = "fake-wrong-kakao-key-1234567890"
    provider = KarloProvider(settings_for(fake, wrong), timeout=FAST, retry_backoff=0.01)
    err = error_of(provider, cat())
    assert err.kind is ErrorKind.INVALID_KEY and err.code == "-401"
    assert wrong not in str(err)


def test_a_wrong_kakao_key_says_which_kakao_key_to_use(fake):
    """Not OpenAI's 'belongs to the right project': Kakao has several keys per app."""
    wrong = "fake-wrong-kakao-key-1234567890"
    provider = KarloProvider(settings_for(fake, wrong), timeout=FAST, retry_backoff=0.01)
    key = error_message_key(error_of(provider, cat()))
    assert key == "images.errors.karlo_invalid_key"
    en, ko = load_strings("en")[key], load_strings("ko")[key]
    assert "REST API" in en and "JavaScript" in en and "Admin" in en and "project" not in en
    assert "REST API" in ko and "JavaScript" in ko and "Admin" in ko


def test_key_echoed_by_the_server_is_scrubbed(provider, fake):
    fake.set_fault("echo_key")
    err = error_of(provider, cat())
    assert err.kind is ErrorKind.BAD_REQUEST
    assert FAKE_KAKAO_KEY not in str(err) and FAKE_KAKAO_KEY not in err.detail
    assert "bad request with" in err.detail


def test_missing_key(fake):
    err = error_of(KarloProvider(Settings(karlo_base_url=fake.base_url)), cat())
    assert err.kind is ErrorKind.NO_KEY
    assert error_message_key(err) == "images.errors.karlo_no_key"
    assert fake.t2i_calls() == []


def test_a_rate_limit_with_retry_after_is_retried_a_bounded_number_of_times(fake):
    fake.set_fault("rate_limit")  # 429 with Retry-After: 0
    provider = KarloProvider(settings_for(fake), timeout=FAST, max_retries=2, retry_backoff=0.01)
    err = error_of(provider, cat())
    assert err.kind is ErrorKind.RATE_LIMIT
    assert len(fake.t2i_calls()) == 3


def test_a_server_error_is_not_retried(fake):
    # the server had the request: it may have generated (and counted) images already
    fake.set_fault("server_error", times=1)
    provider = KarloProvider(settings_for(fake), timeout=FAST, max_retries=2, retry_backoff=0.01)
    assert error_of(provider, cat()).kind is ErrorKind.SERVER_ERROR
    assert [c.status for c in fake.t2i_calls()] == [500]


def test_a_retry_can_succeed(fake):
    fake.set_fault("rate_limit", times=1)
    provider = KarloProvider(settings_for(fake), timeout=FAST, max_retries=2, retry_backoff=0.01)
    result = provider.generate(cat())
    assert len(result.images) == 1
    assert [c.status for c in fake.t2i_calls()] == [429, 200]


def test_timeout_is_not_retried(fake):
    fake.hang_seconds = 3.0
    fake.set_fault("timeout")
    provider = KarloProvider(
        settings_for(fake), timeout=httpx2.Timeout(0.5, connect=1.0), retry_backoff=0.01
    )
    err = error_of(provider, cat())
    assert err.kind is ErrorKind.TIMEOUT
    assert len(fake.t2i_calls()) == 1


def test_connection_refused_after_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY), karlo_base_url=f"http://127.0.0.1:{port}"
    )
    err = error_of(KarloProvider(settings, timeout=FAST, retry_backoff=0.01), cat())
    assert err.kind is ErrorKind.CONNECTION
    assert FAKE_KAKAO_KEY not in str(err)


def test_malformed_base64_is_bad_response(provider, fake):
    fake.set_fault("malformed_base64")
    assert error_of(provider, cat()).kind is ErrorKind.BAD_RESPONSE


def test_nsfw_flag_and_score(provider, fake):
    fake.set_fault("nsfw")
    result = provider.generate(cat(count=2))
    assert all(i.nsfw is True and i.nsfw_score == pytest.approx(0.97) for i in result.images)


# -- make_karlo_ready ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_server():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def chat(chat_server):
    chat_server.requests.clear()
    chat_server.clear_faults()
    settings = Settings(openai_api_key=Secret(FAKE_KEY), openai_base_url=chat_server.base_url)
    return ChatService(settings, load_catalog(), max_retries=0)


def test_korean_prompt_is_translated(chat, chat_server):
    chat_server.reply = lambda messages, model: 'Prompt: "A cat sleeping on a red sofa, watercolor"'
    english = make_karlo_ready(chat, "gpt-5.4-mini", "빨간 소파 위에서 자는 고양이, 수채화")
    assert english == "A cat sleeping on a red sofa, watercolor"
    (request,) = chat_server.chat_requests()
    messages = request.body["messages"]
    assert messages[0]["role"] == "system" and "English" in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": "빨간 소파 위에서 자는 고양이, 수채화"}
    assert request.body["model"] == "gpt-5.4-mini"
    assert karlo_prompt_problems(english) == []


def test_a_reply_still_too_long_is_cut_at_a_word(chat, chat_server):
    reply = "a very detailed, " * 40
    chat_server.reply = lambda messages, model: reply
    english = make_karlo_ready(chat, "gpt-5.4-mini", "고양이 " * 100)
    assert 240 <= len(english) <= 256
    assert reply.startswith(english)
    assert reply[len(english)] in " ,"  # cut between words, never inside one
    assert not english.endswith(",")
    assert karlo_prompt_problems(english) == []


def test_ready_prompt_costs_no_call(chat, chat_server):
    assert make_karlo_ready(chat, "gpt-5.4-mini", "  a cat  ") == "a cat"
    assert chat_server.chat_requests() == []


def test_a_reply_that_is_not_english_is_bad_response(chat, chat_server):
    chat_server.reply = lambda messages, model: "고양이"
    with pytest.raises(ChatCanvasError) as info:
        make_karlo_ready(chat, "gpt-5.4-mini", "고양이")
    assert info.value.kind is ErrorKind.BAD_RESPONSE


def test_chat_errors_propagate(chat, chat_server):
    chat_server.set_fault("insufficient_quota", endpoint="chat")
    with pytest.raises(ChatCanvasError) as info:
        make_karlo_ready(chat, "gpt-5.4-mini", "고양이")
    assert info.value.kind is ErrorKind.NO_CREDIT


def test_shorten():
    assert shorten("a b c", 10) == "a b c"
    assert shorten("alpha beta gamma", 11) == "alpha beta"
    assert shorten("x" * 300, 256) == "x" * 256
