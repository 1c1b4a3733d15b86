"""Model catalog: what each model accepts, what it costs, when it shuts down.

The data lives in ``services/data/models.json``; the live ``GET /v1/models`` list (with its
``shutdown_date``) is merged in at run time and wins where both speak. Pages never hard-code a
model id: they ask the catalog for choices and a default.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "models.json"
_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
# Ids on a live list that are certainly not chat models (OpenAI lists embeddings, audio, ...).
_NOT_CHAT = (
    "embedding",
    "tts",
    "whisper",
    "dall-e",
    "image",
    "moderation",
    "transcribe",
    "realtime",
    "audio",
    "davinci",
    "babbage",
    "sora",
    "search",
)


class Status(StrEnum):
    CURRENT = "current"
    RETIRING = "retiring"
    RETIRED = "retired"


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input: float
    output: float
    cached_input: float | None = None


@dataclass(frozen=True)
class AudioPrice:
    """What an audio model costs when it is billed by time or by characters (USD)."""

    per_minute: float | None = None  # of audio heard (transcription) or made (speech)
    per_million_chars: float | None = None  # of text read aloud

    def cost(self, *, seconds: float | None = None, chars: int = 0) -> float | None:
        """USD for one call, or None when neither rate applies (never a guess)."""
        if self.per_million_chars is not None:
            return chars * self.per_million_chars / 1_000_000
        if self.per_minute is not None and seconds is not None:
            return seconds / 60 * self.per_minute
        return None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    kind: str  # "chat" | "image" | "transcribe" | "speech" | "moderation"
    known: bool
    reasoning: bool = False
    family: str | None = None
    context_window: int | None = None
    max_output: int | None = None
    price: Price | None = None
    shutdown_date: date | None = None
    audio_price: AudioPrice | None = None
    vision: bool | None = None  # reads image parts; None: not known (a compatible server's)

    @property
    def takes_images(self) -> bool:
        """False only for a model the catalog knows does not read images."""
        return self.vision is not False

    @property
    def takes_temperature(self) -> bool:
        """Reasoning models accept only the default temperature, so the control is hidden."""
        return not self.reasoning

    @property
    def token_limit_param(self) -> str:
        """Reasoning models reject ``max_tokens``; older and compatible servers want it."""
        return "max_completion_tokens" if self.reasoning else "max_tokens"

    def cost(
        self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
    ) -> float | None:
        """USD for one call, or None when the price is unknown (never a guess)."""
        if self.price is None:
            return None
        cached_rate = (
            self.price.cached_input if self.price.cached_input is not None else self.price.input
        )
        uncached = max(prompt_tokens - cached_tokens, 0)
        return (
            uncached * self.price.input
            + cached_tokens * cached_rate
            + completion_tokens * self.price.output
        ) / 1_000_000

    def status(self, today: date) -> Status:
        if self.shutdown_date is None:
            return Status.CURRENT
        return Status.RETIRED if self.shutdown_date <= today else Status.RETIRING


@dataclass(frozen=True)
class LiveModel:
    """One entry of ``GET /v1/models``."""

    id: str
    shutdown_date: date | None = None


def parse_date(value: object) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class Catalog:
    def __init__(self, data: dict) -> None:
        self.prices_read: str = data.get("prices_read", "")
        self.default_chat_model: str = data["default_chat_model"]
        self.default_image_model: str = data["default_image_model"]
        self._defaults = {
            "chat": self.default_chat_model,
            "image": self.default_image_model,
            "transcribe": data.get("default_transcribe_model", ""),
            "speech": data.get("default_speech_model", ""),
            "moderation": data.get("default_moderation_model", ""),
        }
        self._specs: dict[str, ModelSpec] = {}
        for model_id, raw in data["models"].items():
            price = raw.get("price")
            audio = raw.get("audio_price")
            self._specs[model_id] = ModelSpec(
                id=model_id,
                kind=raw["kind"],
                known=True,
                reasoning=bool(raw.get("reasoning", False)),
                family=raw.get("family"),
                context_window=raw.get("context_window"),
                max_output=raw.get("max_output"),
                price=Price(price["input"], price["output"], price.get("cached_input"))
                if price
                else None,
                shutdown_date=parse_date(raw.get("shutdown_date")),
                audio_price=AudioPrice(**audio) if audio else None,
                vision=raw.get("vision"),
            )

    def spec(self, model_id: str) -> ModelSpec:
        """The spec for an id; dated snapshots inherit their alias's spec; unknown ids get a
        permissive chat spec (OpenAI-compatible servers) with no price."""
        if model_id in self._specs:
            return self._specs[model_id]
        base = _DATED_SUFFIX.sub("", model_id)
        if base in self._specs:
            return replace(self._specs[base], id=model_id)
        kind = "image" if any(m in model_id for m in ("image", "dall-e")) else "chat"
        family = "dall-e" if "dall-e" in model_id else ("gpt-image" if kind == "image" else None)
        return ModelSpec(id=model_id, kind=kind, known=False, family=family)

    def known_ids(self, kind: str) -> list[str]:
        return [m for m, s in self._specs.items() if s.kind == kind]

    def choices(
        self, kind: str, today: date, live: list[LiveModel] | None = None
    ) -> list[ModelSpec]:
        """Models to offer for ``kind``: the live list when we have one (its shutdown dates
        win), else the catalog's own ids. Current first, then retiring, retired last."""
        if live is None:
            specs = [self._specs[m] for m in self.known_ids(kind)]
        else:
            specs = []
            for item in live:
                spec = self.spec(item.id)
                if spec.kind != kind:
                    continue
                if kind == "chat" and not spec.known and any(m in item.id for m in _NOT_CHAT):
                    continue
                if item.shutdown_date is not None:
                    spec = replace(spec, shutdown_date=item.shutdown_date)
                specs.append(spec)
        order = {Status.CURRENT: 0, Status.RETIRING: 1, Status.RETIRED: 2}
        known_order = {m: i for i, m in enumerate(self._specs)}
        return sorted(
            specs,
            key=lambda s: (order[s.status(today)], known_order.get(s.id, len(known_order)), s.id),
        )

    def default(self, kind: str, choices: list[ModelSpec], today: date) -> ModelSpec | None:
        """The catalog's default when offered and not retired, else the first usable choice.
        A retired model is never the default."""
        preferred = self._defaults.get(kind, "")
        usable = [c for c in choices if c.status(today) is not Status.RETIRED]
        for c in usable:
            if c.id == preferred:
                return c
        return usable[0] if usable else None


@cache
def load_catalog(path: Path = DATA_FILE) -> Catalog:
    """The catalog from its data file, read once per process."""
    return Catalog(json.loads(path.read_text(encoding="utf-8")))
