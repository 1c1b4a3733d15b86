"""Image generation: one interface, one module per provider, one registry entry each.

Adding a provider = a module with a class implementing :class:`ImageProvider` plus one entry
in :data:`PROVIDERS` (``registry.py``); pages list providers from here and never name one.
"""

from __future__ import annotations

from services.images.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageProvider,
    ImageRequest,
    ImageResult,
    LaneOutcome,
    SizeRule,
    run_lanes,
)
from services.images.karlo import KarloProvider, karlo_prompt_problems
from services.images.openai_images import OpenAIImageProvider
from services.images.registry import (
    PROVIDERS,
    ProviderEntry,
    english_only,
    error_message_key,
    is_free,
    make_provider,
    provider_entry,
)

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
    "english_only",
    "error_message_key",
    "is_free",
    "karlo_prompt_problems",
    "make_provider",
    "provider_entry",
    "run_lanes",
]
