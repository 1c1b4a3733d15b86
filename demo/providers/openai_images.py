"""``POST /v1/images/generations`` for the fake OpenAI server, in the real wire format.

Plug it in with ``FakeOpenAI(image_handler=FakeOpenAIImages())`` (or the plain
:func:`image_handler`). FakeOpenAI checks the key and the "images" fault endpoint first, then
calls the handler. GPT Image models answer with ``b64_json`` and ``usage``, and refuse
``response_format`` / ``style`` like the real API; DALL·E models answer with ``url`` (served by
a small file server started on demand) or ``b64_json``, DALL·E 3 with the ``revised_prompt`` it
drew (:mod:`demo.providers.prompt_rewriter`). A prompt with a
trigger word ("forbidden") is refused by the "safety system". Knobs: latency (all requests or
per model), a trickle (the answer, or a downloaded file, one byte at a time), fixed image bytes
(a crafted image such as a decompression bomb) and faults: timeout (hang), malformed_b64,
empty_data, no_usage, echo_key, expired_url, endless_body, endless_download, redirect_url,
foreign_url. ``stream: true`` (GPT Image) answers with events (openai_image_stream.py), paced
over the latency or ``event_delay`` apart, with the faults stream_error and cut_stream.

Run standalone (chat + images):  python -m demo.providers.openai_images --port 8765 --image-latency 1
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from demo.providers.http_fake import (
    FakeHandler,
    FaultSwitch,
    QuietServer,
    RawBody,
    endless,
    send_raw,
    serve_until_interrupted,
    start_server,
    stop_server,
    trickled,
)
from demo.providers.karlo_server import render_image
from demo.providers.openai_image_rules import api_error, dalle_problem, gpt_problem
from demo.providers.openai_image_stream import STREAM_FAULTS, streamed_answer
from demo.providers.openai_server import FAKE_KEY, FakeOpenAI, count_tokens
from demo.providers.prompt_rewriter import revised_prompt, revises

# output image tokens for 1024x1024, per quality (scaled by area)
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320}
# echo_key: a 400 whose message repeats the request's Authorization header (a careless proxy)
# expired_url: DALL·E URLs that answer 404 (they expire after an hour)
# endless_body: a 200 whose JSON never ends; endless_download: DALL·E URLs whose file never
# ends; redirect_url: DALL·E URLs that answer 302 to another file; foreign_url: DALL·E URLs on
# "localhost" (another host name than the base URL's 127.0.0.1)
FAULTS = {
    "timeout",
    "malformed_b64",
    "empty_data",
    "no_usage",
    "echo_key",
    "expired_url",
    "endless_body",
    "endless_download",
    "redirect_url",
    "foreign_url",
    *STREAM_FAULTS,
}


def family(model: str) -> str | None:
    if model.startswith(("gpt-image", "chatgpt-image")):
        return "gpt-image"
    if model.startswith("dall-e"):
        return "dall-e"
    return None


@dataclass
class ImageCall:
    body: dict
    received_at: float
    responded_at: float | None = None
    status: int | None = None


@dataclass
class FakeOpenAIImages:
    """A callable ``image_handler`` with knobs and a record of what it received."""

    latency: float = 0.0
    latency_by_model: dict[str, float] = field(default_factory=dict)
    hang_seconds: float = 30.0
    trigger_words: tuple[str, ...] = ("forbidden",)
    trickle_seconds: float = 0.0  # > 0: the JSON answer is sent one byte at a time
    download_trickle_seconds: float = 0.0  # > 0: DALL·E files are sent one byte at a time
    image_bytes: bytes | None = None  # set: every image is these bytes instead of a render
    event_delay: float | None = None  # set: seconds before each streamed event (else spread)
    final_gate: threading.Event | None = None  # set: a stream's final image waits for it
    calls: list[ImageCall] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    file_faults: dict[str, str] = field(default_factory=dict)  # file name -> fault
    downloads: list[str] = field(default_factory=list)  # paths asked of the file server
    _faults: FaultSwitch = field(default_factory=FaultSwitch)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: QuietServer | None = None

    # -- control -------------------------------------------------------------------------
    def set_fault(self, name: str | None, *, times: int | None = None) -> None:
        """Make the next ``times`` requests (all, when None) behave as ``name`` (one of
        FAULTS); ``None`` clears it. Error bodies are FakeOpenAI.set_fault(..., "images")."""
        if name is not None and name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}")
        self._faults.set(name, times)

    # -- the file server for DALL·E URLs -------------------------------------------------
    def _file_url(self, data: bytes, fault: str | None = None) -> str:
        with self._lock:
            if self._server is None:
                self._server = start_server(_FileHandler, self, "127.0.0.1", 0)
            name = f"img-{uuid.uuid4().hex}.png"
            self.files[name] = data
            if fault in ("endless_download", "redirect_url"):
                self.file_faults[name] = fault
            port = self._server.server_address[1]
        host = "localhost" if fault == "foreign_url" else "127.0.0.1"
        return f"http://{host}:{port}/files/{name}"

    def stop(self) -> None:
        with self._lock:
            stop_server(self._server)
            self._server = None

    def __enter__(self) -> FakeOpenAIImages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the handler ---------------------------------------------------------------------
    def __call__(self, fake: Any, body: dict) -> tuple[int, dict | RawBody]:
        call = ImageCall(dict(body), received_at=time.monotonic())
        with self._lock:
            self.calls.append(call)
        status, payload = self._answer(fake, body)
        call.status, call.responded_at = status, time.monotonic()
        if self.trickle_seconds and isinstance(payload, dict):
            raw = json.dumps(payload).encode()
            return status, RawBody(trickled(raw), self.trickle_seconds, len(raw))
        return status, payload

    def _answer(self, fake: Any, body: dict) -> tuple[int, dict | RawBody]:
        began = time.monotonic()
        fault = self._faults.take()
        if fault == "endless_body":
            return 200, RawBody(endless(b'{"created": 1, "data": [{"b64_json": "'))
        if fault == "timeout":
            time.sleep(self.hang_seconds)
        if fault == "echo_key":
            headers = fake.requests[-1].headers if fake.requests else {}
            auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
            return api_error(400, f"Malformed request sent with {auth}", None, None)
        model = body.get("model")
        prompt = body.get("prompt")
        delay = self.latency_by_model.get(str(model), self.latency)
        if delay and not body.get("stream"):
            time.sleep(delay)  # a stream spreads it over its events
        if not isinstance(prompt, str) or not prompt:
            return api_error(
                400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
            )
        if not isinstance(model, str):
            # the SDK's fallback would be a retired model: the fake insists on an explicit one
            return api_error(
                400, "Missing required parameter: 'model'.", "model", "missing_required_parameter"
            )
        kind = self.family(model)
        if kind is None:
            return api_error(
                404,
                f"The model '{model}' does not exist or you do not have access to it.",
                None,
                "model_not_found",
            )
        problem = self.problem(body, model, kind)
        if problem is not None:
            return problem
        if any(word in prompt.lower() for word in self.trigger_words):
            if kind == "dall-e":
                return api_error(
                    400,
                    "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
                    None,
                    "content_policy_violation",
                )
            return api_error(
                400,
                f"Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_{uuid.uuid4().hex[:24]}.",
                None,
                "moderation_blocked",
                etype="image_generation_user_error",
            )
        if body.get("stream") and kind == "gpt-image":
            return 200, self._streamed(body, fault, delay, began)
        return 200, self.result(body, kind, fault)

    def _streamed(self, body: dict, fault: str | None, delay: float, began: float) -> RawBody:
        payload = self._gpt_result(body, fault)
        broken = fault == "malformed_b64"  # the final image's base64 is broken, no previews
        images = [b"" if broken else base64.b64decode(i["b64_json"]) for i in payload["data"]]
        partials = 0 if broken else body.get("partial_images") or 0
        spacing = self.event_delay if self.event_delay is not None else delay / (partials + 1)
        return streamed_answer(
            payload, images, partials, spacing, fault, self.final_gate, started=began
        )

    # -- what a model takes and answers (a subclass serves other models) -----------------
    def family(self, model: str) -> str | None:
        """The family of ``model``; None: the server does not have it (404)."""
        return family(model)

    def problem(self, body: dict, model: str, kind: str) -> tuple[int, dict] | None:
        """The error answer for a body the model refuses, else None."""
        return gpt_problem(body, model) if kind == "gpt-image" else dalle_problem(body, model)

    def result(self, body: dict, kind: str, fault: str | None) -> dict:
        if kind == "gpt-image":
            return self._gpt_result(body, fault)
        return self._dalle_result(body, fault)

    # -- GPT Image -----------------------------------------------------------------------
    def _gpt_result(self, body: dict, fault: str | None) -> dict:
        n = body.get("n", 1)
        size = body.get("size", "auto")
        size = "1024x1024" if size == "auto" else size
        width, height = (int(v) for v in size.split("x"))
        quality = body.get("quality", "auto")
        quality = "medium" if quality == "auto" else quality
        fmt = body.get("output_format", "png")
        text_tokens = count_tokens(body["prompt"])
        per_image = round(OUTPUT_TOKENS[quality] * width * height / (1024 * 1024))
        data = []
        if fault != "empty_data":
            for i in range(n):
                image = self.image_bytes or render_image(width, height, fmt, seed=i)
                b64 = base64.b64encode(image).decode()
                data.append({"b64_json": "not//base64!!" if fault == "malformed_b64" else b64})
        payload: dict = {
            "created": int(time.time()),
            "data": data,
            "background": "transparent" if body.get("background") == "transparent" else "opaque",
            "output_format": fmt,
            "quality": quality,
            "size": size,
        }
        if fault != "no_usage":
            payload["usage"] = {
                "input_tokens": text_tokens,
                "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 0},
                "output_tokens": per_image * n,
                "output_tokens_details": {"image_tokens": per_image * n, "text_tokens": 0},
                "total_tokens": text_tokens + per_image * n,
            }
        return payload

    # -- DALL·E --------------------------------------------------------------------------
    def _dalle_result(self, body: dict, fault: str | None) -> dict:
        width, height = (int(v) for v in body.get("size", "1024x1024").split("x"))
        data = []
        if fault != "empty_data":
            for i in range(body.get("n", 1)):
                png = self.image_bytes or render_image(width, height, "png", seed=i)
                item: dict = {}
                if revises(body["model"]):  # DALL·E 3 rewrites prompts; DALL·E 2 does not
                    item["revised_prompt"] = revised_prompt(body["prompt"])
                if body.get("response_format") == "b64_json":
                    item["b64_json"] = (
                        "not//base64!!"
                        if fault == "malformed_b64"
                        else base64.b64encode(png).decode()
                    )
                else:
                    item["url"] = self._file_url(png, fault)
                    if fault == "expired_url":
                        self.files.clear()
                data.append(item)
        return {"created": int(time.time()), "data": data}


class _FileHandler(FakeHandler):
    server_fake: FakeOpenAIImages

    def do_GET(self) -> None:
        fake = self.server_fake
        name = self.path.rsplit("/", 1)[-1]
        fake.downloads.append(self.path)
        data = fake.files.get(name)
        fault = fake.file_faults.get(name)
        if fault == "endless_download":
            send_raw(self, 200, RawBody(endless(b"\x89PNG\r\n\x1a\n"), content_type="image/png"))
            return
        if fault == "redirect_url":
            self.send_response(302)
            self.send_header("location", f"/files/{next(iter(fake.files))}")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if data is not None and fake.download_trickle_seconds:
            raw = RawBody(trickled(data), fake.download_trickle_seconds, len(data), "image/png")
            send_raw(self, 200, raw)
            return
        status, ctype = (200, "image/png") if data is not None else (404, "text/plain")
        data = data if data is not None else b"not found"
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


_default = FakeOpenAIImages()


def image_handler(fake: Any, body: dict) -> tuple[int, dict]:
    """A knob-less handler for ``FakeOpenAI(image_handler=image_handler)``."""
    return _default(fake, body)


def main() -> None:
    """The fake OpenAI server (chat, models) with image generation, for e2e runs and demos."""
    parser = argparse.ArgumentParser(description="fake OpenAI API with image generation")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=FAKE_KEY)
    parser.add_argument("--image-latency", type=float, default=1.0)
    parser.add_argument("--first-token-delay", type=float, default=0.3)
    parser.add_argument("--token-delay", type=float, default=0.05)
    args = parser.parse_args()
    with FakeOpenAIImages(latency=args.image_latency) as images:
        fake = FakeOpenAI(
            api_key=args.api_key,
            port=args.port,
            first_token_delay=args.first_token_delay,
            token_delay=args.token_delay,
            image_handler=images,
        )
        serve_until_interrupted(fake, "fake OpenAI API with images")


if __name__ == "__main__":
    main()
