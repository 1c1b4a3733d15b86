"""The cost ledger: chat and image spending side by side, per UTC day, per conversation and
per comparison run, and the Karlo images counted against Kakao's monthly free quota.

The days come from the usage events (services/storage/usage.py), where services/budget.py
records every paid call once as it ends, in local and shared mode, whoever's key paid: chat
turns, every Prompt Studio step and re-run, translations for Karlo and image lanes, replies
later replaced or deleted included. A call without the provider's figures (a stopped reply, a
model without a known price) is recorded at our estimate and flagged, so a sum that holds one
is shown as an estimate. Karlo's images are free within Kakao's monthly quota: $0, with the
quota beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from services.images.registry import PROVIDERS, is_free
from services.storage.conversations import ConversationCost, ConversationStore
from services.storage.db import within_days
from services.storage.images import CompareLaneRow, CompareRunRow, ImageStore
from services.storage.usage import UsageStore
from services.votes import VoteOutcome

KARLO = PROVIDERS["karlo"]  # the provider with a monthly free quota the costs tab shows
# calls to OpenAI's chat, voice and moderation models, by what they were for (voice:
# services/speech.py; moderation, free and recorded at $0: services/moderation.py)
TEXT_KINDS = ("chat", "studio", "translate", "transcribe", "speech", "moderation")
AUDIO_KINDS = ("transcribe", "speech")
FREE = tuple(name for name in PROVIDERS if is_free(name))  # $0 within a free quota (Karlo)


@dataclass(frozen=True)
class LedgerDay:
    """One UTC day of spending. ``chat_*`` covers every call to a chat or voice model (chat
    turns, studio steps, translations, transcriptions, read-aloud; ``studio_cost_usd``,
    ``translate_cost_usd`` and ``audio_cost_usd`` are parts of it); ``*_estimated`` count
    calls whose cost is our estimate."""

    day: date
    chat_cost_usd: float = 0.0
    chat_calls: int = 0
    chat_estimated: int = 0
    studio_cost_usd: float = 0.0
    translate_cost_usd: float = 0.0
    audio_cost_usd: float = 0.0  # transcription and read-aloud
    image_cost_usd: float = 0.0
    images: int = 0
    image_estimated: int = 0

    @property
    def total_usd(self) -> float:
        return self.chat_cost_usd + self.image_cost_usd

    @property
    def chat_estimate(self) -> bool:
        return self.chat_estimated > 0

    @property
    def image_estimate(self) -> bool:
        return self.image_estimated > 0

    @property
    def estimate(self) -> bool:
        return self.chat_estimate or self.image_estimate


@dataclass(frozen=True)
class LedgerTotals:
    """Sums over a list of days, with the same estimate flags."""

    chat_cost_usd: float
    chat_estimate: bool
    image_cost_usd: float
    image_estimate: bool
    images: int
    studio_cost_usd: float = 0.0
    translate_cost_usd: float = 0.0
    audio_cost_usd: float = 0.0

    @property
    def total_usd(self) -> float:
        return self.chat_cost_usd + self.image_cost_usd

    @property
    def estimate(self) -> bool:
        return self.chat_estimate or self.image_estimate


@dataclass(frozen=True)
class RunCost:
    """What one comparison run cost, from its calls (deleted images still count)."""

    id: str
    prompt: str
    created_at: datetime
    lanes: int
    images: int
    cost_usd: float
    unpriced: int  # lanes that made images without a known price
    has_estimate: bool
    outcome: VoteOutcome | None  # None: not voted

    @property
    def incomplete(self) -> bool:
        return self.unpriced > 0


@dataclass(frozen=True)
class KarloQuota:
    used: int
    free: int = KARLO.monthly_free_images or 0

    @property
    def share(self) -> float:
        """How much of the free quota is used, 0.0 to 1.0 (capped)."""
        return min(self.used / self.free, 1.0) if self.free else 1.0

    @property
    def exceeded(self) -> bool:
        return self.used > self.free


def totals(days: Iterable[LedgerDay]) -> LedgerTotals:
    """The sums of ``days``; an estimate when any day holds one."""
    days = list(days)
    return LedgerTotals(
        chat_cost_usd=sum(d.chat_cost_usd for d in days),
        chat_estimate=any(d.chat_estimate for d in days),
        image_cost_usd=sum(d.image_cost_usd for d in days),
        image_estimate=any(d.image_estimate for d in days),
        images=sum(d.images for d in days),
        studio_cost_usd=sum(d.studio_cost_usd for d in days),
        translate_cost_usd=sum(d.translate_cost_usd for d in days),
        audio_cost_usd=sum(d.audio_cost_usd for d in days),
    )


class CostLedger:
    """One owner's spending: the days from the usage events, the costliest conversations and
    comparison runs from the conversation and image stores."""

    def __init__(
        self, conversations: ConversationStore, images: ImageStore, usage: UsageStore
    ) -> None:
        self.conversations = conversations
        self.images = images
        self.usage = usage

    def days(self, since: date | None = None, until: date | None = None) -> list[LedgerDay]:
        """Chat and image spending per UTC day (oldest first), only days with paid calls;
        ``until`` includes that day."""
        merged: dict[date, dict[str, float]] = {}
        for part in self.usage.cost_by_day(since, until):
            day = merged.setdefault(part.day, {})
            side = "chat" if part.kind in TEXT_KINDS else "image"
            day[f"{side}_cost_usd"] = day.get(f"{side}_cost_usd", 0.0) + part.cost_usd
            day[f"{side}_estimated"] = day.get(f"{side}_estimated", 0) + part.estimated
            if side == "chat":
                day["chat_calls"] = day.get("chat_calls", 0) + part.calls
            else:
                day["images"] = day.get("images", 0) + part.images
            if part.kind in ("studio", "translate"):
                day[f"{part.kind}_cost_usd"] = part.cost_usd
            if part.kind in AUDIO_KINDS:
                day["audio_cost_usd"] = day.get("audio_cost_usd", 0.0) + part.cost_usd
        return [LedgerDay(d, **merged[d]) for d in sorted(merged)]

    def top_conversations(
        self, limit: int = 10, since: date | None = None, until: date | None = None
    ) -> list[ConversationCost]:
        """The conversations that cost the most over the period."""
        return self.conversations.most_expensive(limit=limit, since=since, until=until)

    def top_runs(
        self, limit: int = 10, since: date | None = None, until: date | None = None
    ) -> list[RunCost]:
        """The comparison runs that cost the most over the period, from their lanes."""
        per_run = _lane_sums(self.images.owner_id)
        run = CompareRunRow
        stmt = (
            select(
                run.id,
                run.prompt,
                run.created_at,
                per_run.c.lanes,
                per_run.c.images,
                per_run.c.cost,
                per_run.c.unpriced,
                per_run.c.estimated,
                run.outcome,
            )
            .join(per_run, per_run.c.run_id == run.id)
            .where(run.owner_id == self.images.owner_id)
        )
        stmt = within_days(stmt, run.created_at, since, until)
        stmt = stmt.order_by(
            per_run.c.cost.desc(), per_run.c.unpriced.desc(), run.created_at.desc()
        ).limit(limit)
        with self.images.db.session() as s:
            rows = s.execute(stmt).all()
        return [
            RunCost(
                id=run_id,
                prompt=prompt,
                created_at=created_at,
                lanes=int(lanes),
                images=int(images),
                cost_usd=float(cost_usd),
                unpriced=int(unpriced),
                has_estimate=bool(estimated),
                outcome=VoteOutcome.load(outcome),
            )
            for run_id, prompt, created_at, lanes, images, cost_usd, unpriced, estimated, outcome in rows
        ]

    def karlo_quota(self, today: date | None = None) -> KarloQuota:
        """Karlo images made this month (deleted ones too) beside the free quota."""
        return KarloQuota(self.images.images_this_month(KARLO.name, today))


def _lane_sums(owner: str):
    """Per run of ``owner``: lanes, images, cost, lanes unpriced and lanes estimated."""
    lane = CompareLaneRow
    return (
        select(
            lane.run_id,
            func.count(lane.id).label("lanes"),
            func.coalesce(func.sum(lane.image_count), 0).label("images"),
            func.coalesce(func.sum(lane.cost_usd), 0.0).label("cost"),
            func.count(lane.id)
            .filter(lane.cost_usd.is_(None), lane.image_count > 0, lane.provider.not_in(FREE))
            .label("unpriced"),
            func.count(lane.id).filter(lane.cost_is_estimate.is_(True)).label("estimated"),
        )
        .where(lane.owner_id == owner)
        .group_by(lane.run_id)
        .subquery()
    )
