"""``chatcanvas grid "prompt 1" "prompt 2" --lane openai:gpt-image-2 --lane karlo``: a
prompt-by-engine grid through the web app's grid service (rows: the prompts given, or a
studio run's idea, steps and final prompt with ``--studio RUN``; columns: the lanes), its
estimate first, a line per cell as it ends, then a table; ``--sheet`` and ``--zip`` write the
contact sheet and the ZIP with its manifest."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from chatcanvas.commands.compare import lane_specs, title
from chatcanvas.main import EXIT_ERROR, EXIT_INTERRUPTED
from chatcanvas.render import printable
from chatcanvas.session import WEB_APP_URL, Refusal, Session
from services.errors import ChatCanvasError
from services.grid import GridRowSpec, GridSpec, studio_variants
from services.grid_export import contact_sheet, grid_zip
from services.images.base import LaneOutcome
from services.storage.grids import StoredGrid
from services.wording import format_cost, image_error_text


def grid_rows(session: Session, prompts: tuple[str, ...], studio: str | None) -> list[GridRowSpec]:
    """The prompts given, then every prompt of studio run ``studio`` (idea, steps, final)."""
    rows = [GridRowSpec(p.strip()) for p in prompts if p.strip()]
    if studio:
        run = session.services.chains.get_run(studio)
        if run is None:
            raise Refusal(session.t("cli.grid.no_studio_run", id=studio))
        rows += studio_variants(run)
    if not rows:
        raise Refusal(session.t("errors.empty_input"))
    return rows


def cell_line(session: Session, spec: GridSpec, row: int, column: int, outcome: LaneOutcome) -> str:
    t = session.t
    lane = spec.lanes[column]
    where = f"{t('grid.row', n=row + 1)} · {title(t, column, lane.provider, lane.model)}"
    if isinstance(outcome, ChatCanvasError):
        return f"{where}: [red]✗[/] {printable(image_error_text(outcome, t))}"
    seconds = f"{outcome.latency_ms / 1000:.1f} s"
    return f"{where}: [green]✓[/] {seconds} · {format_cost(outcome.cost_usd, t)}"


def summary(session: Session, grid: StoredGrid) -> Table:
    t = session.t
    table = Table(title=t("grid.title"), title_justify="left")
    table.add_column(t("grid.rows"))
    for c, lane in enumerate(grid.lanes):
        table.add_column(title(t, c, str(lane["provider"]), str(lane["model"])))
    for r, row in enumerate(grid.rows):
        run = grid.run(r)
        lanes = {lane.index: lane for lane in run.lanes} if run else {}
        cells = []
        for c in range(len(grid.lanes)):
            lane = lanes.get(c)
            if lane is None or not lane.ok:
                cells.append(t("cli.compare.failed"))
                continue
            seconds = f"{lane.latency_ms / 1000:.1f} s" if lane.latency_ms is not None else "—"
            cells.append(f"{seconds} · {format_cost(lane.cost_usd, t)}")
        table.add_row(printable(f"{r + 1}. {row.get('prompt', '')}"[:60]), *cells)
    return table


def write_exports(session: Session, grid: StoredGrid, sheet: Path | None, archive: Path | None):
    store = session.services.images
    for path, make in ((sheet, contact_sheet), (archive, grid_zip)):
        if path is None:
            continue
        try:
            path.write_bytes(make(store, grid, session.t))
        except OSError as exc:
            raise Refusal(
                session.t("cli.grid.not_written", path=path, reason=exc.strerror)
            ) from None
        session.out.print(str(path), markup=False, highlight=False, soft_wrap=True)


def command(t) -> click.Command:
    @click.command("grid", help=t("cli.grid.help"))
    @click.argument("prompts", nargs=-1)
    @click.option(
        "--lane", "lanes", multiple=True, metavar="PROVIDER[:MODEL]", help=t("cli.compare.lane")
    )
    @click.option("--studio", metavar="RUN_ID", help=t("cli.grid.studio"))
    @click.option("--concurrency", type=click.IntRange(1, 8), help=t("cli.grid.concurrency"))
    @click.option("--yes", is_flag=True, help=t("cli.grid.yes"))
    @click.option(
        "--sheet", type=click.Path(dir_okay=False, path_type=Path), help=t("cli.grid.sheet")
    )
    @click.option(
        "--zip", "archive", type=click.Path(dir_okay=False, path_type=Path), help=t("cli.grid.zip")
    )
    @click.pass_context
    def grid(ctx, prompts, lanes, studio, concurrency, yes, sheet, archive) -> None:
        session: Session = ctx.obj
        service = session.services.grids
        rows = grid_rows(session, prompts, studio)
        spec = GridSpec(tuple(rows), lane_specs(session, lanes, 1), concurrency, studio)
        estimate = service.estimate(spec)
        cost = format_cost(estimate.usd, session.t)
        cells = len(estimate.cells)
        session.note(
            "grid.estimate", rows=len(rows), columns=len(spec.lanes), cells=cells, cost=cost
        )
        if estimate.needs_confirmation and not yes:
            threshold = format_cost(estimate.threshold, session.t)
            raise Refusal(session.t("cli.grid.confirm", cost=cost, threshold=threshold))
        started: list[str] = []

        def done(row: int, column: int, outcome: LaneOutcome) -> None:
            session.err.print(cell_line(session, spec, row, column, outcome), highlight=False)

        try:
            result = service.run(
                service.with_english(spec), on_started=started.append, on_cell=done
            )
        except KeyboardInterrupt:
            if started:
                session.warn(
                    session.t("cli.grid.stopped", url=f"{WEB_APP_URL}/grid?grid={started[0]}")
                )
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        session.out.print(summary(session, result.grid))
        write_exports(session, result.grid, sheet, archive)
        session.note("cli.grid.browser", url=f"{WEB_APP_URL}/grid?grid={result.grid.id}")
        runs = result.grid.runs
        if result.unsaved or not all(run and all(lane.ok for lane in run.lanes) for run in runs):
            ctx.exit(EXIT_ERROR)

    return grid
