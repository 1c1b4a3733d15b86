"""OpenAI image generation through ``client.images.generate``.

GPT Image models (the current ones) and DALL·E-style models (still served by some
OpenAI-compatible servers) take different parameters, so each request is built from the
model's capabilities in services/data/models.json, never from the SDK's defaults (its fallback
model is retired). Watched GPT Image lanes stream (openai_stream.py)."""

from __future__ import annotations

import json
import re
import time
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import openai
import pydantic
from openai.types import ImagesResponse

from services.catalog import DATA_FILE, Catalog, load_catalog
from services.errors import ChatCanvasError, ErrorKind, from_openai
from services.http_clients import (
    IMAGE_LIMITS,
    AddressGuard,
    HttpProfile,
    openai_client,
    pooled_http_client,
)
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
)
from services.images.bounded_read import (
    MAX_IMAGE_BYTES,
    MAX_JSON_BYTES,
    Deadline,
    read_body,
    timeout_error,
    transport_error,
)
from services.images.lane_watch import LaneWatch
from services.settings import Mode, Settings
from services.url_policy import check_download_url

PROVIDER = "openai"
# Image generation takes tens of seconds (high quality, large sizes: minutes).
IMAGE_TIMEOUT = httpx2.Timeout(180.0, connect=5.0)
# No automatic retry: a timed-out generation may still be billed, and a retry would pay twice.
IMAGE_MAX_RETRIES = 0
DOWNLOAD_TIMEOUT = httpx2.Timeout(30.0, connect=5.0)
DOWNLOADS = HttpProfile(limits=IMAGE_LIMITS)
GUARDED_DOWNLOADS = HttpProfile(limits=IMAGE_LIMITS, guard=AddressGuard())
# The whole call (generation, reading the answer, downloading URL results) ends by then.
IMAGE_DEADLINE = 300.0
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
MAX_PROMPT_CHARS = 32_000

# gpt-image-2 and later: free-form WIDTHxHEIGHT up to 3840x2160 (either orientation).
GPT_IMAGE_SIZE_RULE = SizeRule(multiple=16, max_side=3840, max_pixels=3840 * 2160, max_aspect=3.0)
_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")

# Used for ids the data file does not know (a compatible server's own names): permissive,
# so the server, not a guess here, decides.
_FAMILY_DEFAULTS: dict[str, dict] = {
    "gpt-image": {
        "sizes": ["auto", "1024x1024", "1536x1024", "1024x1536"],
        "custom_sizes": True,
        "qualities": ["low", "medium", "high", "auto"],
        "output_formats": ["png", "webp", "jpeg"],
        "max_n": 10,
    },
    "dall-e": {
        "sizes": ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"],
        "qualities": ["standard", "hd"],
        "styles": ["vivid", "natural"],
        "max_n": 10,
    },
}
_GPT_IMAGE_EXTRAS: dict[str, tuple[object, ...]] = {
    "background": ("auto", "opaque", "transparent"),
    "moderation": ("auto", "low"),
}
_GPT_IMAGE_RANGES = {"output_compression": (0, 100), "partial_images": (0, 3)}  # 3: previews
_TRANSPARENT_FORMATS = ("png", "webp")


@cache
def _raw_image_entries(path: Path = DATA_FILE) -> dict[str, dict]:
    """The image entries of the data file with their capability fields, which the shared
    Catalog does not carry."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data["models"].items() if v.get("kind") == "image"}


def _raw_entry(model: str) -> dict | None:
    """The data file's entry for ``model``; dated snapshots inherit their alias's entry."""
    entries = _raw_image_entries()
    return entries.get(model) or entries.get(_DATED_SUFFIX.sub("", model))


def image_capabilities(model: str, catalog: Catalog | None = None) -> ImageCapabilities:
    """What ``model`` takes, from the data file; unknown ids get their family's defaults
    (ids containing "dall-e" are DALL·E family, every other image id GPT Image)."""
    catalog = catalog or load_catalog()
    raw = _raw_entry(model)
    family = catalog.spec(model).family or ("dall-e" if "dall-e" in model else "gpt-image")
    if raw is None:
        raw = _FAMILY_DEFAULTS.get(family, _FAMILY_DEFAULTS["gpt-image"])
    if family == "dall-e":
        extras: dict[str, tuple[object, ...]] = {"response_format": ("b64_json", "url")}
        if raw.get("styles"):
            extras["style"] = tuple(raw["styles"])
        return ImageCapabilities(
            provider=PROVIDER,
            model=model,
            family="dall-e",
            sizes=tuple(raw.get("sizes", ())),
            qualities=tuple(raw.get("qualities", ())),
            max_count=int(raw.get("max_n", 1)),
            extras=extras,
            default_size="1024x1024",
        )
    return ImageCapabilities(
        provider=PROVIDER,
        model=model,
        family="gpt-image",
        sizes=tuple(raw.get("sizes", ())),
        size_rule=GPT_IMAGE_SIZE_RULE if raw.get("custom_sizes") else None,
        qualities=tuple(raw.get("qualities", ())),
        output_formats=tuple(raw.get("output_formats", ("png",))),
        max_count=int(raw.get("max_n", 10)),
        extras=dict(_GPT_IMAGE_EXTRAS),
        ranges=dict(_GPT_IMAGE_RANGES),
        default_size="1024x1024",
    )


def _check_choice(value: object, choices: tuple[object, ...], param: str, provider: str) -> None:
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices) or "none"
        raise bad_request(f"{param}={value!r} (allowed: {allowed})", param, provider)


def _check_size(caps: ImageCapabilities, request: ImageRequest) -> str | None:
    """The size to send (None: let the model choose), or BAD_REQUEST."""
    dims = request.dimensions()
    if dims is None:
        if not request.size:
            return None
        _check_choice(request.size, caps.sizes, "size", caps.provider)
        return request.size
    size = f"{dims[0]}x{dims[1]}"
    if size in caps.sizes:
        return size
    problem = caps.size_rule.problem(*dims) if caps.size_rule else "not offered by this model"
    if problem:
        raise bad_request(f"size {size}: {problem}", "size", caps.provider)
    return size


def build_image_params(caps: ImageCapabilities, request: ImageRequest) -> dict[str, object]:
    """The ``images.generate`` keyword arguments for this model, validated before sending.
    Extras the model does not take (left over from another model) are dropped; values it
    cannot take raise BAD_REQUEST with ``param`` set."""
    prompt = request.prompt.strip()
    if not prompt:
        raise ChatCanvasError(ErrorKind.EMPTY_INPUT, provider=caps.provider)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ChatCanvasError(
            ErrorKind.INPUT_TOO_LONG,
            f"{len(prompt)} > {MAX_PROMPT_CHARS}",
            param="prompt",
            provider=caps.provider,
        )
    if not 1 <= request.count <= caps.max_count:
        raise bad_request(
            f"n must be between 1 and {caps.max_count} for {caps.model}", "n", PROVIDER
        )
    params: dict[str, object] = {"model": caps.model, "prompt": prompt, "n": request.count}
    size = _check_size(caps, request)
    if size is not None:
        params["size"] = size
    if request.quality:
        _check_choice(request.quality, caps.qualities, "quality", caps.provider)
        params["quality"] = request.quality
    extras = accepted_extras(caps, request.extras)
    if caps.family == "dall-e":
        # b64_json saves a second round trip; "url" is still honoured when asked for
        extras.setdefault("response_format", "b64_json")
    else:
        fmt = request.output_format
        if fmt:
            fmt = "jpeg" if fmt == "jpg" else fmt
            _check_choice(fmt, caps.output_formats, "output_format", caps.provider)
            params["output_format"] = fmt
        if extras.get("output_compression") is not None and fmt not in ("webp", "jpeg"):
            extras.pop("output_compression")  # only meaningful for lossy formats
        if extras.get("background") == "transparent" and (fmt or "png") not in (
            _TRANSPARENT_FORMATS
        ):
            raise bad_request(
                "a transparent background needs png or webp output", "background", PROVIDER
            )
    params.update(extras)
    return params


class OpenAIImageProvider:
    """OpenAI (or an OpenAI-compatible server) through the official SDK."""

    name = PROVIDER

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog | None = None,
        *,
        timeout: httpx2.Timeout | float = IMAGE_TIMEOUT,
        max_retries: int = IMAGE_MAX_RETRIES,
        download_timeout: httpx2.Timeout = DOWNLOAD_TIMEOUT,
        deadline: float = IMAGE_DEADLINE,
    ) -> None:
        self.settings = settings
        self.catalog = catalog or load_catalog()
        self._timeout = timeout
        self._max_retries = max_retries
        self._download_timeout = download_timeout
        self._deadline = deadline

    def models(self) -> list[str]:
        """Image model ids the data file knows (the UI merges the live list via the catalog)."""
        return self.catalog.known_ids("image")

    def capabilities(self, model: str) -> ImageCapabilities:
        return image_capabilities(model, self.catalog)

    def generate(self, request: ImageRequest) -> ImageResult:
        """Generate ``request.count`` images; raises ChatCanvasError (provider "openai")."""
        caps = self.capabilities(request.model)
        return self._result(caps, build_image_params(caps, request))

    def _result(
        self, caps: ImageCapabilities, params: dict, files: dict | None = None
    ) -> ImageResult:
        """One call (``files``: an edit's, by the names the lineage keeps) and its images;
        never a stream here, so no previews are asked for."""
        params = {k: v for k, v in params.items() if k != "partial_images"}
        deadline = Deadline(self._deadline)
        started = time.perf_counter()
        sent = {**params, **{k: v for k, (v, _) in (files or {}).items()}}
        response = self._call(sent, deadline, edit=files is not None)
        images = tuple(self._decode(item, caps, deadline) for item in response.data or [])
        latency_ms = int((time.perf_counter() - started) * 1000)
        if not images:
            raise ChatCanvasError(
                ErrorKind.BAD_RESPONSE, "no images in the response", provider=self.name
            )
        usage = response.usage.model_dump() if response.usage is not None else {}
        cost = self._cost(caps.model, response.usage)
        return ImageResult(
            provider=self.name,
            model=caps.model,
            images=images,
            params={**params, **{k: names for k, (_, names) in (files or {}).items()}},
            latency_ms=latency_ms,
            cost_usd=cost,
            usage=usage,
        )

    def generate_watched(self, request: ImageRequest, watch: LaneWatch) -> ImageResult:
        """``generate``, streamed into ``watch`` where the model can (openai_stream.py)."""
        from services.images import openai_stream  # it builds on this module

        return openai_stream.generate_watched(self, request, watch)

    # -- internals ---------------------------------------------------------------------------
    def _client(self) -> openai.OpenAI:
        """The SDK client for this provider's key and checked base URL."""
        return openai_client(
            self.settings, timeout=self._timeout, max_retries=self._max_retries, limits=IMAGE_LIMITS
        )

    def _base_url(self) -> str:
        return self.settings.openai_base_url or DEFAULT_OPENAI_BASE_URL

    def _call(
        self,
        params: dict[str, object],
        deadline: Deadline,
        extra_body: dict[str, object] | None = None,
        edit: bool = False,
    ) -> ImagesResponse:
        """``images.generate`` (``edit``: ``images.edit``) with its body streamed, so the byte
        cap and the deadline hold while it arrives (the SDK would read any amount, for as long
        as it trickles). ``extra_body``: fields beyond the SDK's own that the server takes."""
        secrets = self.settings.secrets()
        try:
            images = self._client().images.with_streaming_response
            with (images.edit if edit else images.generate)(
                **params, extra_body=extra_body, timeout=deadline.timeout(self._timeout)
            ) as response:
                raw = read_body(
                    response,
                    cap=MAX_JSON_BYTES,
                    deadline=deadline,
                    provider=self.name,
                    what="images",
                )
            return ImagesResponse.model_validate(json.loads(raw))
        except ChatCanvasError:
            raise
        except (ValueError, pydantic.ValidationError):
            raise ChatCanvasError(
                ErrorKind.BAD_RESPONSE, "the answer is not an images response", provider=self.name
            ) from None
        except openai.APITimeoutError:
            raise timeout_error(deadline, self.name, "images") from None
        except Exception as exc:
            err = from_openai(exc, secrets)
            err.provider = self.name
            raise err from None

    def _decode(self, item: object, caps: ImageCapabilities, deadline: Deadline) -> GeneratedImage:
        b64 = getattr(item, "b64_json", None)
        url = getattr(item, "url", None)
        if b64:
            data = decode_b64_image(b64, self.name)
        elif url and caps.family != "gpt-image":  # GPT Image answers only in base64
            data = self._download(url, deadline)
        else:
            raise ChatCanvasError(
                ErrorKind.BAD_RESPONSE, "an image without data", provider=self.name
            )
        return GeneratedImage(
            data=data,
            mime_type=checked_image(data, self.name),
            revised_prompt=getattr(item, "revised_prompt", None),
        )

    def _download(self, url: str, deadline: Deadline) -> bytes:
        """DALL·E URL results expire after an hour: fetch them now, but only from the
        provider's own host or the deployer's allow-list, under the address rules, without
        following redirects, within the byte cap and the call's deadline."""
        base_host = urlsplit(self._base_url()).hostname
        try:
            check_download_url(
                url,
                shared=self.settings.mode is Mode.SHARED,
                allowed_hosts=[base_host or "", *self.settings.image_download_hosts],
            )
        except ChatCanvasError as err:
            err.provider = self.name
            raise
        # in shared mode the connection itself goes only to a public address (no rebinding)
        shared = self.settings.mode is Mode.SHARED
        client = pooled_http_client(GUARDED_DOWNLOADS if shared else DOWNLOADS)
        try:
            with client.stream(
                "GET", url, follow_redirects=False, timeout=deadline.timeout(self._download_timeout)
            ) as response:
                if response.status_code != 200:
                    raise ChatCanvasError(
                        ErrorKind.BAD_RESPONSE,
                        f"image download answered HTTP {response.status_code}",
                        status=response.status_code,
                        provider=self.name,
                    )
                return read_body(
                    response,
                    cap=MAX_IMAGE_BYTES,
                    deadline=deadline,
                    provider=self.name,
                    what="image download",
                )
        except httpx2.HTTPError as exc:
            raise transport_error(
                exc, deadline, self.name, "image download", self.settings.secrets()
            ) from None

    def _cost(self, model: str, usage: object) -> float | None:
        """USD from the returned token usage, or None when the price or usage is unknown."""
        spec = self.catalog.spec(model)
        if spec.price is None or usage is None:
            return None
        raw_price = (_raw_entry(model) or {}).get("price") or {}
        image_input_rate = raw_price.get("image_input", spec.price.input)
        details = getattr(usage, "input_tokens_details", None)
        input_tokens = getattr(usage, "input_tokens", 0) or 0
        image_in = getattr(details, "image_tokens", 0) or 0
        text_in = getattr(details, "text_tokens", None)
        text_in = input_tokens - image_in if text_in is None else text_in
        output_tokens = getattr(usage, "output_tokens", 0) or 0
        return (
            text_in * spec.price.input
            + image_in * image_input_rate
            + output_tokens * spec.price.output
        ) / 1_000_000
