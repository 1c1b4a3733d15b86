"""``chatcanvas studio "idea" [--chain NAME]``: each step streamed under its title, then the
final prompt; stored like a studio run of the web app.

The one module of the terminal app that touches the studio engine (services/studio/)."""

from __future__ import annotations

import click
from rich.markup import escape

from chatcanvas.conversing import sigint_ignored
from chatcanvas.main import EXIT_ERROR, EXIT_INTERRUPTED
from chatcanvas.render import printable, stream_text
from chatcanvas.session import WEB_APP_URL, Refusal, Session
from services.errors import ChatCanvasError, ErrorKind
from services.studio import (
    DEFAULT_CHAIN_ID,
    ChainRun,
    ChainTemplate,
    StepStatus,
    StreamingRun,
    label,
)


def pick_chain(session: Session, name: str | None) -> ChainTemplate:
    """The chain with this id or shown name (any case); the web app's default without one."""
    chains = session.services.chains.list_templates()
    wanted = (name or DEFAULT_CHAIN_ID).casefold()
    for chain in chains:
        if wanted in (chain.id.casefold(), label(chain.name, session.t).casefold()):
            return chain
    names = ", ".join(f"{c.id} ({label(c.name, session.t)})" for c in chains)
    raise Refusal(session.t("cli.studio.unknown_chain", name=name, names=names))


def run_steps(session: Session, run: ChainRun) -> bool:
    """Stream every step under its title; True when the run was stopped by Ctrl-C."""
    services, t = session.services, session.t
    streaming = StreamingRun(services.chain_engine, services.chains, run, 0)
    try:
        for step in streaming:
            session.out.rule(escape(printable(label(step.name, t))), align="left")
            stream_text(session.out, step)
    except KeyboardInterrupt:
        return True
    finally:
        with sigint_ignored():  # a second Ctrl-C must not lose the step being stored
            streaming.close()  # stores the run, a step cut short as cancelled
    return False


def first_failure(run: ChainRun) -> ChatCanvasError | None:
    for result in run.results():
        if result.status == StepStatus.ERROR:
            return ChatCanvasError(ErrorKind.parse(result.error_kind), result.error_detail or "")
    return None


def command(t) -> click.Command:
    @click.command("studio", help=t("cli.studio.help"))
    @click.argument("idea")
    @click.option("--chain", help=t("cli.studio.chain"))
    @click.option("-m", "--model", help=t("cli.options.model"))
    @click.pass_context
    def studio(ctx, idea: str, chain: str | None, model: str | None) -> None:
        session: Session = ctx.obj
        engine = session.services.chain_engine
        template = pick_chain(session, chain)
        for problem in engine.check_idea(idea, template, model):
            session.warn(problem.message(session.t))
        run = engine.new_run(idea, template, model=model)
        stopped = run_steps(session, run)
        session.note("cli.studio.browser", url=f"{WEB_APP_URL}/studio?run={run.id}")
        if stopped:
            session.warn(session.t("cli.studio.stopped"))
            ctx.exit(EXIT_INTERRUPTED)
        failure = first_failure(run)
        if failure is not None:
            session.report(failure)
            ctx.exit(EXIT_ERROR)
        session.out.rule(t("cli.studio.final"), align="left")
        session.out.print(
            printable(run.final_prompt), markup=False, highlight=False, soft_wrap=True
        )
        if run.negative_prompt:
            session.out.rule(t("cli.studio.negative"), align="left")
            session.out.print(
                printable(run.negative_prompt), markup=False, highlight=False, soft_wrap=True
            )

    return studio
