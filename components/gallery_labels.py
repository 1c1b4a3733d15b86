"""Short texts the gallery pieces share: provider names, vote outcomes, costs."""

from __future__ import annotations

from services.i18n import Translator
from services.images import PROVIDERS
from services.markdown_safety import escape_markdown
from services.votes import VoteOutcome
from services.wording import format_cost


def provider_label(provider: str, t: Translator) -> str:
    """The provider's display name; its id when it is not registered (any more)."""
    entry = PROVIDERS.get(provider)
    return t(entry.label_key) if entry else provider


def vote_label(outcome: VoteOutcome | None, t: Translator) -> str:
    """A comparison run's vote: "Lane 2 won", "Tie", "Both bad" or "Not voted yet"."""
    if outcome is None:
        return t("gallery.vote.none")
    if outcome.lane is not None:
        return t("gallery.vote.lane_won", n=outcome.lane + 1)
    return t(f"images.vote.{outcome.kind}")


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
