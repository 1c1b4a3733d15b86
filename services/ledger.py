"""The cost ledger: chat and image spending side by side, per UTC day, per conversation and
per comparison run, and the Karlo images counted against Kakao's monthly free quota.

Sums come from the database (the conversation and image stores); this module joins them.
Costs the app could not price are counted, never guessed: a total that includes them is a
lower bound, and says so through ``incomplete``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from services.images.registry import PROVIDERS
from services.storage.conversations import ConversationCost, ConversationStore
from services.storage.images import CompareLaneRow, CompareRunRow, ImageStore
from services.votes import VoteOutcome

KARLO = PROVIDERS["karlo"]  # the provider with a monthly free quota the costs tab shows


@dataclass(frozen=True)
class LedgerDay:
    """One UTC day of spending. ``*_unpriced`` count calls with no known price."""

    day: date
    chat_cost_usd: float = 0.0
    chat_messages: int = 0
    chat_unpriced: int = 0
    image_cost_usd: float = 0.0
    images: int = 0
    image_unpriced: int = 0
    image_estimate: bool = False

    @property
    def total_usd(self) -> float:
        return self.chat_cost_usd + self.image_cost_usd

    @property
    def chat_incomplete(self) -> bool:
        return self.chat_unpriced > 0

    @property
    def image_incomplete(self) -> bool:
        return self.image_unpriced > 0

    @property
    def incomplete(self) -> bool:
        return self.chat_incomplete or self.image_incomplete


@dataclass(frozen=True)
class LedgerTotals:
    """Sums over a list of days, with the same lower-bound flags."""

    chat_cost_usd: float
    chat_incomplete: bool
    image_cost_usd: float
    image_incomplete: bool
    images: int

    @property
    def total_usd(self) -> float:
        return self.chat_cost_usd + self.image_cost_usd

    @property
    def incomplete(self) -> bool:
        return self.chat_incomplete or self.image_incomplete


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
    """The sums of ``days``; incomplete when any day is."""
    days = list(days)
    return LedgerTotals(
        chat_cost_usd=sum(d.chat_cost_usd for d in days),
        chat_incomplete=any(d.chat_incomplete for d in days),
        image_cost_usd=sum(d.image_cost_usd for d in days),
        image_incomplete=any(d.image_incomplete for d in days),
        images=sum(d.images for d in days),
    )


class CostLedger:
    """One owner's spending, read from the conversation and image stores."""

    def __init__(self, conversations: ConversationStore, images: ImageStore) -> None:
        self.conversations = conversations
        self.images = images

    def days(self, since: date | None = None, until: date | None = None) -> list[LedgerDay]:
        """Chat and image spending per UTC day (oldest first), only days with activity;
        ``until`` includes that day."""
        merged: dict[date, LedgerDay] = {}
        for chat in self.conversations.cost_by_day(since, until):
            merged[chat.day] = LedgerDay(
                chat.day,
                chat_cost_usd=chat.cost_usd,
                chat_messages=chat.messages,
                chat_unpriced=chat.unpriced,
            )
        for image in self.images.cost_ledger(since, until):
            chat_day = merged.get(image.day, LedgerDay(image.day))
            merged[image.day] = LedgerDay(
                image.day,
                chat_cost_usd=chat_day.chat_cost_usd,
                chat_messages=chat_day.chat_messages,
                chat_unpriced=chat_day.chat_unpriced,
                image_cost_usd=image.cost_usd,
                images=image.images,
                image_unpriced=image.unpriced_calls,
                image_estimate=image.has_estimate,
            )
        return [merged[d] for d in sorted(merged)]

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
        if since is not None:
            stmt = stmt.where(run.created_at >= datetime.combine(since, time.min))
        if until is not None:
            stmt = stmt.where(
                run.created_at < datetime.combine(until + timedelta(days=1), time.min)
            )
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
            .filter(lane.cost_usd.is_(None), lane.image_count > 0)
            .label("unpriced"),
            func.count(lane.id).filter(lane.cost_is_estimate.is_(True)).label("estimated"),
        )
        .where(lane.owner_id == owner)
        .group_by(lane.run_id)
        .subquery()
    )
