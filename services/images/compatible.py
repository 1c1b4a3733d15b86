"""OpenAI-compatible image servers (LocalAI, stable-diffusion.cpp's server, hosted ones)
through the real openai SDK with the server's ``base_url``.

Each server is an :class:`~services.images.servers.ImageServer`: the deployer's
(``IMAGE_SERVERS``) or the one a person typed in the lane form. A lane's model is
``SERVER/MODEL``; the server's capability profile decides what is sent: ``size`` and ``n``
always, ``response_format`` when the server takes it, and ``steps``, ``guidance_scale``,
``seed`` and ``negative_prompt`` in ``extra_body`` only when the profile lists them, and
``style`` for a DALL·E-style model whose profile lists its ``styles``. Answers may carry
``b64_json`` or a ``url``, which is downloaded under the same rules as DALL·E's (the server's
own host, the address rules, no redirects, a byte cap, the call's deadline), and a
``revised_prompt`` (DALL·E-style models rewrite the prompt), kept with each image as from
OpenAI. The lineage names the server and its host, never its key.
"""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import urlsplit

import openai

from services.catalog import Catalog
from services.errors import ChatCanvasError, ErrorKind
from services.http_clients import IMAGE_LIMITS, openai_client
from services.images.base import (
    ImageCapabilities,
    ImageRequest,
    ImageResult,
    accepted_extras,
)
from services.images.bounded_read import Deadline
from services.images.openai_images import OpenAIImageProvider, build_image_params
from services.images.profile import NEGATIVE_PROMPT, SEED, STYLE, CapabilityProfile
from services.images.servers import ImageServer, split_model_ref
from services.settings import Secret, Settings

PROVIDER = "compatible"
FAMILY = "compatible"
# The SDK refuses an empty key; servers without one ignore the header.
KEYLESS_SECRET = Secret("no-key-needed")


def image_servers(settings: Settings) -> tuple[ImageServer, ...]:
    """Every server a lane may use with these settings: the deployer's, then the person's."""
    custom = settings.custom_image_server
    return (*settings.image_servers, *([custom] if custom else []))


class _OnServer(OpenAIImageProvider):
    """The OpenAI engine pointed at one compatible server: its key, its checked base URL."""

    name = PROVIDER

    def __init__(self, settings: Settings, server: ImageServer, **options: object) -> None:
        super().__init__(settings, **options)  # type: ignore[arg-type]
        self.server = server

    def _client(self) -> openai.OpenAI:
        # The chat's rules for a base URL: a deployer's is called as configured; a typed one
        # (source "sidebar") is a visitor's, checked by the address rules and, when shared,
        # connected only to public addresses.
        source = "secrets" if self.server.configured else "sidebar"
        pointed = replace(
            self.settings,
            openai_api_key=self.server.api_key or KEYLESS_SECRET,
            openai_base_url=self.server.base_url,
            sources={"OPENAI_BASE_URL": source},
        )
        return openai_client(
            pointed, timeout=self._timeout, max_retries=self._max_retries, limits=IMAGE_LIMITS
        )

    def _base_url(self) -> str:
        return self.server.base_url

    def fetch(
        self, params: dict[str, object], extra_body: dict[str, object], caps: ImageCapabilities
    ) -> tuple[tuple, int]:
        """The images of one call and its latency in ms."""
        deadline = Deadline(self._deadline)
        started = time.perf_counter()
        response = self._call(params, deadline, extra_body or None)
        images = tuple(self._decode(item, caps, deadline) for item in response.data or [])
        return images, int((time.perf_counter() - started) * 1000)


def _no_server(ref: str) -> ChatCanvasError:
    server, _ = split_model_ref(ref)
    return ChatCanvasError(
        ErrorKind.NO_KEY, f"no image server named {server!r} here", provider=PROVIDER
    )


class CompatibleImageProvider(OpenAIImageProvider):
    """Every OpenAI-compatible image server these settings know, models named SERVER/MODEL."""

    name = PROVIDER

    def __init__(self, settings: Settings, catalog: Catalog | None = None, **options) -> None:
        super().__init__(settings, catalog, **options)
        self._options = options
        self._servers = {s.name: s for s in image_servers(settings)}

    def models(self) -> list[str]:
        return [s.model_ref(m) for s in self._servers.values() for m in s.models]

    def server(self, ref: str) -> ImageServer | None:
        """The server a model reference names, if these settings know it."""
        return self._servers.get(split_model_ref(ref)[0])

    def capabilities(self, model: str) -> ImageCapabilities:
        server = self.server(model)
        name = split_model_ref(model)[1]
        profile = server.profile_for(name) if server else CapabilityProfile()
        return profile.capabilities(PROVIDER, model, FAMILY)

    def generate(self, request: ImageRequest) -> ImageResult:
        """One call to the server the model names; raises ChatCanvasError (provider
        "compatible"): NO_KEY when no such server is configured here."""
        server = self.server(request.model)
        if server is None:
            raise _no_server(request.model)
        caps = self.capabilities(request.model)
        params, extra_body = self._body(server, caps, request)
        images, latency_ms = _OnServer(self.settings, server, **self._options).fetch(
            params, extra_body, caps
        )
        if not images:
            raise ChatCanvasError(
                ErrorKind.BAD_RESPONSE, "no images in the response", provider=PROVIDER
            )
        seed = extra_body.get(SEED)
        return ImageResult(
            provider=PROVIDER,
            model=request.model,
            images=images,
            # what was sent (body and extra body), and where: the server's name and host
            params={
                **params,
                **extra_body,
                "server": server.name,
                "server_host": urlsplit(server.base_url).hostname or "",
            },
            seeds=(int(seed),) if isinstance(seed, int) and request.count == 1 else (),
            latency_ms=latency_ms,
        )

    def _body(
        self, server: ImageServer, caps: ImageCapabilities, request: ImageRequest
    ) -> tuple[dict[str, object], dict[str, object]]:
        """The SDK's own fields, and the extra ones the profile says the server takes."""
        params = build_image_params(caps, request)
        params["model"] = split_model_ref(request.model)[1]
        extra_body = {
            name: params.pop(name)
            for name in list(accepted_extras(caps, request.extras))
            if name != STYLE  # the SDK's own field
        }
        if server.profile_for(params["model"]).response_format:
            params["response_format"] = "b64_json"
        if caps.seeds and request.seeds:
            extra_body[SEED] = request.seeds[0]
        if caps.negative_prompt and request.negative_prompt.strip():
            extra_body[NEGATIVE_PROMPT] = request.negative_prompt.strip()
        return params, extra_body
