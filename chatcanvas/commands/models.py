"""``chatcanvas models``: the live model list merged with the catalog: status, shutdown date,
price and context window, as the web app's model picker sees them."""

from __future__ import annotations

from datetime import date

import click
from rich.table import Table
from rich.text import Text

from chatcanvas.render import printable
from chatcanvas.session import Session
from services.catalog import LiveModel, ModelSpec, Status
from services.errors import ChatCanvasError

KINDS = ("chat", "image")


def live_models(session: Session) -> list[LiveModel] | None:
    """``GET /v1/models``; None (the catalog alone, said on standard error) when it fails."""
    try:
        return session.services.chat.list_models()
    except ChatCanvasError as err:
        session.report(err)
        session.note("cli.models.catalog_only")
        return None


def price(spec: ModelSpec) -> tuple[str, str]:
    if spec.price is None:
        return "-", "-"
    return f"${spec.price.input:g}", f"${spec.price.output:g}"


def table(session: Session, kind: str, specs: list[ModelSpec], today: date) -> Table:
    t = session.t
    grid = Table(title=t(f"cli.models.kind.{kind}"), title_justify="left")
    for key in ("model", "status", "shutdown", "input", "output", "context"):
        grid.add_column(t(f"cli.models.column.{key}"))
    for spec in specs:
        status = spec.status(today)
        style = {Status.RETIRING: "yellow", Status.RETIRED: "dim"}.get(status)
        shutdown = spec.shutdown_date.isoformat() if spec.shutdown_date else "-"
        context = f"{spec.context_window:,}" if spec.context_window else "-"
        # a model id comes from the server: plain text, never markup or escape sequences
        row = (
            Text(printable(spec.id)),
            t(f"cli.models.status.{status}"),
            shutdown,
            *price(spec),
            context,
        )
        grid.add_row(*row, style=style)
    return grid


def command(t) -> click.Command:
    @click.command("models", help=t("cli.models.help"))
    @click.pass_obj
    def models(session: Session) -> None:
        live = live_models(session)
        today = date.today()
        for kind in KINDS:
            specs = session.catalog.choices(kind, today, live)
            if specs:
                session.out.print(table(session, kind, specs, today))
        session.note("cli.models.prices_read", date=session.catalog.prices_read)

    return models
