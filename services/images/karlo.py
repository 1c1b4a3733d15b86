"""Kakao Karlo text-to-image over its REST API.

Built on plain HTTP rather than PyKakao, which sets no timeout, ignores HTTP status codes,
hard-codes the host and never sends ``version``. Kakao ended the consumer Karlo service in
2024; a key that gets -9 or 404 is told plainly that Karlo is gone for it (SERVICE_TERMINATED)
while the rest of the product keeps working.
"""

from __future__ import annotations

import json
import time
import unicodedata

import httpx2

from services.errors import ChatCanvasError, ErrorKind, scrub
from services.http_clients import IMAGE_LIMITS, HttpProfile, pooled_http_client
from services.images.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageRequest,
    ImageResult,
    SizeRule,
    accepted_extras,
    bad_request,
    checked_image,
    decode_b64_image,
    expand_seeds,
)
from services.images.bounded_read import MAX_JSON_BYTES, Deadline, read_body, transport_error
from services.settings import Settings

PROVIDER = "karlo"
T2I_PATH = "/v2/inference/karlo/t2i"
MAX_PROMPT_CHARS = 256
MAX_SEED = 4_294_967_295
MAX_UPSCALED_SIDE = 2048
DEFAULT_SIDE = 512
# model id shown to the user -> the API's ``version``; v2.1 (2024-02-22) allows 1280 px a side
MODELS: dict[str, str] = {"karlo-v2.1": "v2.1", "karlo-v2.0": "v2.0"}
MAX_SIDE = {"v2.1": 1280, "v2.0": 640}
DEFAULT_MODEL = "karlo-v2.1"
KARLO_TIMEOUT = httpx2.Timeout(90.0, connect=5.0)
KARLO_DEADLINE = 150.0  # seconds for the whole call, retries and waits included
MAX_RETRIES = 2
# the deployer's KARLO_BASE_URL: pooled, no redirects, answers capped like other image answers
KARLO_PROFILE = HttpProfile(limits=IMAGE_LIMITS)
RETRY_BACKOFF = 1.0  # seconds, doubled per attempt
MAX_RETRY_WAIT = 8.0
# The request never left this machine: sending it again cannot generate (or bill) twice.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)

_EXTRAS: dict[str, tuple[object, ...]] = {
    "upscale": (True, False),
    "scale": (2, 4),
    "scheduler": ("decoder_ddim_v_prediction", "decoder_ddpm_v_prediction"),
    "nsfw_checker": (True, False),
}
_RANGES: dict[str, tuple[float, float]] = {
    "image_quality": (1, 100),
    "prior_num_inference_steps": (10, 100),
    "prior_guidance_scale": (1.0, 20.0),
    "num_inference_steps": (10, 100),
    "guidance_scale": (1.0, 20.0),
}
_FORMATS = ("webp", "jpeg", "png")

# Kakao's common error codes -> what the user can do about them.
_KAKAO_CODES: dict[int, ErrorKind] = {
    -2: ErrorKind.BAD_REQUEST,
    -7: ErrorKind.MAINTENANCE,
    -9: ErrorKind.SERVICE_TERMINATED,
    -10: ErrorKind.QUOTA_EXCEEDED,
    -12: ErrorKind.PERMISSION,
    -401: ErrorKind.INVALID_KEY,
}


def _is_english(text: str) -> bool:
    """Letters must be Latin (accents allowed: "café" is English enough); digits, spaces and
    punctuation of any script pass."""
    for ch in text:
        if ch.isalpha() and not (ch.isascii() or unicodedata.name(ch, "").startswith("LATIN")):
            return False
    return True


def karlo_prompt_problems(prompt: str) -> list[str]:
    """Why Karlo would refuse ``prompt``: "empty", "not_english", "too_long" (at most 256
    characters). An empty list means it can be sent."""
    if not prompt.strip():
        return ["empty"]
    problems = []
    if not _is_english(prompt):
        problems.append("not_english")
    if len(prompt.strip()) > MAX_PROMPT_CHARS:
        problems.append("too_long")
    return problems


def _check_text(text: str, param: str) -> None:
    """Our own checks before sending: the error says what Karlo takes, not what a provider
    answered (nothing was sent)."""
    problems = karlo_prompt_problems(text)
    if "empty" in problems:
        raise ChatCanvasError(ErrorKind.EMPTY_INPUT, param=param, provider=PROVIDER)
    if "not_english" in problems:
        raise ChatCanvasError(
            ErrorKind.NOT_ENGLISH, code="not_english", param=param, provider=PROVIDER
        )
    if "too_long" in problems:
        raise ChatCanvasError(
            ErrorKind.PROMPT_TOO_LONG, code="too_long", param=param, provider=PROVIDER
        )


def karlo_capabilities(model: str = DEFAULT_MODEL) -> ImageCapabilities:
    """What a Karlo version takes."""
    version = MODELS.get(model, model)
    max_side = MAX_SIDE.get(version, MAX_SIDE["v2.1"])
    return ImageCapabilities(
        provider=PROVIDER,
        model=model,
        family="karlo",
        sizes=tuple(f"{s}x{s}" for s in (512, 640, 768, 1024, 1280) if s <= max_side),
        size_rule=SizeRule(multiple=8, max_side=max_side),
        output_formats=_FORMATS,
        max_count=8,
        seeds=True,
        negative_prompt=True,
        extras=dict(_EXTRAS),
        ranges=dict(_RANGES),
        default_size=f"{DEFAULT_SIDE}x{DEFAULT_SIDE}",
    )


def build_karlo_body(request: ImageRequest) -> dict[str, object]:
    """The flat t2i JSON body for ``request``, validated before sending (nothing is sent when
    it raises)."""
    if request.model not in MODELS and request.model not in MODELS.values():
        raise bad_request(f"unknown Karlo model {request.model!r}", "model", PROVIDER)
    version = MODELS.get(request.model, request.model)
    caps = karlo_capabilities(request.model)
    _check_text(request.prompt, "prompt")
    if request.negative_prompt.strip():
        _check_text(request.negative_prompt, "negative_prompt")
    if not 1 <= request.count <= caps.max_count:
        raise bad_request(f"samples must be between 1 and {caps.max_count}", "samples", PROVIDER)
    width, height = request.dimensions() or (DEFAULT_SIDE, DEFAULT_SIDE)
    assert caps.size_rule is not None
    problem = caps.size_rule.problem(width, height)
    if problem:
        raise bad_request(f"{width}x{height} for Karlo {version}: {problem}", "width", PROVIDER)
    body: dict[str, object] = {
        "version": version,
        "prompt": request.prompt.strip(),
        "width": width,
        "height": height,
        "samples": request.count,
        "return_type": "base64_string",
    }
    if request.negative_prompt.strip():
        body["negative_prompt"] = request.negative_prompt.strip()
    if request.output_format:
        fmt = "jpeg" if request.output_format == "jpg" else request.output_format
        if fmt not in _FORMATS:
            raise bad_request(f"image_format={fmt!r}", "image_format", PROVIDER)
        body["image_format"] = fmt
    extras = dict(request.extras)
    if request.quality is not None and str(request.quality).isdigit():
        extras.setdefault("image_quality", int(request.quality))  # Karlo's quality is 1..100
    extras = accepted_extras(caps, extras)
    if extras.get("upscale"):
        scale = extras.setdefault("scale", 2)
        if max(width, height) * int(scale) > MAX_UPSCALED_SIDE:
            raise bad_request(
                f"upscaled result would exceed {MAX_UPSCALED_SIDE} px", "scale", PROVIDER
            )
    else:
        extras.pop("scale", None)
    body.update(extras)
    if request.seeds:
        seeds = expand_seeds(request.seeds, request.count)
        if len(seeds) != request.count:
            raise bad_request("one seed per sample", "seed", PROVIDER)
        if any(not 0 <= s <= MAX_SEED for s in seeds):
            raise bad_request(f"seeds must be between 0 and {MAX_SEED}", "seed", PROVIDER)
        body["seed"] = list(seeds)
    return body


def _kakao_error(status: int, payload: object, secrets: list[str], retry_after: float | None):
    """Map an HTTP error answer to ChatCanvasError: Kakao's code first, then the status."""
    code = payload.get("code") if isinstance(payload, dict) else None
    msg = payload.get("msg") if isinstance(payload, dict) else None
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    kind = _KAKAO_CODES.get(code) if code is not None else None
    if kind is None:
        if status == 401:
            kind = ErrorKind.INVALID_KEY
        elif status == 403:
            kind = ErrorKind.PERMISSION
        elif status == 404:
            kind = ErrorKind.SERVICE_TERMINATED  # the endpoint is gone for this key
        elif status == 429:
            kind = ErrorKind.RATE_LIMIT
        elif status >= 500:
            kind = ErrorKind.SERVER_ERROR
        else:
            kind = ErrorKind.BAD_REQUEST
    detail = f"HTTP {status}"
    if code is not None:
        detail += f", Kakao code {code}"
    if msg:
        detail += f": {msg}"
    return ChatCanvasError(
        kind,
        scrub(detail, secrets),
        status=status,
        code=str(code) if code is not None else None,
        retry_after=retry_after if kind is ErrorKind.RATE_LIMIT else None,
        provider=PROVIDER,
    )


def _retry_after(headers: httpx2.Headers) -> float | None:
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except ValueError:
        return None


class KarloProvider:
    """Kakao Karlo t2i with the settings' REST API key."""

    name = PROVIDER

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: httpx2.Timeout = KARLO_TIMEOUT,
        max_retries: int = MAX_RETRIES,
        retry_backoff: float = RETRY_BACKOFF,
        deadline: float = KARLO_DEADLINE,
    ) -> None:
        self.settings = settings
        self._timeout = timeout
        self._deadline = deadline
        self._max_retries = max_retries
        self._backoff = retry_backoff

    def models(self) -> list[str]:
        return list(MODELS)

    def capabilities(self, model: str) -> ImageCapabilities:
        return karlo_capabilities(model)

    def generate(self, request: ImageRequest) -> ImageResult:
        """Generate ``request.count`` images; raises ChatCanvasError (provider "karlo")."""
        if not self.settings.kakao_rest_api_key:
            raise ChatCanvasError(ErrorKind.NO_KEY, "no Kakao REST API key", provider=PROVIDER)
        body = build_karlo_body(request)
        started = time.perf_counter()
        payload = self._post(body, Deadline(self._deadline))
        images = self._decode(payload)
        latency_ms = int((time.perf_counter() - started) * 1000)
        seeds = tuple(img.seed for img in images if img.seed is not None)
        return ImageResult(
            provider=PROVIDER,
            model=request.model,
            images=images,
            params=body,
            seeds=seeds,
            latency_ms=latency_ms,
            cost_usd=None,  # Karlo counts images against a monthly quota; no price to show
            usage={"images": len(images), "model_version": payload.get("model_version")},
        )

    # -- internals ---------------------------------------------------------------------------
    def _post(self, body: dict[str, object], deadline: Deadline) -> dict:
        """POST, retried only when the request cannot have reached Kakao (no connection was
        made) or when Kakao says when to come back (429 with Retry-After). A dropped
        connection, a timeout or a 5xx may already have generated images that count against
        the quota, so they are reported, never sent again."""
        secrets = self.settings.secrets()
        attempt = 0
        while True:
            try:
                status, headers, raw = self._exchange(body, deadline)
            except _NOT_SENT as exc:
                if attempt < self._max_retries and self._wait(attempt, None, deadline):
                    attempt += 1
                    continue
                raise ChatCanvasError(
                    ErrorKind.CONNECTION, scrub(f"Karlo: {exc}", secrets), provider=PROVIDER
                ) from None
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
            if status == 200:
                if not isinstance(payload, dict):
                    raise ChatCanvasError(
                        ErrorKind.BAD_RESPONSE, "Karlo answered without JSON", provider=PROVIDER
                    )
                return payload
            err = _kakao_error(status, payload, secrets, _retry_after(headers))
            # Kakao's known codes (quota, terminated, maintenance) will not change on retry
            known_code = err.code is not None and int(err.code) in _KAKAO_CODES
            told_when = status == 429 and not known_code and err.retry_after is not None
            retry = told_when and attempt < self._max_retries
            if retry and self._wait(attempt, err.retry_after, deadline):
                attempt += 1
                continue
            raise err

    def _exchange(
        self, body: dict[str, object], deadline: Deadline
    ) -> tuple[int, httpx2.Headers, bytes]:
        """One POST: (status, headers, body read within the byte cap and the deadline).
        Raises the _NOT_SENT errors as they are, everything else as ChatCanvasError."""
        key = self.settings.kakao_rest_api_key
        assert key is not None
        url = self.settings.karlo_base_url.rstrip("/") + T2I_PATH
        headers = {"Authorization": f"KakaoAK {key.reveal()}", "Content-Type": "application/json"}
        client = pooled_http_client(KARLO_PROFILE)
        try:
            with client.stream(
                "POST", url, json=body, headers=headers, timeout=deadline.timeout(self._timeout)
            ) as response:
                raw = read_body(
                    response, cap=MAX_JSON_BYTES, deadline=deadline, provider=PROVIDER, what="Karlo"
                )
                return response.status_code, response.headers, raw
        except _NOT_SENT:
            raise
        except httpx2.HTTPError as exc:
            raise transport_error(
                exc, deadline, PROVIDER, "Karlo", self.settings.secrets()
            ) from None

    def _wait(self, attempt: int, retry_after: float | None, deadline: Deadline) -> bool:
        """Sleep before a retry; False (no sleep) when the wait is too long or would pass the
        deadline."""
        wait = retry_after if retry_after is not None else self._backoff * (2**attempt)
        wait = max(wait, 0.0)
        if wait > MAX_RETRY_WAIT or wait >= deadline.remaining():
            return False
        time.sleep(wait)
        return True

    def _decode(self, payload: dict) -> tuple[GeneratedImage, ...]:
        items = payload.get("images")
        if not isinstance(items, list) or not items:
            raise ChatCanvasError(
                ErrorKind.BAD_RESPONSE, "Karlo answered without images", provider=PROVIDER
            )
        images = []
        for item in items:
            raw = item.get("image") if isinstance(item, dict) else None
            if not isinstance(raw, str) or not raw:
                raise ChatCanvasError(
                    ErrorKind.BAD_RESPONSE, "an image without data", provider=PROVIDER
                )
            if raw.startswith(("http://", "https://")):  # we asked for base64: never fetched
                raise ChatCanvasError(
                    ErrorKind.BAD_RESPONSE, "Karlo answered with a URL", provider=PROVIDER
                )
            data = decode_b64_image(raw, PROVIDER)
            mime = checked_image(data, PROVIDER)
            seed = item.get("seed")
            score = item.get("nsfw_score")
            detected = item.get("nsfw_content_detected")
            images.append(
                GeneratedImage(
                    data=data,
                    mime_type=mime,
                    seed=int(seed) if isinstance(seed, int | float) else None,
                    nsfw=bool(detected) if detected is not None else None,
                    nsfw_score=float(score) if isinstance(score, int | float) else None,
                )
            )
        return tuple(images)
