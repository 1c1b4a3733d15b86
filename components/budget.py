"""Spending limits on screen: the refusal message with its figures, the sidebar caption."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.times import browser_zone
from services.budget import Budget
from services.i18n import Translator
from services.wording import format_cost, resets_text


def budget_caption(budget: Budget, t: Translator) -> Callable[[], None]:
    """A small sidebar line in shared mode: today's remaining budget on the deployer's key.
    Returns what redraws it in place (a chat turn that ends without a new page run)."""
    slot = st.sidebar.empty()

    def draw() -> None:
        if not budget.daily_budget_applies():  # nothing to show: spare the queries
            return
        status = budget.status()
        slot.caption(
            t(
                "budget.sidebar",
                remaining=format_cost(status.remaining_usd, t),
                budget=format_cost(status.budget_usd, t),
                resets=resets_text(status.resets_at, t, zone=browser_zone()),
            ),
            help=t("budget.sidebar_help"),
        )

    draw()
    return draw
