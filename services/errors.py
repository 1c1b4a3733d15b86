"""One typed error for everything a provider or the user can get wrong.

Each error has a ``kind``; the UI turns ``error.<kind>`` into a sentence in the user's language
(see locales/*/errors.json). ``detail`` is the provider's own message, scrubbed of secrets, shown
under the sentence for people who want to know more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from urllib.parse import unquote

import httpx2
import openai


class ErrorKind(StrEnum):
    INVALID_KEY = "invalid_key"
    NO_KEY = "no_key"
    PERMISSION = "permission"
    NO_CREDIT = "no_credit"
    RATE_LIMIT = "rate_limit"
    CONTEXT_TOO_LONG = "context_too_long"
    UNSUPPORTED_PARAMETER = "unsupported_parameter"
    MODEL_NOT_FOUND = "model_not_found"
    WRONG_ENDPOINT = "wrong_endpoint"
    CONTENT_REFUSED = "content_refused"
    BAD_REQUEST = "bad_request"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    STREAM_INTERRUPTED = "stream_interrupted"
    EMPTY_INPUT = "empty_input"
    INPUT_TOO_LONG = "input_too_long"
    NOT_ENGLISH = "not_english"  # our check: an English-only engine got another language
    PROMPT_TOO_LONG = "prompt_too_long"  # our check: longer than the engine takes
    SERVICE_TERMINATED = "service_terminated"
    CANCELLED = "cancelled"  # the user stopped a lane before it finished (the local engine)
    QUOTA_EXCEEDED = "quota_exceeded"
    MAINTENANCE = "maintenance"
    BAD_RESPONSE = "bad_response"
    ADDRESS_REFUSED = "address_refused"
    RESPONSE_TOO_LARGE = "response_too_large"
    IMAGE_REFUSED = "image_refused"
    BUDGET_EXCEEDED = "budget_exceeded"
    RUN_LIMIT = "run_limit"
    BAD_IMPORT = "bad_import"
    BAD_CONFIG = "bad_config"  # the deployer's configuration cannot be used (IMAGE_SERVERS)
    INVALID_TEMPLATE = "invalid_template"
    DATABASE = "database"
    BLOB_STORE = "blob_store"  # the image folder or S3-compatible storage failed
    EMPTY_TRANSCRIPT = "empty_transcript"  # our check: the recording held no words
    AUDIO_UNREADABLE = "audio_unreadable"  # the provider could not read the recording
    AUDIO_TOO_LARGE = "audio_too_large"  # over the provider's size limit (413, or ours)
    NO_AUDIO_MODEL = "no_audio_model"  # our check: the catalog has no usable model for it
    NO_VISION = "no_vision"  # our check: the chosen model does not read images
    ATTACHMENT_REFUSED = "attachment_refused"  # our check: an attached file is not accepted
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | None) -> ErrorKind:
        """A stored kind (from the database or an imported file); UNKNOWN for anything else."""
        try:
            return cls(value or "unknown")
        except ValueError:
            return cls.UNKNOWN


# Retrying the same request can help for these; for the rest the user must change something.
RETRYABLE = frozenset(
    {
        ErrorKind.RATE_LIMIT,
        ErrorKind.SERVER_ERROR,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.STREAM_INTERRUPTED,
        ErrorKind.MAINTENANCE,
    }
)


# Our own checks before anything is sent: their sentence is the whole story, never a
# provider's answer (no "Details from the provider" box under them).
OWN_CHECKS = frozenset(
    {
        ErrorKind.EMPTY_INPUT,
        ErrorKind.NOT_ENGLISH,
        ErrorKind.PROMPT_TOO_LONG,
        ErrorKind.EMPTY_TRANSCRIPT,
        ErrorKind.NO_AUDIO_MODEL,
        ErrorKind.NO_VISION,
        ErrorKind.ATTACHMENT_REFUSED,
    }
)


class ChatCanvasError(Exception):
    """A failure the user can act on. ``str()`` never contains a secret."""

    def __init__(
        self,
        kind: ErrorKind,
        detail: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        provider: str = "openai",
    ) -> None:
        self.kind = kind
        self.detail = detail
        self.status = status
        self.code = code
        self.param = param
        self.retry_after = retry_after
        self.provider = provider
        super().__init__(f"{kind}: {detail}" if detail else str(kind))

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    @property
    def own_check(self) -> bool:
        """ChatCanvas refused this before sending: no provider had a say."""
        return self.kind in OWN_CHECKS


_KEY_PATTERNS = [
    re.compile(
        r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-*.]{8,}"
    ),  # OpenAI keys, also when partly starred out
    re.compile(r"KakaoAK\s+\S+"),
    re.compile(r"Bearer\s+\S+"),
]


# No real key is shorter; replacing a shorter string would garble ordinary words ("v" in
# "service") while protecting nothing. Settings refuse a typed key shorter than this.
MIN_SECRET_CHARS = 8
# "sk-", "sk-proj-", "sk-svcacct-": a provider may echo a key without its prefix
_KEY_PREFIX = re.compile(r"^(?:[A-Za-z]{1,10}-){1,3}")
# scheme://user:password@host, as in a database URL
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)([^\s@/]+)(@)")


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` replaced by ***."""
    return _URL_PASSWORD.sub(r"\1***\3", text)


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs in ``text``, as written and percent-decoded."""
    found = [m.group(2) for m in _URL_PASSWORD.finditer(text)]
    return list(dict.fromkeys(found + [unquote(p) for p in found]))


def _variants(secret: str) -> list[str]:
    """The secret and its body after each prefix segment, longest first."""
    found = [secret]
    prefix = _KEY_PREFIX.match(secret)
    if prefix:
        cuts = [i + 1 for i, c in enumerate(prefix.group(0)) if c == "-"]
        found += [secret[cut:] for cut in cuts]
    return [v for v in found if len(v) >= MIN_SECRET_CHARS]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove every known secret (also without its prefix), anything shaped like an API key
    and the password of any URL from ``text``."""
    variants = {v for secret in secrets if secret for v in _variants(secret)}
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, "[redacted]")
    for pattern in _KEY_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return mask_url_passwords(text)


# Provider words shown in the Details box are cut here: enough to act on, not a page of text.
MAX_DETAIL_CHARS = 300


def _error_body(exc: openai.APIStatusError) -> dict:
    """The ``error`` object of a well-formed OpenAI error body, else nothing: a base URL can
    point at any service, and another service's answer (an internal API's JSON, an HTML page)
    is not shown to the visitor. (The SDK's ``exc.body`` has the wrapper removed already, so
    the answer itself is read.)"""
    try:
        body = exc.response.json()
    except (ValueError, httpx2.StreamError):  # not JSON, or not read
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return {}


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "…"


def _provider_message(err: dict, secrets: list[str]) -> str:
    message = err.get("message")
    return _clip(scrub(message, secrets)) if isinstance(message, str) else ""


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_REFUSAL_CODES = {"moderation_blocked", "content_policy_violation", "content_filter"}


def from_openai(exc: Exception, secrets: Iterable[str] = ()) -> ChatCanvasError:
    """Map an exception raised by the openai SDK (or its transport) to a ChatCanvasError."""
    secrets = list(secrets)
    if isinstance(exc, ChatCanvasError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ChatCanvasError(ErrorKind.TIMEOUT, scrub(str(exc), secrets))
    if isinstance(exc, openai.APIConnectionError):
        return ChatCanvasError(ErrorKind.CONNECTION, scrub(str(exc), secrets))
    if isinstance(exc, openai.APIStatusError):
        err = _error_body(exc)
        code = err.get("code") if isinstance(err.get("code"), str) else None
        etype = err.get("type") if isinstance(err.get("type"), str) else None
        param = err.get("param") if isinstance(err.get("param"), str) else None
        message = _provider_message(err, secrets)
        status = exc.status_code
        kw = {"status": status, "code": code, "param": param}
        if status == 401:
            kind = ErrorKind.INVALID_KEY
        elif status == 403:
            kind = ErrorKind.PERMISSION
        elif status == 429 and "insufficient_quota" in (code, etype):
            kind = ErrorKind.NO_CREDIT
        elif status == 429:
            return ChatCanvasError(
                ErrorKind.RATE_LIMIT, message, retry_after=_retry_after(exc), **kw
            )
        elif code == "model_not_found" or (status == 404 and "model" in message.lower()):
            kind = ErrorKind.MODEL_NOT_FOUND
        elif status == 404:  # no such API path: usually a base URL without /v1
            kind = ErrorKind.WRONG_ENDPOINT
        elif code == "context_length_exceeded":
            kind = ErrorKind.CONTEXT_TOO_LONG
        elif code in ("unsupported_parameter", "unsupported_value"):
            kind = ErrorKind.UNSUPPORTED_PARAMETER
        elif code in _REFUSAL_CODES or etype in _REFUSAL_CODES:
            kind = ErrorKind.CONTENT_REFUSED
        elif status >= 500:
            kind = ErrorKind.SERVER_ERROR
        else:
            kind = ErrorKind.BAD_REQUEST
        return ChatCanvasError(kind, message, **kw)
    if isinstance(exc, openai.APIResponseValidationError):
        return ChatCanvasError(ErrorKind.BAD_RESPONSE, scrub(str(exc), secrets))
    if isinstance(exc, openai.OpenAIError):  # e.g. an error event inside a stream
        return ChatCanvasError(ErrorKind.UNKNOWN, _clip(scrub(str(exc), secrets)))
    return ChatCanvasError(ErrorKind.UNKNOWN, scrub(f"{type(exc).__name__}: {exc}", secrets))
