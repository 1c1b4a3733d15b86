"""errors: scrubbing secrets, and mapping what the openai SDK raises to an ErrorKind.

The SDK exceptions are produced by the real SDK against the fake server wherever the fake can
produce them; the few it cannot (a safety refusal, an unreadable body) are built with the
SDK's own exception classes.
"""

from __future__ import annotations

import httpx2
import openai
import pytest

from services.errors import RETRYABLE, ChatCanvasError, ErrorKind, from_openai, scrub
from tests.fakes.openai_server import ERRORS, FAKE_KEY, FakeOpenAI

OTHER_KEY = "sk-proj-OTHERkey1234567890abcdefghij"


def sdk_client(fake: FakeOpenAI, *, key: str = FAKE_KEY, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=fake.base_url, timeout=timeout, max_retries=0)


def raised_by(call) -> Exception:
    with pytest.raises(openai.OpenAIError) as info:
        call()
    return info.value


def chat_call(client: openai.OpenAI, **kw):
    params = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    params.update(kw)
    return lambda: client.chat.completions.create(**params)


SDK_STATUS_ERRORS = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    429: openai.RateLimitError,
}


def status_error(
    status: int, body: object, headers: dict | None = None, *, unwrap: bool = True
) -> openai.APIStatusError:
    """An SDK status error shaped as the SDK shapes it: ``body`` is the inner error object."""
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(status, headers=headers or {}, json=body, request=request)
    inner = body.get("error", body) if unwrap and isinstance(body, dict) else body
    message = inner.get("message", "error") if isinstance(inner, dict) else str(body)
    default = openai.InternalServerError if status >= 500 else openai.APIStatusError
    return SDK_STATUS_ERRORS.get(status, default)(message, response=response, body=inner)


# -- scrub ---------------------------------------------------------------------------------
def test_scrub_removes_known_secrets_even_when_not_key_shaped():
    text = "auth failed for token my-ollama-token-42 on host"
    assert scrub(text, ["my-ollama-token-42"]) == "auth failed for token [redacted] on host"


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Incorrect API key provided: sk-proj-abcdEFGH1234_xyz-99.", "abcdEFGH1234"),
        ("Incorrect API key provided: sk-fake***0000. You can find", "fake***0000"),
        ("header Authorization: KakaoAK 0123456789abcdef was refused", "0123456789abcdef"),
        ("sent Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.abc now", "eyJhbGciOi"),
        ("two keys sk-AAAAAAAAAAAA and sk-BBBBBBBBBBBB", "AAAAAAAA"),
    ],
)
def test_scrub_removes_key_shaped_strings(text, leak):
    cleaned = scrub(text)
    assert leak not in cleaned
    assert "[redacted]" in cleaned


def test_scrub_leaves_ordinary_text_and_skips_empty_secrets():
    text = "The server had an error while processing your request. Sorry!"
    assert scrub(text, ["", ""]) == text
    assert scrub("sk-short", []) == "sk-short"  # too short to be a key


def test_scrub_does_not_mangle_words_that_contain_sk_dash():
    text = "The task-management and risk-assessment endpoints are unavailable"
    assert scrub(text) == text


def test_chatcanvas_error_str_has_kind_and_detail():
    err = ChatCanvasError(ErrorKind.RATE_LIMIT, "slow down", retry_after=2.0)
    assert str(err) == "rate_limit: slow down"
    assert str(ChatCanvasError(ErrorKind.EMPTY_INPUT)) == "empty_input"
    assert err.retryable
    assert not ChatCanvasError(ErrorKind.NO_CREDIT).retryable
    assert ErrorKind.NO_CREDIT not in RETRYABLE


# -- from_openai: every fault the fake serves, through the real SDK --------------------------
EXPECTED = {
    "invalid_key": (openai.AuthenticationError, ErrorKind.INVALID_KEY, 401, "invalid_api_key"),
    "permission": (openai.PermissionDeniedError, ErrorKind.PERMISSION, 403, None),
    "insufficient_quota": (openai.RateLimitError, ErrorKind.NO_CREDIT, 429, "insufficient_quota"),
    "rate_limit": (openai.RateLimitError, ErrorKind.RATE_LIMIT, 429, "rate_limit_exceeded"),
    "context_length": (
        openai.BadRequestError,
        ErrorKind.CONTEXT_TOO_LONG,
        400,
        "context_length_exceeded",
    ),
    "unsupported_parameter": (
        openai.BadRequestError,
        ErrorKind.UNSUPPORTED_PARAMETER,
        400,
        "unsupported_parameter",
    ),
    "model_not_found": (openai.NotFoundError, ErrorKind.MODEL_NOT_FOUND, 404, "model_not_found"),
    "server_error": (openai.InternalServerError, ErrorKind.SERVER_ERROR, 500, None),
}


def test_every_fake_error_has_an_expected_mapping():
    assert set(EXPECTED) == set(ERRORS)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
@pytest.mark.parametrize("endpoint", ["chat", "models"])
def test_fake_faults_map_to_their_kind(fake, fault, endpoint):
    sdk_type, kind, status, code = EXPECTED[fault]
    client = sdk_client(fake)
    fake.set_fault(fault, endpoint=endpoint, times=1)
    call = chat_call(client) if endpoint == "chat" else client.models.list
    exc = raised_by(call)
    assert type(exc) is sdk_type

    err = from_openai(exc, [FAKE_KEY])
    assert err.kind is kind
    assert err.status == status
    assert err.code == code
    assert err.detail  # the provider's own words are kept for "details"
    for text in (str(err), err.detail, repr(err)):
        assert FAKE_KEY not in text
        assert "sk-fake" not in text  # the masked key the API echoes is scrubbed too


def test_rate_limit_parses_retry_after(fake):
    fake.set_fault("rate_limit", times=1)
    err = from_openai(raised_by(chat_call(sdk_client(fake))))
    assert err.kind is ErrorKind.RATE_LIMIT
    assert err.retry_after == 1.0
    assert err.retryable


def test_no_credit_is_not_retryable_and_has_no_retry_after(fake):
    fake.set_fault("insufficient_quota", times=1)
    err = from_openai(raised_by(chat_call(sdk_client(fake))))
    assert err.kind is ErrorKind.NO_CREDIT
    assert err.retry_after is None
    assert not err.retryable


def test_param_is_kept(fake):
    fake.set_fault("context_length", times=1)
    err = from_openai(raised_by(chat_call(sdk_client(fake))))
    assert err.param == "messages"


def test_wrong_key_is_invalid_key_and_never_echoed(fake):
    err = from_openai(raised_by(chat_call(sdk_client(fake, key=OTHER_KEY))), [OTHER_KEY])
    assert err.kind is ErrorKind.INVALID_KEY
    assert OTHER_KEY not in str(err)


def test_unknown_model_is_model_not_found(fake):
    err = from_openai(raised_by(chat_call(sdk_client(fake), model="gpt-nonexistent")))
    assert err.kind is ErrorKind.MODEL_NOT_FOUND
    assert err.status == 404


def test_unsupported_value_from_real_validation(fake):
    call = chat_call(sdk_client(fake), model="gpt-5.4-mini", temperature=0.2)
    err = from_openai(raised_by(call))
    assert err.kind is ErrorKind.UNSUPPORTED_PARAMETER
    assert err.code == "unsupported_value"
    assert err.param == "temperature"


def test_max_tokens_on_a_reasoning_model_is_unsupported_parameter(fake):
    call = chat_call(sdk_client(fake), model="gpt-5.4-mini", max_tokens=10)
    err = from_openai(raised_by(call))
    assert err.kind is ErrorKind.UNSUPPORTED_PARAMETER
    assert err.param == "max_tokens"


def test_other_400s_are_bad_request(fake):
    call = chat_call(sdk_client(fake), messages=[{"role": "robot", "content": "hi"}])
    err = from_openai(raised_by(call))
    assert err.kind is ErrorKind.BAD_REQUEST
    assert err.status == 400


def test_timeout(fake):
    fake.hang_seconds = 2.0
    fake.set_fault("timeout", times=1)
    exc = raised_by(chat_call(sdk_client(fake, timeout=0.3)))
    assert isinstance(exc, openai.APITimeoutError)
    err = from_openai(exc)
    assert err.kind is ErrorKind.TIMEOUT
    assert err.retryable


def test_connection_refused(closed_port):
    client = openai.OpenAI(
        api_key=FAKE_KEY, base_url=f"http://127.0.0.1:{closed_port}/v1", max_retries=0
    )
    exc = raised_by(chat_call(client))
    assert isinstance(exc, openai.APIConnectionError)
    err = from_openai(exc, [FAKE_KEY])
    assert err.kind is ErrorKind.CONNECTION
    assert err.retryable
    assert FAKE_KEY not in str(err)


# -- from_openai: cases the fake does not serve ---------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {
            "error": {
                "message": "blocked",
                "type": "image_generation_user_error",
                "code": "moderation_blocked",
            }
        },
        {
            "error": {
                "message": "refused",
                "type": "invalid_request_error",
                "code": "content_policy_violation",
            }
        },
        {"error": {"message": "filtered", "type": "content_filter", "code": None}},
    ],
)
def test_safety_refusals_are_content_refused(body):
    err = from_openai(status_error(400, body))
    assert err.kind is ErrorKind.CONTENT_REFUSED


def test_insufficient_quota_recognised_by_type_alone():
    body = {"error": {"message": "quota", "type": "insufficient_quota", "code": None}}
    assert from_openai(status_error(429, body)).kind is ErrorKind.NO_CREDIT


def test_a_wrapped_error_body_is_read_too():
    body = {"error": {"message": "over", "type": "x", "code": "context_length_exceeded"}}
    assert from_openai(status_error(400, body, unwrap=False)).kind is ErrorKind.CONTEXT_TOO_LONG


def test_model_not_found_code_on_a_400():
    body = {"error": {"message": "no such model", "type": "x", "code": "model_not_found"}}
    assert from_openai(status_error(400, body)).kind is ErrorKind.MODEL_NOT_FOUND


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_without_a_body_is_server_error(status):
    err = from_openai(status_error(status, "upstream connect error"))
    assert err.kind is ErrorKind.SERVER_ERROR
    assert err.status == status
    assert err.code is None


def test_a_non_numeric_retry_after_is_ignored():
    body = {"error": {"message": "slow", "type": "requests", "code": "rate_limit_exceeded"}}
    exc = status_error(429, body, {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"})
    err = from_openai(exc)
    assert err.kind is ErrorKind.RATE_LIMIT
    assert err.retry_after is None


def test_key_in_the_provider_message_is_scrubbed():
    body = {"error": {"message": f"Bad key {OTHER_KEY}; also Bearer {OTHER_KEY}", "code": None}}
    err = from_openai(status_error(401, body), [OTHER_KEY])
    assert err.kind is ErrorKind.INVALID_KEY
    assert OTHER_KEY not in str(err)
    assert OTHER_KEY not in err.detail


def test_a_custom_secret_in_the_message_is_scrubbed():
    token = "plain-token-without-prefix"
    err = from_openai(
        status_error(403, {"error": {"message": f"token {token} lacks scope"}}), [token]
    )
    assert token not in str(err)


def test_response_validation_error_is_bad_response():
    request = httpx2.Request("GET", "http://127.0.0.1/v1/models")
    exc = openai.APIResponseValidationError(
        httpx2.Response(200, request=request), body="<html>", message="not JSON"
    )
    assert from_openai(exc).kind is ErrorKind.BAD_RESPONSE


def test_other_sdk_errors_are_unknown():
    err = from_openai(openai.OpenAIError(f"client broke with {OTHER_KEY}"), [OTHER_KEY])
    assert err.kind is ErrorKind.UNKNOWN
    assert OTHER_KEY not in str(err)


def test_foreign_exceptions_are_unknown_with_their_type_and_scrubbed():
    err = from_openai(RuntimeError(f"boom sk-{'x' * 20}"))
    assert err.kind is ErrorKind.UNKNOWN
    assert err.detail.startswith("RuntimeError: boom")
    assert "xxxxxxxx" not in err.detail


def test_a_chatcanvas_error_passes_through_unchanged():
    original = ChatCanvasError(ErrorKind.EMPTY_INPUT)
    assert from_openai(original) is original
