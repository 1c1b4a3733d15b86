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
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from demo.providers.hostile import (
    HOSTILE,
    send_hostile,
    send_trickled_json,
)
from demo.providers.http_fake import (
    FakeHandler,
    FakeHTTPServer,
    FaultSwitch,
    RawBody,
    send_raw,
    serve_until_interrupted,
)
from demo.providers.openai_audio import (
    AUDIO_ERRORS,
    AUDIO_PATHS,
    MAX_AUDIO_BYTES,
    answer_audio,
    read_form,
)
from demo.providers.openai_chat import ERRORS, answer_chat
from demo.providers.openai_chat import count_tokens as count_tokens  # re-exported
from demo.providers.openai_chat import split_tokens as split_tokens  # re-exported
from demo.providers.openai_image_edits import EDITS, EditCall, answer_edit
from demo.providers.openai_moderation import MODERATION_ERRORS, MODERATIONS, answer_moderation
from demo.providers.openai_vision import MAX_CHAT_BYTES, count_images, message_text

FAKE_KEY = "sk-fake-test-key-0000000000000000"


@dataclass
class FakeModel:
    id: str
    reasoning: bool = False
    shutdown_date: str | None = None
    context_window: int = 128_000
    owned_by: str = "system"
    kind: str = "chat"
    vision: bool = True  # a chat model that reads image parts


DEFAULT_MODELS = [
    FakeModel("gpt-5.4-mini", reasoning=True, context_window=400_000),
    FakeModel("gpt-5.4", reasoning=True, context_window=1_050_000),
    FakeModel("gpt-5-mini", reasoning=True, shutdown_date="2026-12-11", context_window=400_000),
    FakeModel("gpt-4o-mini", shutdown_date="2027-01-14"),
    FakeModel("gpt-4.1-mini", shutdown_date="2027-01-14", context_window=1_047_576),
    FakeModel("gpt-3.5-turbo", shutdown_date="2026-10-23", context_window=16_385, vision=False),
    FakeModel("text-embedding-3-small", kind="embedding"),
    FakeModel("gpt-image-2", kind="image"),
    FakeModel("gpt-transcribe", kind="transcribe"),
    FakeModel("gpt-4o-mini-transcribe", kind="transcribe", shutdown_date="2027-02-26"),
    FakeModel("whisper-1", kind="transcribe", shutdown_date="2027-02-26"),
    FakeModel("gpt-4o-mini-tts", kind="speech", shutdown_date="2027-01-06"),
    FakeModel("tts-1", kind="speech", shutdown_date="2027-01-06"),
    FakeModel("omni-moderation-latest", kind="moderation"),
]

# Faults that are not an error body: behaviours of the connection or the stream (and the
# hostile ones of demo/providers/hostile.py: trickle, oversized, redirect, foreign_error, ...).
BEHAVIOURS = {"timeout", "cut_stream", "no_finish", *HOSTILE, *AUDIO_ERRORS, *MODERATION_ERRORS}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


def default_reply(messages: list[dict], model: str) -> str:
    """A deterministic reply that shows what the model received (and how many images the last
    user message carried: "I saw 2 images.")."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    text = message_text(last) if last else ""
    turn = sum(1 for m in messages if m.get("role") == "user")
    seen = count_images([last]) if last else 0
    saw = f" I saw {seen} image{'s' if seen != 1 else ''}." if seen else ""
    return f"Fake {model} reply #{turn}: {text}{saw}"


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
    transcript: str = "What is the capital of France?"  # what a recording with sound says
    max_audio_bytes: int = MAX_AUDIO_BYTES
    max_chat_bytes: int = MAX_CHAT_BYTES  # a chat request over this gets a 413
    edits: deque[EditCall] = field(default_factory=lambda: deque(maxlen=50))  # image edits
    _faults: FaultSwitch = field(default_factory=FaultSwitch)

    # -- control -------------------------------------------------------------------------
    def set_fault(
        self, name: str | None, *, endpoint: str = "chat", times: int | None = None
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` (chat, models, images, edits,
        transcriptions, speech, moderations) fail with
        ``name`` (a key of ERRORS or BEHAVIOURS); ``None`` clears it."""
        if name is not None and name not in ERRORS and name not in BEHAVIOURS:
            raise ValueError(f"unknown fault {name!r}")
        self._faults.set(name, times, key=endpoint)

    def clear_faults(self) -> None:
        self._faults.clear()

    def take_fault(self, endpoint: str) -> str | None:
        return self._faults.take(endpoint)

    def meet_fault(self, h: Any, endpoint: str) -> str | None:
        """The fault a request to ``endpoint`` on handler ``h`` meets: the one set for it,
        else ``invalid_key`` without the fake's key. A ``timeout`` is played here (the server
        hangs, then drops the connection): the caller just returns."""
        fault = self.take_fault(endpoint)
        if not h._authorized():
            fault = "invalid_key"
        if fault == "timeout":
            time.sleep(self.hang_seconds)
            h.close_connection = True
        return fault

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def model(self, model_id: str) -> FakeModel | None:
        return next((m for m in self.models if m.id == model_id), None)


class _Handler(FakeHandler):
    server_fake: FakeOpenAI

    # -- plumbing ------------------------------------------------------------------------
    def _read_json(self) -> dict | None:
        """The JSON body; a multipart body as its fields, the file kept as ``uploaded_file``
        (recorded as its name and size)."""
        self.uploaded_file: bytes | None = None  # one handler serves a keep-alive connection
        self.raw_body: bytes | None = None
        length = int(self.headers.get("content-length") or 0)
        self.body_size = length
        if not length:
            return None
        raw = self.rfile.read(length)
        self.raw_body = raw  # an image edit's files are read from it again
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            fields, files = read_form(raw, content_type)
            if "file" in files:
                name, self.uploaded_file = files["file"]
                fields["file"] = {"filename": name, "size": len(self.uploaded_file)}
            return fields
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
        fault = fake.meet_fault(self, "models")
        if fault == "timeout":
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
        if path in AUDIO_PATHS:
            answer_audio(self, path, body)
            return
        if path == MODERATIONS:
            answer_moderation(self, body)
            return
        if path == EDITS and fake.image_handler is not None:
            answer_edit(self)
            return
        if path == "/v1/images/generations" and fake.image_handler is not None:
            fault = fake.meet_fault(self, "images")
            if fault == "timeout":
                return
            if fault in ERRORS:
                self._send_error(fault)
                return
            if fault in HOSTILE - {"trickle"}:  # the image handler has its own trickle
                send_hostile(self, fault)
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
        answer_chat(self, body)


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
