"""Short texts the gallery pieces share: provider names, vote outcomes, costs."""

from __future__ import annotations

import re

from components.usage import format_cost
from services.i18n import Translator
from services.images import PROVIDERS
from services.markdown_safety import escape_markdown

_LANE_WON = re.compile(r"^lane:(\d+)$")


def provider_label(provider: str, t: Translator) -> str:
    """The provider's display name; its id when it is not registered (any more)."""
    entry = PROVIDERS.get(provider)
    return t(entry.label_key) if entry else provider


def vote_label(outcome: str | None, t: Translator) -> str:
    """A comparison run's vote: "Lane 2 won", "Tie", "Both bad" or "Not voted yet"."""
    if outcome in ("tie", "both_bad"):
        return t(f"images.vote.{outcome}")
    match = _LANE_WON.match(outcome or "")
    if match:
        return t("gallery.vote.lane_won", n=int(match.group(1)) + 1)
    return t("gallery.vote.none")


def ledger_cost(cost: float, incomplete: bool, t: Translator) -> str:
    """A sum that may leave out unpriced calls: "at least $x", or "unknown" when nothing
    in it had a price."""
    if not incomplete:
        return format_cost(cost, t)
    if cost == 0:
        return format_cost(None, t)
    return t("gallery.costs.at_least", cost=format_cost(cost, t))


def shorten(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def plain(text: str) -> str:
    """User text shown through st.markdown as typed, not as Markdown."""
    return escape_markdown(text)
