"""The provider registry: one :class:`ProviderEntry` per image provider, carrying everything
pages, the budget and the comparison service need to know about it, so none of them names a
provider. Adding a provider = one module implementing ``ImageProvider`` plus one entry here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from services.catalog import Catalog, load_catalog
from services.errors import ChatCanvasError, ErrorKind
from services.images.base import ImageProvider
from services.images.compatible import CompatibleImageProvider, image_servers
from services.images.karlo import DEFAULT_MODEL as KARLO_DEFAULT_MODEL
from services.images.karlo import KarloProvider
from services.images.local_provider import LocalImageProvider
from services.images.openai_images import OpenAIImageProvider
from services.settings import Settings


@dataclass(frozen=True)
class ProviderEntry:
    """How to build a provider and what the rest of the app needs to know about it."""

    name: str
    label_key: str  # the locale key of its display name
    factory: Callable[[Settings], ImageProvider]
    has_key: Callable[[Settings], bool]
    key_setting: str  # the settings name of its key (whose source says who pays)
    default_model: str = ""  # used when the catalog does not list the provider's models
    catalog_models: bool = False  # models come from the catalog merged with the live list
    english_only: bool = False  # sends an English prompt (the comparison's english_prompt)
    monthly_free_images: int | None = None  # free under a monthly quota: costs nothing
    runs_here: bool = False  # runs on this machine: costs nothing, needs no key
    # locale keys where the shared errors.json would say the wrong thing; keyed by an
    # error's ``code`` or its ErrorKind
    error_keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # a lane of it is among a new comparison's default lanes
    default_lane: bool = True
    # the lane form offers it with these settings (e.g. only where a server is configured)
    offered: Callable[[Settings], bool] = lambda _settings: True

    def default_model_for(self, catalog: Catalog | None) -> str:
        """The model a new lane of this provider starts with."""
        if self.catalog_models:
            return (catalog or load_catalog()).default_image_model
        return self.default_model

    def error_key(self, error: ChatCanvasError) -> str | None:
        return self.error_keys.get(error.code or "") or self.error_keys.get(str(error.kind))


PROVIDERS: dict[str, ProviderEntry] = {
    "openai": ProviderEntry(
        "openai",
        "images.providers.openai",
        OpenAIImageProvider,
        lambda s: bool(s.openai_api_key),
        key_setting="OPENAI_API_KEY",
        catalog_models=True,
        # the shared text speaks of a chat reply kept in part; a lane keeps no partial image
        error_keys=MappingProxyType(
            {str(ErrorKind.STREAM_INTERRUPTED): "images.errors.openai_stream_interrupted"}
        ),
    ),
    "karlo": ProviderEntry(
        "karlo",
        "images.providers.karlo",
        KarloProvider,
        lambda s: bool(s.kakao_rest_api_key),
        key_setting="KAKAO_REST_API_KEY",
        default_model=KARLO_DEFAULT_MODEL,
        english_only=True,
        monthly_free_images=500,  # Kakao's free Karlo quota: images a month per app
        error_keys=MappingProxyType(
            {
                str(ErrorKind.NO_KEY): "images.errors.karlo_no_key",
                str(ErrorKind.INVALID_KEY): "images.errors.karlo_invalid_key",
                # the shared text points at OPENAI_BASE_URL
                str(ErrorKind.CONNECTION): "images.errors.karlo_connection",
                str(ErrorKind.NOT_ENGLISH): "images.errors.karlo_not_english",
                str(ErrorKind.PROMPT_TOO_LONG): "images.errors.karlo_too_long",
            }
        ),
    ),
    "compatible": ProviderEntry(
        "compatible",
        "images.providers.compatible",
        CompatibleImageProvider,
        lambda s: bool(image_servers(s)),
        key_setting="IMAGE_SERVERS",  # the deployer's; a typed server's key is the person's
        error_keys=MappingProxyType(
            {
                str(ErrorKind.NO_KEY): "images.errors.compatible_no_server",
                str(ErrorKind.INVALID_KEY): "images.errors.compatible_invalid_key",
                str(ErrorKind.CONNECTION): "images.errors.compatible_connection",
                str(ErrorKind.MODEL_NOT_FOUND): "images.errors.compatible_model_not_found",
            }
        ),
        default_lane=False,
        # configured servers, or a server of one's own where a typed base URL is allowed
        offered=lambda s: bool(s.image_servers) or s.allow_custom_base_url,
    ),
    "local": ProviderEntry(
        "local",
        "images.providers.local",
        LocalImageProvider,
        lambda s: True,
        key_setting="",
        default_model="sd-turbo",
        runs_here=True,
        default_lane=False,  # optional extras and big downloads: added by choice
        error_keys=MappingProxyType(
            {
                "not_installed": "images.errors.local_not_installed",
                "no_weights": "images.errors.local_no_weights",
                "no_folder": "images.errors.local_no_folder",
                "load_failed": "images.errors.local_load_failed",
                "folder_refused": "images.errors.local_folder_refused",
                "local_failed": "images.errors.local_failed",
                # a stored lane keeps its kind and detail, not its code
                str(ErrorKind.MODEL_NOT_FOUND): "images.errors.local_missing",
                str(ErrorKind.SERVER_ERROR): "images.errors.local_failed",
            }
        ),
    ),
}


def default_lane_providers() -> list[str]:
    """The providers a new comparison starts with, one lane each (GPT Image against Karlo)."""
    return [name for name, entry in PROVIDERS.items() if entry.default_lane]


def offered_providers(settings: Settings) -> list[str]:
    """The providers a lane may pick with these settings."""
    return [name for name, entry in PROVIDERS.items() if entry.offered(settings)]


def provider_entry(name: str) -> ProviderEntry:
    """The entry registered as ``name`` (KeyError if unknown)."""
    return PROVIDERS[name]


def make_provider(name: str, settings: Settings) -> ImageProvider:
    """The provider registered as ``name``, built for these settings (KeyError if unknown)."""
    return PROVIDERS[name].factory(settings)


def is_free(provider: str) -> bool:
    """Calls to ``provider`` cost nothing (a monthly free quota, or run on this machine)."""
    entry = PROVIDERS.get(provider)
    return entry is not None and (entry.monthly_free_images is not None or entry.runs_here)


def quota_providers() -> list[ProviderEntry]:
    """The providers that are free under a monthly image quota."""
    return [e for e in PROVIDERS.values() if e.monthly_free_images is not None]


def english_only(provider: str) -> bool:
    entry = PROVIDERS.get(provider)
    return entry is not None and entry.english_only


def error_message_key(error: ChatCanvasError) -> str:
    """The locale key that explains ``error`` to a person: the provider's own text where the
    shared errors.json would say the wrong thing (a missing Kakao key is not an OpenAI key)."""
    entry = PROVIDERS.get(error.provider or "")
    return (entry.error_key(error) if entry else None) or f"errors.{error.kind}"
