"""``chatcanvas costs``: the cost ledger (chat and images by day) and the costliest
conversations, from services/ledger.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from rich.table import Table

from chatcanvas.render import printable
from chatcanvas.session import Session
from services.ledger import LedgerDay, totals
from services.wording import format_cost


def days_table(session: Session, days: list[LedgerDay]) -> Table:
    t = session.t
    grid = Table(title=t("cli.costs.by_day"), title_justify="left")
    for key in ("day", "chat", "calls", "images", "image_count", "total"):
        grid.add_column(t(f"cli.costs.column.{key}"), justify="left" if key == "day" else "right")
    for day in days:
        mark = "*" if day.estimate else ""
        grid.add_row(
            day.day.isoformat(),
            format_cost(day.chat_cost_usd, t),
            str(day.chat_calls),
            format_cost(day.image_cost_usd, t),
            str(day.images),
            format_cost(day.total_usd, t) + mark,
        )
    return grid


def command(t) -> click.Command:
    @click.command("costs", help=t("cli.costs.help"))
    @click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660))
    @click.pass_obj
    def costs(session: Session, days: int) -> None:
        ledger, t = session.services.ledger, session.t
        since = datetime.now(UTC).date() - timedelta(days=days - 1)  # the ledger counts UTC days
        ledger_days = ledger.days(since=since)
        if not ledger_days:
            session.note("cli.costs.none", days=days)
            return
        session.out.print(days_table(session, ledger_days))
        total = totals(ledger_days)
        key = "cli.costs.total_estimate" if total.estimate else "cli.costs.total"
        session.out.print(t(key, days=days, cost=format_cost(total.total_usd, t)), markup=False)
        quota = ledger.karlo_quota()
        if quota.used:
            session.out.print(t("cli.costs.karlo", count=quota.used, free=quota.free), markup=False)
        for item in ledger.top_conversations(limit=5, since=since):
            title = printable(item.title or item.id)
            line = t("cli.costs.conversation", title=title, cost=format_cost(item.cost_usd, t))
            session.out.print(line, markup=False, highlight=False)

    return costs
