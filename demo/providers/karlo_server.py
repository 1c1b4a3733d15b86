"""A fake Kakao Karlo API on 127.0.0.1 for tests, benchmarks and offline demos.

It serves ``POST /v2/inference/karlo/t2i`` with Kakao's wire format: the flat JSON body, the
``{"id", "model_version", "images": [...]}`` answer with real PNG/WebP/JPEG bytes made by
Pillow (base64, or a URL this server also serves), and Kakao's ``{"code", "msg"}`` errors.
It validates the ``KakaoAK`` header and the parameters like the real API. Knobs: latency, and
faults for the next N requests or until cleared, a trickle (the answer one byte at a time),
and fixed image bytes (a crafted image such as a decompression bomb).

Run standalone:  python -m demo.providers.karlo_server --port 8766 --api-key fake-kakao-key
Then set KARLO_BASE_URL=http://127.0.0.1:8766 and KAKAO_REST_API_KEY=fake-kakao-key.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from demo.providers.http_fake import (
    FakeHandler,
    FakeHTTPServer,
    FaultSwitch,
    RawBody,
    endless,
    send_raw,
    serve_until_interrupted,
    trickled,
)

FAKE_KAKAO_KEY = "fake-kakao-rest-api-key-0000"
T2I_PATH = "/v2/inference/karlo/t2i"
MAX_SIDE = {"v2.0": 640, "v2.1": 1280}
FORMATS = {
    "webp": ("WEBP", "image/webp"),
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
}

# fault name -> (HTTP status, Kakao body). Statuses are what Kakao's gateway sends for them.
KAKAO_ERRORS: dict[str, tuple[int, dict]] = {
    "invalid_key": (401, {"code": -401, "msg": "invalid appkey"}),
    "invalid_parameter": (400, {"code": -2, "msg": "invalid parameter"}),
    "maintenance": (503, {"code": -7, "msg": "service is under maintenance"}),
    "service_terminated": (400, {"code": -9, "msg": "service is terminated or not offered"}),
    "quota_exceeded": (429, {"code": -10, "msg": "exceeded monthly request limit"}),
    "app_suspended": (403, {"code": -12, "msg": "app is blocked or suspended"}),
}
# faults that are not a Kakao error body
# echo_key: a -2 whose msg repeats the Authorization header, as a careless proxy might
# drop_after_body: read the whole request, then hang up without answering (it was delivered)
# rate_limit_no_wait: a 429 without Retry-After; endless_body: a 200 whose JSON never ends; answer_urls: URLs even when base64 was asked for
BEHAVIOURS = {
    "drop_after_body",
    "endless_body",
    "answer_urls",
    "rate_limit",
    "rate_limit_no_wait",
    "server_error",
    "not_found",
    "timeout",
    "malformed_base64",
    "nsfw",
    "echo_key",
}


def render_image(width: int, height: int, fmt: str = "png", seed: int = 0) -> bytes:
    """A small real image: a gradient whose colours depend on ``seed``, encoded as ``fmt``
    (png, webp, jpeg)."""
    r0, g0, b0 = (seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256
    # draw small and scale up: fast even at 3840x2160
    small = Image.new("RGB", (64, 64))
    draw = ImageDraw.Draw(small)
    for y in range(64):
        t = y / 63
        draw.line(
            [(0, y), (63, y)],
            fill=(int(r0 + (255 - r0) * t), int(g0 * (1 - t)), int((b0 + 128 * t) % 256)),
        )
    image = small.resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    pil_format = FORMATS.get(fmt, ("PNG", ""))[0]
    image.save(out, format=pil_format, **({"quality": 80} if pil_format != "PNG" else {}))
    return out.getvalue()


@dataclass
class KarloCall:
    """One request as received, with when it arrived and when its answer was sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    received_at: float
    responded_at: float | None = None
    status: int | None = None


@dataclass
class FakeKarlo(FakeHTTPServer):
    """Start with ``with FakeKarlo() as fake:``; point Settings.karlo_base_url at
    ``fake.base_url``."""

    api_key: str = FAKE_KAKAO_KEY
    latency: float = 0.0
    hang_seconds: float = 30.0
    trickle_seconds: float = 0.0  # > 0: answers are sent one byte at a time, this far apart
    image_bytes: bytes | None = None  # set: every image is these bytes instead of a render
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[KarloCall] = field(default_factory=list)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _faults: FaultSwitch = field(default_factory=FaultSwitch)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- control -------------------------------------------------------------------------
    def set_fault(self, name: str | None, *, times: int | None = None) -> None:
        """Make the next ``times`` t2i requests (all, when None) fail with ``name``, a key of
        KAKAO_ERRORS or BEHAVIOURS; ``None`` clears it."""
        if name is not None and name not in KAKAO_ERRORS and name not in BEHAVIOURS:
            raise ValueError(f"unknown fault {name!r}")
        self._faults.set(name, times)

    def take_fault(self) -> str | None:
        return self._faults.take()

    def t2i_calls(self) -> list[KarloCall]:
        return [c for c in self.calls if c.path == T2I_PATH]


def _invalid(message: str) -> tuple[int, dict]:
    return 400, {"code": -2, "msg": message}


def validate_t2i(body: object) -> tuple[int, dict] | None:
    """Kakao's -2 answer for a body the real API would refuse, else None."""
    if not isinstance(body, dict):
        return _invalid("request body must be a JSON object")
    version = body.get("version", "v2.1")
    if version not in MAX_SIDE:
        return _invalid(f"version must be one of {sorted(MAX_SIDE)}")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return _invalid("prompt is required")
    for name in ("width", "height"):
        value = body.get(name, 512)
        if not isinstance(value, int) or value <= 0 or value % 8:
            return _invalid(f"{name} must be a multiple of 8")
        if value > MAX_SIDE[version]:
            return _invalid(f"{name} must be at most {MAX_SIDE[version]} for {version}")
    samples = body.get("samples", 1)
    if not isinstance(samples, int) or not 1 <= samples <= 8:
        return _invalid("samples must be between 1 and 8")
    if body.get("image_format", "webp") not in FORMATS:
        return _invalid("image_format must be webp, jpeg or png")
    if body.get("return_type", "url") not in ("url", "base64_string"):
        return _invalid("return_type must be url or base64_string")
    quality = body.get("image_quality", 70)
    if not isinstance(quality, int) or not 1 <= quality <= 100:
        return _invalid("image_quality must be between 1 and 100")
    for name, lo, hi in (
        ("prior_num_inference_steps", 10, 100),
        ("num_inference_steps", 10, 100),
        ("prior_guidance_scale", 1, 20),
        ("guidance_scale", 1, 20),
    ):
        value = body.get(name)
        if value is not None and (not isinstance(value, int | float) or not lo <= value <= hi):
            return _invalid(f"{name} must be between {lo} and {hi}")
    if body.get("upscale"):
        scale = body.get("scale", 2)
        if scale not in (2, 4):
            return _invalid("scale must be 2 or 4")
        if max(body.get("width", 512), body.get("height", 512)) * scale > 2048:
            return _invalid("upscaled image must be at most 2048 px")
    seeds = body.get("seed")
    if seeds is not None and (
        not isinstance(seeds, list)
        or len(seeds) != samples
        or any(not isinstance(s, int) or not 0 <= s <= 4_294_967_295 for s in seeds)
    ):
        return _invalid("seed must be an array of one integer per sample")
    return None


class _Handler(FakeHandler):
    server_fake: FakeKarlo
    _quiet_429 = False  # a 429 without Retry-After

    def _send(self, call: KarloCall | None, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        if status == 429 and not self._quiet_429:
            self.send_header("retry-after", "0")
        self.end_headers()
        if call is not None:  # recorded before the client can see the answer
            call.status = status
            call.responded_at = time.monotonic()
        self.wfile.write(body)

    def _send_json(self, call: KarloCall | None, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        if self.server_fake.trickle_seconds:
            send_raw(
                self, status, RawBody(trickled(body), self.server_fake.trickle_seconds, len(body))
            )
            return
        self._send(call, status, body, "application/json;charset=UTF-8")

    def do_GET(self) -> None:
        fake = self.server_fake
        name = self.path.rsplit("/", 1)[-1]
        with fake._lock:
            fake.calls.append(
                KarloCall("GET", self.path, dict(self.headers), None, time.monotonic())
            )
        if self.path.startswith("/files/") and name in fake.files:
            data, mime = fake.files[name]
            self._send(None, 200, data, mime)
            return
        self._send_json(None, 404, {"msg": "Not Found", "code": -404})

    def do_POST(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        call = KarloCall("POST", self.path, dict(self.headers), body, received_at=time.monotonic())
        with fake._lock:
            fake.calls.append(call)
        if self.path != T2I_PATH:
            self._send(call, 404, b"<html><body>404 Not Found</body></html>", "text/html")
            return
        if self.headers.get("authorization") != f"KakaoAK {fake.api_key}":
            self._send_json(call, 401, {"code": -401, "msg": "invalid appkey"})
            return
        fault = fake.take_fault()
        if fault == "timeout":
            time.sleep(fake.hang_seconds)
            self.close_connection = True
            return
        if fault == "drop_after_body":
            self.close_connection = True
            return
        if fault == "endless_body":
            send_raw(self, 200, RawBody(endless(b'{"id": "x", "images": [{"image": "')))
            return
        if fake.latency:
            time.sleep(fake.latency)
        if fault in KAKAO_ERRORS:
            self._send_json(call, *KAKAO_ERRORS[fault])
            return
        if fault in ("rate_limit", "rate_limit_no_wait"):
            self._quiet_429 = fault == "rate_limit_no_wait"
            self._send_json(call, 429, {"msg": "too many requests"})
            return
        if fault == "server_error":
            self._send_json(call, 500, {"code": -1, "msg": "internal server error"})
            return
        if fault == "echo_key":
            auth = self.headers.get("authorization", "")
            self._send_json(call, 400, {"code": -2, "msg": f"bad request with {auth}"})
            return
        if fault == "not_found":
            self._send(call, 404, b"<html><body>404 Not Found</body></html>", "text/html")
            return
        problem = validate_t2i(body)
        if problem is not None:
            self._send_json(call, *problem)
            return
        assert isinstance(body, dict)
        self._send_json(call, 200, self._result(body, fault))

    def _result(self, body: dict, fault: str | None) -> dict:
        fake = self.server_fake
        samples = body.get("samples", 1)
        seeds = body.get("seed") or [uuid.uuid4().int % 4_294_967_296 for _ in range(samples)]
        scale = body.get("scale", 2) if body.get("upscale") else 1
        width, height = body.get("width", 512) * scale, body.get("height", 512) * scale
        fmt = body.get("image_format", "webp")
        images = []
        for seed in seeds:
            data = fake.image_bytes or render_image(width, height, fmt, seed)
            if fault == "malformed_base64":
                value = "this is %% not base64 ~~"
            elif body.get("return_type", "url") == "base64_string" and fault != "answer_urls":
                value = base64.b64encode(data).decode()
            else:
                name = f"{uuid.uuid4().hex}.{fmt}"
                fake.files[name] = (data, FORMATS[fmt][1])
                value = f"{fake.base_url}/files/{name}"
            flagged = fault == "nsfw"
            images.append(
                {
                    "id": uuid.uuid4().hex,
                    "seed": seed,
                    "image": value,
                    "nsfw_content_detected": flagged
                    if body.get("nsfw_checker") or flagged
                    else None,
                    "nsfw_score": 0.97 if flagged else (0.01 if body.get("nsfw_checker") else None),
                }
            )
        return {
            "id": uuid.uuid4().hex,
            "model_version": body.get("version", "v2.1"),
            "images": images,
        }


FakeKarlo.handler = _Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--api-key", default=FAKE_KAKAO_KEY)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    fake = FakeKarlo(api_key=args.api_key, port=args.port, latency=args.latency)
    serve_until_interrupted(fake, "fake Karlo API")


if __name__ == "__main__":
    main()
