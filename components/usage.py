"""Token and cost figures as short captions."""

from __future__ import annotations

from services.i18n import Translator


def format_cost(cost: float | None, t: Translator) -> str:
    """Dollars with enough digits for tiny calls; 'unknown' rather than a wrong number."""
    if cost is None:
        return t("common.cost_unknown")
    if cost == 0:
        return "$0"
    return f"${cost:.6f}" if cost < 0.01 else f"${cost:.4f}"


def format_tokens(prompt: int | None, completion: int | None, t: Translator) -> str:
    return t("common.tokens", prompt=f"{prompt or 0:,}", completion=f"{completion or 0:,}")
