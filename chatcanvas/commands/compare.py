"""``chatcanvas compare "prompt" --lane openai:gpt-image-2 --lane karlo [--out DIR]``: every
lane at once through the web app's comparison service, a progress line each, then a table;
the run is stored in the gallery like one made on the Compare page, and ``--out`` writes each
image as a PNG that carries its lineage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from chatcanvas.main import EXIT_ERROR, EXIT_INTERRUPTED
from chatcanvas.render import printable
from chatcanvas.session import WEB_APP_URL, Refusal, Session
from services.comparison import ComparisonResult, ComparisonSpec, LaneSpec
from services.errors import ChatCanvasError
from services.gallery_export import write_pngs
from services.images import PROVIDERS
from services.images.base import LaneOutcome
from services.images.lane_watch import LaneProgress
from services.storage.images import CompareRun
from services.wording import (
    error_text,
    format_cost,
    image_error_text,
    lane_progress_text,
    moderation_categories,
)


def lane_specs(session: Session, texts: tuple[str, ...], count: int) -> tuple[LaneSpec, ...]:
    """``--lane`` values as typed lanes (every provider's defaults without one)."""
    comparisons = session.services.comparisons
    try:
        lanes = tuple(comparisons.lane(text) for text in texts) or comparisons.default_lanes()
    except ValueError:
        known = ", ".join(PROVIDERS)
        raise Refusal(
            session.t("cli.compare.unknown_lane", lanes=", ".join(texts), known=known)
        ) from None
    _check_compatible(session, lanes)
    return tuple(replace(lane, count=count) for lane in lanes)


def _check_compatible(session: Session, lanes: tuple[LaneSpec, ...]) -> None:
    """A compatible lane names SERVER/MODEL; a broken IMAGE_SERVERS is said, not hidden."""
    if not any(lane.provider == "compatible" for lane in lanes):
        return
    problem = session.services.settings.image_servers_problem
    if problem:
        session.note("cli.compare.servers_problem", detail=problem)
    if any(lane.provider == "compatible" and "/" not in lane.model for lane in lanes):
        models = session.services.image_provider("compatible").models()
        raise Refusal(session.t("cli.compare.compatible_lane", models=", ".join(models) or "-"))


def with_english(session: Session, spec: ComparisonSpec) -> ComparisonSpec:
    """The comparison service translates a prompt the English-only engines (Karlo) cannot
    take (one paid call); the English sent is shown."""
    ready = session.services.comparisons.with_english(spec)
    if ready.english_prompt and ready.english_prompt != spec.prompt:
        session.note("cli.compare.english", prompt=printable(ready.english_prompt))
    return ready


def safety_check(session: Session, spec: ComparisonSpec, *, proceed: bool) -> None:
    """The moderation check before any image engine is paid. A flagged prompt stops here with
    its categories (exit 1, nothing sent) unless ``proceed``; a check that cannot be made
    stops too, saying so: it is never skipped silently."""
    t = session.t
    try:
        verdict = session.services.comparisons.check(spec)
    except ChatCanvasError as err:
        raise Refusal(t("cli.compare.check_failed", reason=error_text(err, t))) from None
    if not verdict.flagged:
        return
    categories = moderation_categories(verdict.categories, t)
    if not proceed:
        raise Refusal(t("cli.compare.held", categories=categories))
    session.warn(t("cli.compare.flagged_proceeding", categories=categories))


def run_with_progress(
    session: Session, spec: ComparisonSpec
) -> tuple[ComparisonResult, dict[int, ChatCanvasError]]:
    """Run ``spec`` with a progress line per lane that ends in its outcome; returns the
    stored run and the failed lanes' errors by lane index. Ctrl-C waits for the lanes already
    sent (they are paid for and stored as they end), says where they are, and exits 130."""
    t = session.t
    errors: dict[int, ChatCanvasError] = {}
    started: list[str] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=session.err, transient=False) as progress:
        tasks = [
            progress.add_task(title(t, i, lane.provider, lane.model), total=1)
            for i, lane in enumerate(spec.lanes)
        ]

        def lane_done(index: int, outcome: LaneOutcome) -> None:
            lane = spec.lanes[index]
            if isinstance(outcome, ChatCanvasError):
                errors[index] = outcome
                ended = "[red]✗[/] " + t("cli.compare.failed")
            else:
                ended = "[green]✓[/] " + t("cli.compare.images", count=len(outcome.images))
            described = f"{title(t, index, lane.provider, lane.model)} · {ended}"
            progress.update(tasks[index], completed=1, description=described)

        def lane_progress(index: int, step: LaneProgress) -> None:  # a lane on this machine
            lane = spec.lanes[index]
            described = (
                f"{title(t, index, lane.provider, lane.model)} · {lane_progress_text(step, t)}"
            )
            progress.update(tasks[index], description=described)

        try:
            result = session.services.comparisons.run(
                spec, on_started=started.append, on_lane=lane_done, on_progress=lane_progress
            )
        except KeyboardInterrupt:
            if started:
                session.warn(t("cli.compare.stopped", url=browser_url(started[0])))
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    return result, errors


def keep_unsaved(session: Session, result: ComparisonResult, out: Path | None) -> bool:
    """Images the database refused (paid for all the same) go to files: into ``--out``, or a
    folder of their own; True when there were any."""
    if not result.unsaved:
        return False
    folder = out or Path(f"chatcanvas-unsaved-{result.run.id[:8]}")
    folder.mkdir(parents=True, exist_ok=True)
    for lane in result.unsaved.values():
        if isinstance(lane.outcome, ChatCanvasError):
            continue
        for n, image in enumerate(lane.outcome.images, 1):
            extension = image.mime_type.rpartition("/")[2] or "png"
            path = folder / f"unsaved_lane{lane.index + 1}_{n}.{extension}"
            path.write_bytes(image.data)
            session.out.print(str(path), markup=False, highlight=False, soft_wrap=True)
    session.warn(session.t("cli.compare.unsaved", path=folder))
    return True


def browser_url(run_id: str) -> str:
    return f"{WEB_APP_URL}/compare?run={run_id}"


def report_failures(session: Session, run: CompareRun, errors: dict[int, ChatCanvasError]) -> None:
    """Each failed lane's sentence in full (the progress line only says it failed)."""
    for lane in run.lanes:
        err = errors.get(lane.index)
        if err is not None:
            session.err.print(
                f"{title(session.t, lane.index, lane.provider, lane.model)}: "
                + _escape(printable(image_error_text(err, session.t))),
                style="bold red",
                highlight=False,
                soft_wrap=True,
            )
            if err.detail:
                session.err.print(printable(err.detail), style="dim", markup=False, soft_wrap=True)


def title(t, index: int, provider: str, model: str) -> str:
    label = t(PROVIDERS[provider].label_key) if provider in PROVIDERS else provider
    return _escape(f"{t('images.lane', n=index + 1)} · {label} · {printable(model)}")


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def summary(session: Session, run: CompareRun) -> Table:
    t = session.t
    table = Table(title=t("cli.compare.title"), title_justify="left")
    for column in ("lane", "images", "seconds", "cost"):
        table.add_column(t(f"cli.compare.column.{column}"))
    for lane in run.lanes:
        seconds = f"{lane.latency_ms / 1000:.1f}" if lane.latency_ms is not None else "—"
        cost = format_cost(lane.cost_usd, t)
        table.add_row(
            title(t, lane.index, lane.provider, lane.model),
            str(len(lane.image_ids)) if lane.ok else t("cli.compare.failed"),
            seconds,
            t("compare.estimate", cost=cost) if lane.cost_is_estimate else cost,
        )
    return table


def write_images(session: Session, run: CompareRun, out: Path) -> None:
    ids = [image_id for lane in run.lanes for image_id in lane.image_ids]
    try:
        written = write_pngs(session.services.images, ids, out)
    except OSError as exc:
        raise Refusal(session.t("cli.compare.not_written", path=out, reason=exc.strerror)) from None
    for path in written:
        session.out.print(str(path), markup=False, highlight=False, soft_wrap=True)


def command(t) -> click.Command:
    @click.command("compare", help=t("cli.compare.help"))
    @click.argument("prompt")
    @click.option(
        "--lane", "lanes", multiple=True, metavar="PROVIDER[:MODEL]", help=t("cli.compare.lane")
    )
    @click.option("--negative", default="", help=t("cli.compare.negative"))
    @click.option(
        "-n", "--count", type=click.IntRange(1, 10), default=1, help=t("cli.compare.count")
    )
    @click.option(
        "--out", type=click.Path(file_okay=False, path_type=Path), help=t("cli.compare.out")
    )
    @click.option("--check/--no-check", default=None, help=t("cli.compare.check"))
    @click.option("--proceed", is_flag=True, help=t("cli.compare.proceed"))
    @click.pass_context
    def compare(
        ctx,
        prompt: str,
        lanes: tuple[str, ...],
        negative: str,
        count: int,
        out: Path | None,
        check: bool | None,
        proceed: bool,
    ) -> None:
        session: Session = ctx.obj
        prompt = prompt.strip()
        if not prompt:
            raise Refusal(session.t("errors.empty_input"))
        specs = lane_specs(session, lanes, count)
        spec = with_english(
            session, ComparisonSpec(prompt, specs, negative_prompt=negative.strip())
        )
        if session.services.settings.moderation_check if check is None else check:
            safety_check(session, spec, proceed=proceed)
        result, errors = run_with_progress(session, spec)
        run = result.run
        session.out.print(summary(session, run))
        report_failures(session, run, errors)
        if out is not None:
            write_images(session, run, out)
        if keep_unsaved(session, result, out):
            ctx.exit(EXIT_ERROR)
        session.note("cli.compare.browser", url=browser_url(run.id))
        if errors or not all(lane.ok for lane in run.lanes):
            ctx.exit(EXIT_ERROR)

    return compare
