"""Usage events: one row per paid call, whoever's key paid for it.

The spending limits read this table (services/budget.py), so a call counts the moment it ends,
whether it was a chat turn, a Prompt Studio step, a translation for Karlo or an image lane,
and whether its result was kept, replaced or deleted afterwards. ``own_key`` marks calls on a
key the user typed in the sidebar: they are recorded (for the ledger and the admin page) but
never charged against the deployer's budget. ``estimated``: the cost is our estimate (a
stopped stream without usage, or a model without a known price counted at the catalog's
highest price), not the provider's figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.db import Base, Database, utcnow, within_days


class UsageEventRow(Base):
    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(
        String(16)
    )  # chat | studio | translate | transcribe | speech | image
    provider: Mapped[str] = mapped_column(String(16))  # openai | karlo
    model: Mapped[str] = mapped_column(Text())  # a typed model id has no natural length limit
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    own_key: Mapped[bool] = mapped_column(Boolean, default=False)
    images: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class UsageEvent:
    """One paid call as recorded."""

    kind: str
    provider: str
    model: str
    cost_usd: float
    estimated: bool = False
    own_key: bool = False
    images: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class UsageDay:
    """One UTC day's calls of one kind (chat, studio, translate, transcribe, speech, image), summed."""

    day: date
    kind: str
    cost_usd: float
    calls: int
    estimated: int  # calls whose cost is our estimate
    images: int


class UsageStore:
    """One owner's usage events."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id

    def add(self, event: UsageEvent) -> None:
        """Record one paid call (``created_at`` defaults to now, UTC)."""
        row = UsageEventRow(
            owner_id=self.owner_id,
            kind=event.kind,
            provider=event.provider,
            model=event.model[:200],
            cost_usd=event.cost_usd,
            estimated=event.estimated,
            own_key=event.own_key,
            images=event.images,
        )
        if event.created_at is not None:
            row.created_at = event.created_at
        with self.db.session() as s:
            s.add(row)
            s.commit()

    def charged_usd(self, since: datetime, until: datetime) -> float:
        """What the deployer's keys paid for this owner in [since, until)."""
        row = UsageEventRow
        stmt = select(func.coalesce(func.sum(row.cost_usd), 0.0)).where(
            row.owner_id == self.owner_id,
            row.own_key.is_(False),
            row.created_at >= since,
            row.created_at < until,
        )
        with self.db.session() as s:
            return float(s.execute(stmt).scalar_one())

    def charged_images(self, provider: str, since: datetime, until: datetime) -> int:
        """Images made with the deployer's ``provider`` key for this owner in [since, until)."""
        row = UsageEventRow
        stmt = select(func.coalesce(func.sum(row.images), 0)).where(
            row.owner_id == self.owner_id,
            row.own_key.is_(False),
            row.provider == provider,
            row.created_at >= since,
            row.created_at < until,
        )
        with self.db.session() as s:
            return int(s.execute(stmt).scalar_one())

    def has_estimates(self, since: datetime, until: datetime) -> bool:
        """True when some charged cost in [since, until) is our estimate."""
        row = UsageEventRow
        stmt = select(func.count(row.id)).where(
            row.owner_id == self.owner_id,
            row.own_key.is_(False),
            row.estimated.is_(True),
            row.created_at >= since,
            row.created_at < until,
        )
        with self.db.session() as s:
            return bool(s.execute(stmt).scalar_one())

    def cost_by_day(self, since: date | None = None, until: date | None = None) -> list[UsageDay]:
        """Every recorded call (whoever's key paid) per UTC day and kind, oldest first;
        ``until`` includes that day. Summed in the database."""
        row = UsageEventRow
        day = func.date(row.created_at)
        stmt = select(
            day,
            row.kind,
            func.coalesce(func.sum(row.cost_usd), 0.0),
            func.count(row.id),
            func.count(row.id).filter(row.estimated.is_(True)),
            func.coalesce(func.sum(row.images), 0),
        ).where(row.owner_id == self.owner_id)
        stmt = within_days(stmt, row.created_at, since, until)
        with self.db.session() as s:
            rows = s.execute(stmt.group_by(day, row.kind).order_by(day, row.kind)).all()
        return [
            UsageDay(
                d if isinstance(d, date) else date.fromisoformat(str(d)[:10]),
                kind,
                float(cost),
                int(calls),
                int(estimated),
                int(images),
            )
            for d, kind, cost, calls, estimated, images in rows
        ]
