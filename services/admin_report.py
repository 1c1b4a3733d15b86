"""What the admins of a shared deployment see: who uses it and what each person spends on
the deployer's keys, summed across owners in the database.

Spending is the same data the cost ledger reads (chat replies, Prompt Studio runs and image
lanes with their recorded costs); calls whose price was unknown are counted as calls and
make a total a lower bound (``unpriced``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from services.identity import SignedInUser, is_admin
from services.settings import Access
from services.storage.chains import StudioRunRow
from services.storage.conversations import MessageRow
from services.storage.db import Database
from services.storage.images import CompareLaneRow
from services.storage.users import UserRecord, UserStore


@dataclass(frozen=True)
class OwnerDay:
    """One owner's spending on one UTC day."""

    owner_id: str
    day: date
    cost_usd: float
    calls: int
    unpriced: int


@dataclass(frozen=True)
class UserSpend:
    """One user's line on the admin page."""

    user: UserRecord
    is_admin: bool
    today_usd: float
    month_usd: float
    calls_today: int
    calls_month: int
    unpriced_today: int
    unpriced_month: int


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _chat_replies(start: datetime, end: datetime) -> Select:
    m, day = MessageRow, func.date(MessageRow.created_at)
    unpriced = func.count(m.id).filter(m.completion_tokens.is_not(None), m.cost_usd.is_(None))
    return (
        select(
            m.owner_id, day, func.coalesce(func.sum(m.cost_usd), 0.0), func.count(m.id), unpriced
        )
        .where(m.role == "assistant", m.created_at >= start, m.created_at < end)
        .group_by(m.owner_id, day)
    )


def _studio_runs(start: datetime, end: datetime) -> Select:
    r, day = StudioRunRow, func.date(StudioRunRow.created_at)
    unpriced = func.count(r.id).filter(r.cost_incomplete.is_(True))
    return (
        select(
            r.owner_id, day, func.coalesce(func.sum(r.cost_usd), 0.0), func.count(r.id), unpriced
        )
        .where(r.created_at >= start, r.created_at < end)
        .group_by(r.owner_id, day)
    )


def _image_lanes(start: datetime, end: datetime) -> Select:
    lane, day = CompareLaneRow, func.date(CompareLaneRow.created_at)
    unpriced = func.count(lane.id).filter(lane.cost_usd.is_(None), lane.image_count > 0)
    return (
        select(
            lane.owner_id,
            day,
            func.coalesce(func.sum(lane.cost_usd), 0.0),
            func.count(lane.id),
            unpriced,
        )
        .where(lane.created_at >= start, lane.created_at < end)
        .group_by(lane.owner_id, day)
    )


def spend_by_owner_day(db: Database, since: date, until: date) -> list[OwnerDay]:
    """Every owner's spending per UTC day from ``since`` to ``until`` (inclusive): chat
    replies, studio runs and image lanes, each summed in the database, then merged."""
    start = datetime.combine(since, time.min)
    end = datetime.combine(until + timedelta(days=1), time.min)
    merged: dict[tuple[str, date], list] = defaultdict(lambda: [0.0, 0, 0])
    with db.session() as s:
        for query in (_chat_replies, _studio_runs, _image_lanes):
            for owner, d, cost, calls, unpriced in s.execute(query(start, end)).all():
                totals = merged[(owner, _as_date(d))]
                totals[0] += float(cost)
                totals[1] += int(calls)
                totals[2] += int(unpriced)
    return [
        OwnerDay(owner, d, cost, calls, unpriced)
        for (owner, d), (cost, calls, unpriced) in sorted(merged.items(), key=lambda i: i[0][1])
    ]


class AdminReport:
    """Users and their spending across every owner of one database."""

    def __init__(self, db: Database, access: Access) -> None:
        self.db = db
        self.access = access
        self.users = UserStore(db)

    def user_spend(self, today: date) -> list[UserSpend]:
        """Every user who signed in, most recently seen first, with today's and this
        month's spending and calls (UTC days)."""
        month: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, 0, 0, 0])
        for row in spend_by_owner_day(self.db, today.replace(day=1), today):
            totals = month[row.owner_id]
            totals[1] += row.cost_usd
            totals[3] += row.calls
            totals[4] += row.unpriced
            if row.day == today:
                totals[0] += row.cost_usd
                totals[2] += row.calls
                totals[5] += row.unpriced
        return [
            UserSpend(
                user=record,
                is_admin=is_admin(
                    SignedInUser(
                        record.issuer,
                        record.subject,
                        email=record.email,
                        email_verified=record.email_verified,
                    ),
                    self.access,
                ),
                today_usd=month[record.owner_id][0],
                month_usd=month[record.owner_id][1],
                calls_today=month[record.owner_id][2],
                calls_month=month[record.owner_id][3],
                unpriced_today=month[record.owner_id][5],
                unpriced_month=month[record.owner_id][4],
            )
            for record in self.users.all()
        ]

    def daily(self, since: date, until: date) -> list[OwnerDay]:
        """Every owner's spending per day over the period, for the chart."""
        return spend_by_owner_day(self.db, since, until)
