"""``chatcanvas ask "question"``: one answer, streamed, stored as a conversation."""

from __future__ import annotations

import sys

import click

from chatcanvas.conversing import conversation_options, open_state, send_turn
from chatcanvas.main import EXIT_ERROR, EXIT_INTERRUPTED
from chatcanvas.session import Refusal, Session
from services.storage import MessageStatus


def read_question(question: str | None, t) -> str:
    """The argument, or standard input when there is none or it is ``-``."""
    if question not in (None, "-"):
        return question
    if sys.stdin is None or sys.stdin.isatty():
        raise Refusal(t("cli.ask.no_question"))
    return sys.stdin.read()


def command(t) -> click.Command:
    @click.command("ask", help=t("cli.ask.help"))
    @click.argument("question", required=False)
    @conversation_options(t)
    @click.pass_context
    def ask(ctx, question, model, system, latest, cid) -> None:
        session: Session = ctx.obj
        text = read_question(question, session.t)
        state = open_state(session, latest=latest, cid=cid, model=model, system=system)
        reply = send_turn(session, state, text)
        if reply.status == MessageStatus.STOPPED:
            ctx.exit(EXIT_INTERRUPTED)
        if reply.status != MessageStatus.COMPLETE:
            ctx.exit(EXIT_ERROR)

    return ask
