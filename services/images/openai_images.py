"""OpenAI image generation through ``client.images.generate``.

Each request's parameters come from the model's capabilities (openai_params.py); watched GPT
Image lanes stream (openai_stream.py); edits go through edits.py."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import httpx2
import openai
import pydantic
from openai.types import ImagesResponse

from services.catalog import Catalog, load_catalog
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
from services.images.openai_params import (
    PROVIDER,
    build_image_params,
    image_capabilities,
    raw_entry,
)
from services.settings import Mode, Settings
from services.url_policy import check_download_url

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
        raw_price = (raw_entry(model) or {}).get("price") or {}
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
