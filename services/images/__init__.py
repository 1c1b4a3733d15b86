"""Image generation: one interface, one module per provider, one registry entry each.

Adding a provider = a module with a class implementing :class:`ImageProvider` plus one entry
in :data:`PROVIDERS`; pages list providers from here and never name one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.images.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageProvider,
    ImageRequest,
    ImageResult,
    LaneOutcome,
    SizeRule,
    error_message_key,
    run_lanes,
)
from services.images.karlo import KarloProvider, karlo_prompt_problems
from services.images.openai_images import OpenAIImageProvider
from services.settings import Settings


@dataclass(frozen=True)
class ProviderEntry:
    """How to build a provider and how the UI names it (a locale key)."""

    name: str
    label_key: str
    factory: Callable[[Settings], ImageProvider]
    has_key: Callable[[Settings], bool]


PROVIDERS: dict[str, ProviderEntry] = {
    "openai": ProviderEntry(
        "openai",
        "images.providers.openai",
        OpenAIImageProvider,
        lambda s: bool(s.openai_api_key),
    ),
    "karlo": ProviderEntry(
        "karlo",
        "images.providers.karlo",
        KarloProvider,
        lambda s: bool(s.kakao_rest_api_key),
    ),
}


def make_provider(name: str, settings: Settings) -> ImageProvider:
    """The provider registered as ``name``, built for these settings (KeyError if unknown)."""
    return PROVIDERS[name].factory(settings)


__all__ = [
    "PROVIDERS",
    "GeneratedImage",
    "ImageCapabilities",
    "ImageProvider",
    "ImageRequest",
    "ImageResult",
    "KarloProvider",
    "LaneOutcome",
    "OpenAIImageProvider",
    "ProviderEntry",
    "SizeRule",
    "error_message_key",
    "karlo_prompt_problems",
    "make_provider",
    "run_lanes",
]
