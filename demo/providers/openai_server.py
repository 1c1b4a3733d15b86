"""A fake OpenAI API on 127.0.0.1 for tests, benchmarks and offline demos.

It speaks the real wire format (JSON bodies, SSE chunks ending in ``data: [DONE]``, the
``{"error": {...}}`` body with OpenAI's own messages and codes) so the real openai SDK talks to
it through ``base_url``. Knobs: latency (time to first token, per token), faults (per endpoint,
for N requests or until cleared), and the models it lists (with ``shutdown_date``). It also
validates like the real API: unknown model -> 404, ``max_tokens`` or a non-default
``temperature`` on a reasoning model -> 400.

Run standalone:  python -m demo.providers.openai_server --port 8765 --api-key sk-fake-local
Control while running:  POST /_fake/fault {"name": "insufficient_quota", "endpoint": "chat"}
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from demo.providers.hostile import (
    HOSTILE,
    OVERSIZED_BYTES,
    send_hostile,
    send_trickled_json,
    write_chunk,
)
from demo.providers.http_fake import (
    FakeHandler,
    FakeHTTPServer,
    FaultSwitch,
    RawBody,
    send_raw,
    serve_until_interrupted,
)

FAKE_KEY = "sk-fake-test-key-0000000000000000"


@dataclass
class FakeModel:
    id: str
    reasoning: bool = False
    shutdown_date: str | None = None
    context_window: int = 128_000
    owned_by: str = "system"
    kind: str = "chat"


DEFAULT_MODELS = [
    FakeModel("gpt-5.4-mini", reasoning=True, context_window=400_000),
    FakeModel("gpt-5.4", reasoning=True, context_window=1_050_000),
    FakeModel("gpt-5-mini", reasoning=True, shutdown_date="2026-12-11", context_window=400_000),
    FakeModel("gpt-4o-mini", shutdown_date="2027-01-14"),
    FakeModel("gpt-4.1-mini", shutdown_date="2027-01-14", context_window=1_047_576),
    FakeModel("gpt-3.5-turbo", shutdown_date="2026-10-23", context_window=16_385),
    FakeModel("text-embedding-3-small", kind="embedding"),
    FakeModel("gpt-image-2", kind="image"),
]

# Error bodies as the real API sends them (type, code, param, wording).
ERRORS: dict[str, tuple[int, dict, dict[str, str]]] = {
    "invalid_key": (
        401,
        {
            "message": "Incorrect API key provided: sk-fake***0000. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        },
        {},
    ),
    "permission": (
        403,
        {
            "message": "You are not allowed to sample from this model",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        {},
    ),
    "insufficient_quota": (
        429,
        {
            "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        },
        {},
    ),
    "rate_limit": (
        429,
        {
            "message": "Rate limit reached for gpt-5.4-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        },
        {"retry-after": "1", "x-ratelimit-reset-requests": "1s"},
    ),
    "context_length": (
        400,
        {
            "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        },
        {},
    ),
    "unsupported_parameter": (
        400,
        {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        },
        {},
    ),
    "model_not_found": (
        404,
        {
            "message": "The model `gpt-4` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        },
        {},
    ),
    "server_error": (
        500,
        {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        },
        {},
    ),
}
# Faults that are not an error body: behaviours of the connection or the stream (and the
# hostile ones of demo/providers/hostile.py: trickle, oversized, redirect, foreign_error, ...).
BEHAVIOURS = {"timeout", "cut_stream", "no_finish", *HOSTILE}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


def default_reply(messages: list[dict], model: str) -> str:
    """A deterministic reply that shows what the model received."""
    last_user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    if isinstance(last_user, list):  # content parts
        last_user = " ".join(p.get("text", "") for p in last_user if isinstance(p, dict))
    return f"Fake {model} reply #{sum(1 for m in messages if m.get('role') == 'user')}: {last_user}"


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces that concatenate back to exactly ``text``."""
    return re.findall(r"\s*\S+|\s+", text) or [""]


def count_tokens(text: str) -> int:
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


@dataclass
class FakeOpenAI(FakeHTTPServer):
    """Start with ``with FakeOpenAI() as fake:``; point the SDK at ``fake.base_url``."""

    url_suffix = "/v1"

    api_key: str = FAKE_KEY
    models: list[FakeModel] = field(default_factory=lambda: list(DEFAULT_MODELS))
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    hang_seconds: float = 30.0
    # the "trickle" fault: after ``trickle_after`` reply pieces, one byte every ``trickle_delay``
    trickle_delay: float = 0.2
    trickle_after: int = 2
    reply: Callable[[list[dict], str], str] = default_reply
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    image_handler: Callable[[FakeOpenAI, dict], tuple[int, dict | RawBody]] | None = None
    _faults: FaultSwitch = field(default_factory=FaultSwitch)

    # -- control -------------------------------------------------------------------------
    def set_fault(
        self, name: str | None, *, endpoint: str = "chat", times: int | None = None
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` (chat, models, images) fail with
        ``name`` (a key of ERRORS or BEHAVIOURS); ``None`` clears it."""
        if name is not None and name not in ERRORS and name not in BEHAVIOURS:
            raise ValueError(f"unknown fault {name!r}")
        self._faults.set(name, times, key=endpoint)

    def clear_faults(self) -> None:
        self._faults.clear()

    def take_fault(self, endpoint: str) -> str | None:
        return self._faults.take(endpoint)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def model(self, model_id: str) -> FakeModel | None:
        return next((m for m in self.models if m.id == model_id), None)


class _Handler(FakeHandler):
    server_fake: FakeOpenAI

    # -- plumbing ------------------------------------------------------------------------
    def _read_json(self) -> dict | None:
        length = int(self.headers.get("content-length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, fault: str) -> None:
        status, error, headers = ERRORS[fault]
        self._send_json(status, {"error": dict(error)}, headers)

    def _authorized(self) -> bool:
        expected = f"Bearer {self.server_fake.api_key}"
        return self.headers.get("authorization") == expected

    # -- routes --------------------------------------------------------------------------
    def do_GET(self) -> None:
        fake = self.server_fake
        fake.requests.append(RecordedRequest("GET", self.path, dict(self.headers), None))
        if self.path.rstrip("/") != "/v1/models":
            self._send_json(
                404,
                {
                    "error": {
                        "message": f"Invalid URL (GET {self.path})",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
            return
        fault = fake.take_fault("models")
        if not self._authorized():
            fault = "invalid_key"
        if fault == "timeout":
            time.sleep(fake.hang_seconds)
            return
        if fault in ERRORS:
            self._send_error(fault)
            return
        data = [
            {
                "id": m.id,
                "object": "model",
                "created": 1_700_000_000,
                "owned_by": m.owned_by,
                "shutdown_date": m.shutdown_date,
            }
            for m in fake.models
        ]
        if fault == "trickle":
            send_trickled_json(self, {"object": "list", "data": data}, fake.trickle_delay)
        elif fault in HOSTILE:
            send_hostile(self, fault, {"object": "list", "data": data})
        else:
            self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        fake = self.server_fake
        body = self._read_json()
        fake.requests.append(RecordedRequest("POST", self.path, dict(self.headers), body))
        path = self.path.rstrip("/")
        if path == "/_fake/fault":
            fake.set_fault(
                (body or {}).get("name"),
                endpoint=(body or {}).get("endpoint", "chat"),
                times=(body or {}).get("times"),
            )
            self._send_json(200, {"ok": True})
            return
        if path == "/v1/chat/completions":
            self._chat(body or {})
            return
        if path == "/v1/images/generations" and fake.image_handler is not None:
            if not self._authorized():
                self._send_error("invalid_key")
                return
            fault = fake.take_fault("images")
            if fault in ERRORS:
                self._send_error(fault)
                return
            status, payload = fake.image_handler(fake, body or {})
            if isinstance(payload, RawBody):  # a trickle or an endless body
                send_raw(self, status, payload)
            else:
                self._send_json(status, payload)
            return
        self._send_json(
            404,
            {
                "error": {
                    "message": f"Invalid URL (POST {self.path})",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            },
        )

    def _invalid(
        self, message: str, param: str | None, code: str | None, status: int = 400
    ) -> None:
        self._send_json(
            status,
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": param,
                    "code": code,
                }
            },
        )

    def _chat(self, body: dict) -> None:
        fake = self.server_fake
        fault = fake.take_fault("chat")
        if not self._authorized():
            fault = "invalid_key"
        if fault == "timeout":
            time.sleep(fake.hang_seconds)
            self.close_connection = True
            return
        if fault in ERRORS:
            self._send_error(fault)
            return
        if fault in HOSTILE - {"trickle", "oversized"}:  # those two happen mid-stream
            send_hostile(self, fault)
            return
        model_id = body.get("model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._invalid("[] is too short - 'messages'", "messages", None)
            return
        for m in messages:
            if m.get("role") not in ("system", "user", "assistant", "developer", "tool"):
                self._invalid(
                    f"Invalid value: '{m.get('role')}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.",
                    "messages[0].role",
                    "invalid_value",
                )
                return
        model = fake.model(model_id) if isinstance(model_id, str) else None
        if model is None or model.kind != "chat":
            self._invalid(
                f"The model `{model_id}` does not exist or you do not have access to it.",
                None,
                "model_not_found",
                status=404,
            )
            return
        if model.reasoning and "max_tokens" in body:
            self._invalid(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
            return
        if model.reasoning and body.get("temperature") not in (None, 1, 1.0):
            self._invalid(
                f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. Only the default (1) value is supported.",
                "temperature",
                "unsupported_value",
            )
            return
        prompt_tokens = sum(count_tokens(str(m.get("content", ""))) + 4 for m in messages)
        if prompt_tokens > model.context_window:
            self._invalid(
                f"This model's maximum context length is {model.context_window} tokens. However, your messages resulted in {prompt_tokens} tokens. Please reduce the length of the messages.",
                "messages",
                "context_length_exceeded",
            )
            return
        text = fake.reply(messages, model.id)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        pieces = split_tokens(text)
        finish_reason = "stop"
        if limit and len(pieces) > limit:
            pieces, finish_reason = pieces[:limit], "length"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:29]}"
        created = int(time.time())
        if not body.get("stream"):
            time.sleep(fake.first_token_delay)
            self._send_json(
                200,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model.id,
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "".join(pieces),
                                "refusal": None,
                                "annotations": [],
                            },
                            "logprobs": None,
                            "finish_reason": finish_reason,
                        }
                    ],
                    "usage": usage,
                    "service_tier": "default",
                    "system_fingerprint": "fp_fake",
                },
            )
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self._stream(
            completion_id,
            created,
            model.id,
            pieces,
            finish_reason,
            usage if include_usage else None,
            fault,
        )

    def _stream(
        self,
        cid: str,
        created: int,
        model: str,
        pieces: list[str],
        finish_reason: str,
        usage: dict | None,
        fault: str | None,
    ) -> None:
        fake = self.server_fake
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
        self.end_headers()

        def chunk(choices: list[dict], with_usage: dict | None = None) -> dict:
            data = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if usage is not None:
                data["usage"] = with_usage
            return data

        trickle = 0.0  # seconds between bytes once the "trickle" fault starts

        def send(event: dict | str) -> None:
            payload = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
            write_chunk(self, f"data: {payload}\n\n".encode(), trickle)

        try:
            time.sleep(fake.first_token_delay)
            send(
                chunk(
                    [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": "", "refusal": None},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    ]
                )
            )
            cut_at = max(1, len(pieces) // 2) if fault == "cut_stream" else None
            for i, piece in enumerate(pieces):
                if cut_at is not None and i == cut_at:
                    # Drop the connection mid-body, as a proxy or a crashed worker would.
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if i and fake.token_delay:
                    time.sleep(fake.token_delay)
                if fault == "trickle" and i >= fake.trickle_after:
                    trickle = fake.trickle_delay
                if fault == "oversized" and i == 1:
                    piece = "x" * OVERSIZED_BYTES  # one event line larger than any real one
                send(
                    chunk(
                        [
                            {
                                "index": 0,
                                "delta": {"content": piece},
                                "logprobs": None,
                                "finish_reason": None,
                            }
                        ]
                    )
                )
            if fault != "no_finish":
                send(
                    chunk(
                        [
                            {
                                "index": 0,
                                "delta": {},
                                "logprobs": None,
                                "finish_reason": finish_reason,
                            }
                        ]
                    )
                )
                if usage is not None:
                    send(chunk([], usage))
            send("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up (Stop pressed): that is fine


FakeOpenAI.handler = _Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=FAKE_KEY)
    parser.add_argument("--first-token-delay", type=float, default=0.3)
    parser.add_argument("--token-delay", type=float, default=0.05)
    args = parser.parse_args()
    fake = FakeOpenAI(
        api_key=args.api_key,
        port=args.port,
        first_token_delay=args.first_token_delay,
        token_delay=args.token_delay,
    )
    serve_until_interrupted(fake, "fake OpenAI API")


if __name__ == "__main__":
    main()
