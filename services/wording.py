"""Sentences and figures in the user's language, shared by the web app and the terminal app:
an error as the sentence a person can act on, a spending-limit refusal with its figures, costs
and token counts. ``quote`` escapes values taken from outside (Markdown on a web page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.budget import LimitExceeded, LimitKind
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images.registry import error_message_key
from services.storage.db import utcnow


def format_cost(cost: float | None, t: Translator) -> str:
    """Dollars with enough digits for tiny calls; 'unknown' rather than a wrong number."""
    if cost is None:
        return t("common.cost_unknown")
    if cost == 0:
        return "$0"
    return f"${cost:.6f}" if cost < 0.01 else f"${cost:.4f}"


def format_tokens(prompt: int | None, completion: int | None, t: Translator) -> str:
    return t("common.tokens", prompt=f"{prompt or 0:,}", completion=f"{completion or 0:,}")


def resets_text(resets_at: datetime, t: Translator, now: datetime | None = None) -> str:
    """The daily reset: '00:00 UTC (in 5 h 12 min)'."""
    now = now or utcnow()
    minutes = max(int((resets_at - now).total_seconds() // 60) + 1, 1)
    return t(
        "budget.resets_in", time=f"{resets_at:%H:%M}", hours=minutes // 60, minutes=minutes % 60
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
            resets=t("budget.resets_on", date=f"{err.resets_at:%Y-%m-%d}") if err.resets_at else "",
        )
    return t(f"budget.{err.limit}", allowed=int(err.allowed), asked=int(err.asked))


def error_text(err: ChatCanvasError, t: Translator, *, quote: Callable[[str], str] = str) -> str:
    """The sentence for ``err`` in the translator's language (locales/<lang>/errors.json)."""
    if isinstance(err, LimitExceeded):
        return limit_text(err, t)
    if err.kind is ErrorKind.RATE_LIMIT and err.retry_after:
        return t("errors.rate_limit_after", seconds=int(err.retry_after + 0.999))
    if err.kind is ErrorKind.UNSUPPORTED_PARAMETER:
        return t("errors.unsupported_parameter", param=quote(err.param or "?"))
    if err.kind is ErrorKind.BAD_IMPORT:
        return t("errors.bad_import", field=quote(err.param or "?"))
    return t(f"errors.{err.kind}")


def image_error_text(
    err: ChatCanvasError, t: Translator, *, quote: Callable[[str], str] = str
) -> str:
    """The sentence for an image lane's ``err``: the provider's own wording where the shared
    one would mislead (a wrong Kakao key is not an OpenAI key), else :func:`error_text`."""
    key = error_message_key(err)
    return error_text(err, t, quote=quote) if key.startswith("errors.") else t(key)
