"""ChatService against the fake OpenAI API over real HTTP, with the real openai SDK."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from services.catalog import Catalog, LiveModel
from services.chat import (
    MAX_MESSAGE_CHARS,
    ChatMessage,
    ChatOptions,
    ChatService,
    check_user_text,
    context_warning,
    estimate_tokens,
)
from services.chat_images import content, prepare_image
from services.errors import ChatCanvasError, ErrorKind
from services.http_clients import openai_client
from services.settings import Secret, Settings
from tests.fakes.openai_server import (
    FAKE_KEY,
    FakeModel,
    FakeOpenAI,
    count_tokens,
    split_tokens,
)

HELLO = [ChatMessage("user", "Hello there, fake model")]
WRONG_KEY = "sk-proj-WRONGkey0000111122223333444455556666"


def service(settings: Settings, catalog: Catalog, **kw) -> ChatService:
    kw.setdefault("timeout", 5.0)
    return ChatService(settings, catalog, max_retries=0, **kw)


def error_of(call) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        call()
    return info.value


def assert_no_key_in(err: ChatCanvasError, *keys: str) -> None:
    for key in (FAKE_KEY, *keys):
        for text in (str(err), err.detail, repr(err)):
            assert key not in text


# -- a normal streamed reply ---------------------------------------------------------------
def test_stream_deltas_concatenate_to_the_reply(chat, fake):
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    deltas = list(stream)
    expected = "Fake gpt-4o-mini reply #1: Hello there, fake model"
    assert "".join(deltas) == expected
    assert stream.text == expected
    assert len(deltas) == len(split_tokens(expected))  # arrived piece by piece
    assert stream.finish_reason == "stop"
    assert stream.complete
    assert stream.error is None


def test_usage_and_cost_are_present(chat, catalog):
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    text = "".join(stream)
    usage = stream.usage
    assert usage is not None
    assert usage.prompt_tokens == count_tokens(HELLO[0].content) + 4
    assert usage.completion_tokens == len(split_tokens(text))
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.cached_tokens == 0
    assert usage.reasoning_tokens == 0
    expected = catalog.spec("gpt-4o-mini").cost(usage.prompt_tokens, usage.completion_tokens)
    assert stream.cost == pytest.approx(expected)
    assert stream.cost > 0


def test_cost_is_none_for_an_unpriced_model(chat, fake):
    fake.models.append(FakeModel("gpt-6.1-sol", reasoning=True))
    stream = chat.reply("gpt-6.1-sol", HELLO)
    assert stream.usage is not None
    assert stream.cost is None


def test_request_asks_for_usage_in_the_stream(chat, fake):
    chat.reply("gpt-4o-mini", HELLO)
    [request] = fake.chat_requests()
    body = request.body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [{"role": "user", "content": "Hello there, fake model"}]
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_the_request_is_the_one_the_sdks_create_sends(chat, fake, settings):
    """stream_reply posts through the SDK without create's walk of the body: the request on
    the wire (path, JSON, headers) is the one chat.completions.create sends for the same
    turn, an image part and the model's parameters included."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    image = prepare_image(buffer.getvalue(), "red.png")
    history = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "What is this?", (image,)),
        ChatMessage("assistant", "A red square."),
        ChatMessage("user", "And now?"),
    ]
    chat.reply("gpt-4o-mini", history, ChatOptions(temperature=0.3, max_tokens=50))
    ours = fake.chat_requests()[-1]
    client = openai_client(settings, timeout=chat._timeout, max_retries=0)
    sdk = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": m.role, "content": content(m.content, m.images)} for m in history],
        stream=True,
        stream_options={"include_usage": True},
        temperature=0.3,
        max_tokens=50,
        timeout=chat._timeout,
    )
    for _ in sdk:
        pass
    theirs = fake.chat_requests()[-1]
    assert ours is not theirs
    assert (ours.method, ours.path, ours.body) == (theirs.method, theirs.path, theirs.body)
    assert ours.body["messages"][1]["content"][1]["type"] == "image_url"

    def sent(request) -> dict:
        varying = {"x-stainless-retry-count", "x-stainless-read-timeout", "content-length"}
        return {k.lower(): v for k, v in request.headers.items() if k.lower() not in varying}

    assert sent(ours) == sent(theirs)


def test_reasoning_model_gets_max_completion_tokens_and_no_temperature(chat, fake):
    stream = chat.reply("gpt-5.4-mini", HELLO, ChatOptions(temperature=0.2, max_tokens=200))
    assert stream.complete
    body = fake.chat_requests()[-1].body
    assert body["max_completion_tokens"] == 200
    assert "max_tokens" not in body
    assert "temperature" not in body


def test_non_reasoning_model_gets_temperature_and_max_tokens(chat, fake):
    stream = chat.reply("gpt-4o-mini", HELLO, ChatOptions(temperature=0.2, max_tokens=200))
    assert stream.complete
    body = fake.chat_requests()[-1].body
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 200
    assert "max_completion_tokens" not in body


def test_no_optional_parameters_when_none_chosen(chat, fake):
    chat.reply("gpt-4o-mini", HELLO)
    body = fake.chat_requests()[-1].body
    for name in ("temperature", "max_tokens", "max_completion_tokens", "top_p"):
        assert name not in body


def test_token_limit_ends_with_finish_reason_length(chat):
    stream = chat.reply("gpt-4o-mini", HELLO, ChatOptions(max_tokens=3))
    assert stream.finish_reason == "length"
    assert stream.complete  # the model finished, just early
    assert stream.text == "Fake gpt-4o-mini reply"
    assert stream.usage.completion_tokens == 3


def test_system_and_history_are_sent_in_order(chat, fake):
    messages = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "one"),
        ChatMessage("assistant", "first answer"),
        ChatMessage("user", "two"),
    ]
    stream = chat.reply("gpt-4o-mini", messages)
    assert stream.text == "Fake gpt-4o-mini reply #2: two"
    assert fake.chat_requests()[-1].body["messages"] == [
        {"role": m.role, "content": m.content} for m in messages
    ]


def test_korean_text_round_trips(chat):
    stream = chat.reply("gpt-4o-mini", [ChatMessage("user", "안녕하세요, 반가워요")])
    assert stream.text.endswith("안녕하세요, 반가워요")


# -- validation before sending -------------------------------------------------------------
@pytest.mark.parametrize("role", ["tool", "developer", "function", "", "User"])
def test_unknown_roles_are_refused(role):
    with pytest.raises(ValueError, match="role"):
        ChatMessage(role, "hi")


def test_an_empty_message_list_is_not_sent(chat, fake):
    err = error_of(lambda: chat.stream_reply("gpt-4o-mini", []))
    assert err.kind is ErrorKind.EMPTY_INPUT
    assert fake.chat_requests() == []


def test_no_key_is_no_key(catalog, fake):
    chat = service(Settings(openai_base_url=fake.base_url), catalog)
    assert error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO)).kind is ErrorKind.NO_KEY
    assert error_of(chat.list_models).kind is ErrorKind.NO_KEY
    assert fake.requests == []


# -- every error kind ----------------------------------------------------------------------
def test_invalid_key(catalog, fake):
    chat = service(
        Settings(openai_api_key=Secret(WRONG_KEY), openai_base_url=fake.base_url), catalog
    )
    err = error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert err.kind is ErrorKind.INVALID_KEY
    assert err.status == 401
    assert_no_key_in(err, WRONG_KEY)
    assert "sk-fake" not in err.detail  # the masked key the API echoes is scrubbed too


@pytest.mark.parametrize(
    ("fault", "kind", "retryable"),
    [
        ("insufficient_quota", ErrorKind.NO_CREDIT, False),
        ("permission", ErrorKind.PERMISSION, False),
        ("context_length", ErrorKind.CONTEXT_TOO_LONG, False),
        ("unsupported_parameter", ErrorKind.UNSUPPORTED_PARAMETER, False),
        ("model_not_found", ErrorKind.MODEL_NOT_FOUND, False),
        ("server_error", ErrorKind.SERVER_ERROR, True),
        ("rate_limit", ErrorKind.RATE_LIMIT, True),
    ],
)
def test_fault_before_the_stream_raises_its_kind(chat, fake, fault, kind, retryable):
    fake.set_fault(fault, times=1)
    err = error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert err.kind is kind
    assert err.retryable is retryable
    assert err.detail
    assert_no_key_in(err)
    assert len(fake.chat_requests()) == 1  # max_retries=0: no retry


def test_rate_limit_reads_retry_after_from_the_header(chat, fake):
    fake.set_fault("rate_limit", times=1)
    err = error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert err.retry_after == 1.0
    assert err.code == "rate_limit_exceeded"


def test_unsupported_parameter_names_the_parameter(chat, fake):
    fake.set_fault("unsupported_parameter", times=1)
    err = error_of(lambda: chat.stream_reply("gpt-5.4-mini", HELLO))
    assert err.param == "max_tokens"


def test_a_wrong_reasoning_flag_in_the_data_is_caught_by_the_server(fake, settings):
    # If the data file wrongly said a reasoning model takes temperature, the API's refusal
    # arrives as UNSUPPORTED_PARAMETER naming the parameter.
    cat = Catalog(
        {
            "default_chat_model": "gpt-5.4-mini",
            "default_image_model": "gpt-image-2",
            "models": {"gpt-5.4-mini": {"kind": "chat", "reasoning": False}},
        }
    )
    chat = service(settings, cat)
    err = error_of(lambda: chat.stream_reply("gpt-5.4-mini", HELLO, ChatOptions(temperature=0.5)))
    assert err.kind is ErrorKind.UNSUPPORTED_PARAMETER
    assert err.param == "temperature"
    err = error_of(lambda: chat.stream_reply("gpt-5.4-mini", HELLO, ChatOptions(max_tokens=9)))
    assert err.kind is ErrorKind.UNSUPPORTED_PARAMETER
    assert err.param == "max_tokens"


def test_context_too_long_from_the_server(chat):
    # gpt-3.5-turbo has 16,385 tokens in the fake; about 17,500 are sent.
    long = [ChatMessage("user", "x" * 70_000)]
    err = error_of(lambda: chat.stream_reply("gpt-3.5-turbo", long))
    assert err.kind is ErrorKind.CONTEXT_TOO_LONG
    assert err.code == "context_length_exceeded"


def test_unknown_model_is_model_not_found(chat):
    err = error_of(lambda: chat.stream_reply("gpt-nonexistent-9", HELLO))
    assert err.kind is ErrorKind.MODEL_NOT_FOUND
    assert err.status == 404


def test_timeout(settings, catalog, fake):
    fake.hang_seconds = 2.0
    fake.set_fault("timeout", times=1)
    chat = service(settings, catalog, timeout=0.5)
    err = error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert err.kind is ErrorKind.TIMEOUT
    assert err.retryable
    assert_no_key_in(err)


def test_connection_refused(catalog, closed_port):
    settings = Settings(
        openai_api_key=Secret(FAKE_KEY), openai_base_url=f"http://127.0.0.1:{closed_port}/v1"
    )
    chat = service(settings, catalog)
    err = error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert err.kind is ErrorKind.CONNECTION
    assert err.retryable
    assert_no_key_in(err)
    assert error_of(chat.list_models).kind is ErrorKind.CONNECTION


def test_stream_cut_half_way_keeps_the_partial_text(chat, fake):
    fake.set_fault("cut_stream", times=1)
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    deltas = list(stream)  # iteration does not raise
    full = "Fake gpt-4o-mini reply #1: Hello there, fake model"
    assert deltas
    assert stream.text == "".join(deltas)
    assert full.startswith(stream.text)
    assert len(stream.text) < len(full)
    assert not stream.complete
    assert stream.error is not None
    assert stream.error.kind is ErrorKind.STREAM_INTERRUPTED
    assert stream.error.retryable
    assert stream.usage is None  # the usage chunk never came
    assert stream.cost is None
    assert stream.finish_reason is None
    assert_no_key_in(stream.error)


def test_stream_without_finish_reason_is_not_complete(chat, fake):
    fake.set_fault("no_finish", times=1)
    stream = chat.stream_reply("gpt-4o-mini", HELLO)
    text = "".join(stream)
    assert text == "Fake gpt-4o-mini reply #1: Hello there, fake model"  # all text arrived
    assert not stream.complete  # ... but the model never said it was done
    assert stream.error.kind is ErrorKind.STREAM_INTERRUPTED
    assert stream.finish_reason is None


def test_reply_raises_when_the_stream_is_cut(chat, fake):
    fake.set_fault("cut_stream", times=1)
    assert error_of(lambda: chat.reply("gpt-4o-mini", HELLO)).kind is ErrorKind.STREAM_INTERRUPTED


def test_closing_a_stream_early_is_not_complete_and_close_is_idempotent(chat, fake):
    fake.token_delay = 0.01
    stream = chat.stream_reply("gpt-4o-mini", [ChatMessage("user", "a b c d e f g h i j")])
    it = iter(stream)
    first = next(it)
    stream.close()
    stream.close()
    it.close()
    assert stream.text == first
    assert not stream.complete
    assert stream.usage is None


def test_stream_repr_does_not_show_the_key(chat):
    stream = chat.reply("gpt-4o-mini", HELLO)
    assert FAKE_KEY not in repr(stream)


def test_after_a_fault_clears_the_next_call_succeeds(chat, fake):
    fake.set_fault("server_error", times=1)
    error_of(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert chat.reply("gpt-4o-mini", HELLO).complete


# -- client --------------------------------------------------------------------------------
def test_openai_client_without_a_key_raises_no_key():
    with pytest.raises(ChatCanvasError) as info:
        openai_client(Settings(), timeout=5.0, max_retries=0)
    assert info.value.kind is ErrorKind.NO_KEY


# -- list_models ---------------------------------------------------------------------------
def test_list_models_returns_shutdown_dates(chat):
    models = chat.list_models()
    by_id = {m.id: m for m in models}
    assert set(by_id) == {
        "gpt-5.4-mini",
        "gpt-5.4",
        "gpt-5-mini",
        "gpt-4o-mini",
        "gpt-4.1-mini",
        "gpt-3.5-turbo",
        "text-embedding-3-small",
        "gpt-image-2",
        "gpt-transcribe",
        "gpt-4o-mini-transcribe",
        "whisper-1",
        "gpt-4o-mini-tts",
        "tts-1",
        "omni-moderation-latest",
    }
    assert by_id["gpt-5-mini"] == LiveModel("gpt-5-mini", date(2026, 12, 11))
    assert by_id["gpt-3.5-turbo"].shutdown_date == date(2026, 10, 23)
    assert by_id["gpt-5.4-mini"].shutdown_date is None


def test_list_models_feeds_the_catalog(chat, catalog):
    today = date(2026, 11, 21)
    choices = catalog.choices("chat", today, chat.list_models())
    assert "text-embedding-3-small" not in [c.id for c in choices]
    assert catalog.default("chat", choices, today).id == "gpt-5.4-mini"


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("server_error", ErrorKind.SERVER_ERROR), ("permission", ErrorKind.PERMISSION)],
)
def test_list_models_errors(chat, fake, fault, kind):
    fake.set_fault(fault, endpoint="models", times=1)
    assert error_of(chat.list_models).kind is kind
    assert chat.list_models()  # the fault was for one request only


def test_list_models_with_a_wrong_key(catalog, fake):
    chat = service(
        Settings(openai_api_key=Secret(WRONG_KEY), openai_base_url=fake.base_url), catalog
    )
    err = error_of(chat.list_models)
    assert err.kind is ErrorKind.INVALID_KEY
    assert_no_key_in(err, WRONG_KEY)


# -- helpers used before sending -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("abcd", 1), ("abcde", 2), ("안녕", 2), ("x" * 4000, 1000)],
)
def test_estimate_tokens(text, tokens):
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize("text", ["", " ", "   \n\t  "])
def test_check_user_text_refuses_empty(text):
    with pytest.raises(ChatCanvasError) as info:
        check_user_text(text)
    assert info.value.kind is ErrorKind.EMPTY_INPUT


def test_check_user_text_refuses_oversized():
    with pytest.raises(ChatCanvasError) as info:
        check_user_text("a" * (MAX_MESSAGE_CHARS + 1))
    assert info.value.kind is ErrorKind.INPUT_TOO_LONG
    assert not info.value.retryable


def test_check_user_text_returns_the_text_unchanged():
    assert check_user_text("  hi\n") == "  hi\n"
    assert check_user_text("a" * MAX_MESSAGE_CHARS) == "a" * MAX_MESSAGE_CHARS


def test_context_warning(catalog):
    small = catalog.spec("gpt-3.5-turbo")  # 16,385 tokens
    assert context_warning(small, HELLO) is None
    long = [ChatMessage("system", "s" * 40), ChatMessage("user", "x" * 70_000)]
    assert context_warning(small, long) == 10 + 4 + 17_500 + 4
    assert context_warning(catalog.spec("gpt-4.1"), long) is None
    assert context_warning(catalog.spec("some-local-model"), long) is None  # window unknown


def test_fake_is_the_session_server(fake):
    # The shared fixture resets knobs between tests; this guards the reset itself.
    assert isinstance(fake, FakeOpenAI)
    assert fake.token_delay == 0 and fake.first_token_delay == 0
    assert fake.requests == []
