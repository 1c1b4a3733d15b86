"""Spending limits on screen: the refusal message with its figures, the sidebar caption."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from components.times import shown_time
from components.usage import format_cost
from services.budget import Budget, LimitExceeded, LimitKind
from services.i18n import Translator
from services.storage.db import utcnow


def resets_text(resets_at: datetime, t: Translator, now: datetime | None = None) -> str:
    """The daily reset in the reader's time zone: '09:00 KST (in 5 h 12 min)'."""
    now = now or utcnow()
    minutes = max(int((resets_at - now).total_seconds() // 60) + 1, 1)
    return t(
        "budget.resets_in",
        time=shown_time(resets_at, "%H:%M"),
        hours=minutes // 60,
        minutes=minutes % 60,
    )


def limit_text(err: LimitExceeded, t: Translator) -> str:
    """The refusal in the user's language: what is used, what is left, when it resets."""
    if err.limit is LimitKind.DAILY_BUDGET:
        text = t(
            "budget.exceeded",
            spent=format_cost(err.used, t),
            budget=format_cost(err.allowed, t),
            remaining=format_cost(err.remaining, t),
            estimate=format_cost(err.asked, t),
            resets=resets_text(err.resets_at, t) if err.resets_at else "",
        )
        return f"{text} {t('budget.unpriced_counted')}" if err.unpriced else text
    if err.limit is LimitKind.KARLO_MONTHLY:
        return t(
            "budget.karlo_exceeded",
            used=int(err.used),
            cap=int(err.allowed),
            asked=int(err.asked),
            resets=t("budget.resets_on", date=shown_time(err.resets_at)) if err.resets_at else "",
        )
    allowed = int(err.allowed)
    return t(f"budget.{err.limit}", count=allowed, allowed=allowed, asked=int(err.asked))


def budget_caption(budget: Budget, t: Translator) -> None:
    """A small sidebar line in shared mode: today's remaining budget on the deployer's key."""
    status = budget.status()
    if not status.limited:
        return
    st.sidebar.caption(
        t(
            "budget.sidebar",
            remaining=format_cost(status.remaining_usd, t),
            budget=format_cost(status.budget_usd, t),
            resets=resets_text(status.resets_at, t),
        ),
        help=t("budget.sidebar_help"),
    )
