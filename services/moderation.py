"""The safety check before paying: texts and images classified by OpenAI's moderation model.

Plain Python over the openai SDK and the catalog, so the web app and the terminal app use it
alike. The model is the catalog's moderation default (``omni-moderation-latest``), unless
the live list says it is gone. Moderation is free, but each call is recorded in the one
ledger (``usage_events``, kind ``moderation``) at $0 so the activity shows there; it never
counts against a budget. A failed call raises ChatCanvasError: callers say so and let the
person retry or proceed, never skip the check silently.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import httpx2
import openai

from services.catalog import Catalog, LiveModel
from services.errors import ChatCanvasError, ErrorKind, from_openai
from services.http_clients import Deadlines, openai_client, timeout_within
from services.settings import Settings

if TYPE_CHECKING:
    from services.budget import Budget
    from services.storage.images import ImageStore

MODERATION = "moderation"  # catalog kind and ledger kind
FALLBACK_MODEL = "omni-moderation-latest"
# the categories the moderation model reports, in the order they are shown
CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
MODERATION_TIMEOUT = httpx2.Timeout(30.0, connect=5.0)
MODERATION_DEADLINES = Deadlines(answer=45.0)
PARAMS_KEY = "moderation"  # where an image's verdict is kept in its JSON params


def category_key(category: str) -> str:
    """The locale key of a category's wording ("self-harm/intent" -> moderation.categories.
    self_harm_intent)."""
    return "moderation.categories." + category.replace("/", "_").replace("-", "_")


@dataclass(frozen=True)
class ModerationVerdict:
    """What the moderation model said about some inputs: ``flagged`` when any input was, and
    the flagged ``categories`` (of all inputs together, in :data:`CATEGORIES` order)."""

    flagged: bool
    categories: tuple[str, ...]
    model: str
    inputs: tuple[str, ...] = ()  # the texts checked, so an approval applies to them alone

    def as_params(self) -> dict:
        """The verdict as kept with an image (its JSON params; no schema change)."""
        return {"flagged": self.flagged, "categories": list(self.categories), "model": self.model}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> ModerationVerdict | None:
        """The verdict kept in an image's params, or None when it was never checked."""
        kept = params.get(PARAMS_KEY)
        if not isinstance(kept, Mapping):
            return None
        categories = kept.get("categories")
        names = (
            tuple(c for c in categories if c in CATEGORIES) if isinstance(categories, list) else ()
        )
        return cls(bool(kept.get("flagged")), names, str(kept.get("model", "")))


def verdict_from(
    results: Iterable[object], model: str, inputs: Sequence[str] = ()
) -> ModerationVerdict:
    """One verdict from the SDK's ``results`` (one per input)."""
    flagged: set[str] = set()
    any_flagged = False
    for result in results:
        any_flagged = any_flagged or bool(getattr(result, "flagged", False))
        raw = getattr(result, "categories", None)
        values = raw.model_dump(by_alias=True) if hasattr(raw, "model_dump") else dict(raw or {})
        flagged.update(name for name, on in values.items() if on)
    categories = tuple(c for c in CATEGORIES if c in flagged)
    return ModerationVerdict(any_flagged or bool(categories), categories, model, tuple(inputs))


class ModerationService:
    """Moderation calls with one owner's settings; recorded in their ledger at $0."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        *,
        budget: Budget | None = None,
        timeout: httpx2.Timeout | float = MODERATION_TIMEOUT,
        max_retries: int = 1,  # free: a retry cannot pay twice
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.budget = budget
        self._timeout = timeout
        self._max_retries = max_retries
        self._sdk_client: openai.OpenAI | None = None

    def _client(self) -> openai.OpenAI:
        if self._sdk_client is None:  # one per service, i.e. per rerun
            self._sdk_client = openai_client(
                self.settings,
                timeout=self._timeout,
                max_retries=self._max_retries,
                deadlines=MODERATION_DEADLINES,
            )
        return self._sdk_client

    def model(self, today: date | None = None, live: Sequence[LiveModel] | None = None) -> str:
        """The catalog's moderation model when usable (and listed, given a live list)."""
        today = today or date.today()
        choices = self.catalog.choices(MODERATION, today, list(live) if live is not None else None)
        chosen = self.catalog.default(MODERATION, choices, today)
        return chosen.id if chosen else FALLBACK_MODEL

    def check_texts(self, texts: Sequence[str], *, model: str | None = None) -> ModerationVerdict:
        """Classify ``texts`` (empty ones left out) in one call. Raises ChatCanvasError
        (EMPTY_INPUT when there is nothing to check; the provider's failure otherwise)."""
        kept = tuple(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        if not kept:
            raise ChatCanvasError(ErrorKind.EMPTY_INPUT, "nothing to check")
        chosen = model or self.model()
        return verdict_from(self._create(list(kept), chosen), chosen, kept)

    def check_image(
        self, data: bytes, mime_type: str, *, model: str | None = None
    ) -> ModerationVerdict:
        """Classify one image, sent as a data URL. Raises ChatCanvasError."""
        url = f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"
        chosen = model or self.model()
        parts = [{"type": "image_url", "image_url": {"url": url}}]
        return verdict_from(self._create(parts, chosen), chosen)

    def check_stored_image(self, store: ImageStore, image_id: str) -> ModerationVerdict:
        """Classify one of the owner's stored images and keep the verdict in its params
        (``moderation``), where the image card reads it. Raises ChatCanvasError
        (BAD_REQUEST for an image that is not there)."""
        image = store.get_image(image_id)
        if image is None:
            raise ChatCanvasError(ErrorKind.BAD_REQUEST, "no such image")
        verdict = self.check_image(image.data, image.mime)
        store.set_image_param(image_id, PARAMS_KEY, verdict.as_params())
        return verdict

    def _create(self, given: list, model: str) -> list:
        try:
            answer = self._client().moderations.create(
                input=given,
                model=model,
                timeout=timeout_within(self._timeout, MODERATION_DEADLINES.answer),
            )
        except Exception as exc:
            raise from_openai(exc, self.settings.secrets()) from None
        if self.budget is not None:
            self.budget.record(MODERATION, "openai", model, 0.0)
        return list(answer.results)
