"""Sentences and figures in the user's language, shared by the web app and the terminal app:
an error as the sentence a person can act on, a spending-limit refusal with its figures, costs
and token counts. ``quote`` escapes values taken from outside (Markdown on a web page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo

from services.budget import LimitExceeded, LimitKind
from services.chat_images import MAX_IMAGES, MAX_SIDE, MAX_UPLOAD_MB
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images.lane_watch import LaneProgress
from services.images.registry import error_message_key
from services.moderation import CATEGORIES, category_key
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


def shown_time(moment: datetime, zone: tzinfo = UTC, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (naive means UTC) in the reader's ``zone``, with the zone's abbreviation:
    '2026-03-01 18:05 KST'."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(zone)
    return f"{local.strftime(pattern)} {local.tzname() or ''}".rstrip()


def resets_text(
    resets_at: datetime, t: Translator, now: datetime | None = None, zone: tzinfo = UTC
) -> str:
    """The daily reset in the reader's time zone: '09:00 KST (in 5 h 12 min)'."""
    now = now or utcnow()
    minutes = max(int((resets_at - now).total_seconds() // 60) + 1, 1)
    return t(
        "budget.resets_in",
        time=shown_time(resets_at, zone, "%H:%M"),
        hours=minutes // 60,
        minutes=minutes % 60,
    )


def limit_text(err: LimitExceeded, t: Translator, zone: tzinfo = UTC) -> str:
    """The refusal in the user's language: what is used, what is left, when it resets."""
    if err.limit is LimitKind.DAILY_BUDGET:
        text = t(
            "budget.exceeded",
            spent=format_cost(err.used, t),
            budget=format_cost(err.allowed, t),
            remaining=format_cost(err.remaining, t),
            estimate=format_cost(err.asked, t),
            resets=resets_text(err.resets_at, t, zone=zone) if err.resets_at else "",
        )
        return f"{text} {t('budget.unpriced_counted')}" if err.unpriced else text
    if err.limit is LimitKind.KARLO_MONTHLY:
        return t(
            "budget.karlo_exceeded",
            used=int(err.used),
            cap=int(err.allowed),
            asked=int(err.asked),
            resets=(
                t("budget.resets_on", date=shown_time(err.resets_at, zone)) if err.resets_at else ""
            ),
        )
    allowed = int(err.allowed)
    return t(f"budget.{err.limit}", count=allowed, allowed=allowed, asked=int(err.asked))


def error_text(
    err: ChatCanvasError,
    t: Translator,
    *,
    quote: Callable[[str], str] = str,
    zone: tzinfo = UTC,
) -> str:
    """The sentence for ``err`` in the translator's language (locales/<lang>/errors.json);
    times in the reader's ``zone``."""
    if isinstance(err, LimitExceeded):
        return limit_text(err, t, zone)
    if err.kind is ErrorKind.RATE_LIMIT and err.retry_after:
        return t("errors.rate_limit_after", count=int(err.retry_after + 0.999))
    if err.kind is ErrorKind.UNSUPPORTED_PARAMETER:
        return t("errors.unsupported_parameter", param=quote(err.param or "?"))
    if err.kind is ErrorKind.BAD_IMPORT:
        return t("errors.bad_import", field=quote(err.param or "?"))
    if err.kind is ErrorKind.NO_VISION:
        return t("errors.no_vision", model=quote(err.param or "?"))
    if err.kind is ErrorKind.ATTACHMENT_REFUSED:
        return attachment_text(err, t, quote)
    return t(f"errors.{err.kind}")


def attachment_text(err: ChatCanvasError, t: Translator, quote: Callable[[str], str]) -> str:
    """Why an attached file was refused, with the limits that apply."""
    reason = t(f"errors.attachment.{err.code or 'unreadable'}", count=MAX_IMAGES)
    limits = t("errors.attachment.limits", count=MAX_IMAGES, mb=MAX_UPLOAD_MB, side=MAX_SIDE)
    return (
        t("errors.attachment_refused", name=quote(err.param or "?"), reason=reason) + " " + limits
    )


def image_error_text(
    err: ChatCanvasError, t: Translator, *, quote: Callable[[str], str] = str
) -> str:
    """The sentence for an image lane's ``err``: the provider's own wording where the shared
    one would mislead (a wrong Kakao key is not an OpenAI key), else :func:`error_text`."""
    key = error_message_key(err)
    if key.startswith("errors."):
        return error_text(err, t, quote=quote)
    return t(key, detail=quote(err.detail))  # e.g. the command that downloads missing weights


def lane_progress_text(progress: LaneProgress, t: Translator) -> str:
    """Where a running lane is: on this machine its place in the queue, loading, or its step;
    a streaming lane its latest preview and first pixels; any other how long it has run."""
    if progress.partial is not None:
        first = f"{(progress.first_pixels_ms or 0) / 1000:.1f}"
        n, count = progress.partial_index + 1, max(progress.partials, progress.partial_index + 1)
        return t("images.stream_partial", n=n, count=count, first=first, seconds=progress.elapsed)
    if progress.waiting:
        return t("images.local.waiting", count=progress.waiting)
    if progress.loading:
        return t("images.local.loading")
    if progress.steps:
        return t("images.local.step", step=progress.step, steps=progress.steps)
    return t("images.stream_elapsed", seconds=progress.elapsed)


def moderation_categories(categories: Sequence[str], t: Translator) -> str:
    """Flagged moderation categories as words in the user's language ("violence, hate"); a
    category this version does not know is named as "another category"."""
    words = [
        t(category_key(c) if c in CATEGORIES else "moderation.categories.unknown")
        for c in categories
    ]
    return ", ".join(dict.fromkeys(words)) or t("moderation.categories.unknown")
