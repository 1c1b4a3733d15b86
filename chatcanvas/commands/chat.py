"""``chatcanvas chat``: the tutorials' ``while True: input()`` loop done right: streamed,
stored in the web app's database, continued with ``-c`` / ``--cid``."""

from __future__ import annotations

import contextlib

import click

from chatcanvas.chat_commands import run_command
from chatcanvas.conversing import (
    ChatState,
    conversation_options,
    conversation_url,
    open_state,
    send_turn,
)
from chatcanvas.render import show_markdown
from chatcanvas.session import Session
from services.errors import ChatCanvasError

with contextlib.suppress(ImportError):  # line editing and history at the prompt (not on Windows)
    import readline  # noqa: F401

SHOWN_ON_CONTINUE = 4  # the last messages shown when a conversation is continued


def command(t) -> click.Command:
    @click.command("chat", help=t("cli.chat.help"))
    @conversation_options(t)
    @click.pass_obj
    def chat(session: Session, model, system, latest, cid) -> None:
        state = open_state(session, latest=latest, cid=cid, model=model, system=system)
        introduce(session, state)
        while True:
            try:
                line = session.out.input(session.t("cli.chat.prompt"))
            except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt: leave
                session.out.print()
                return
            if not take(session, state, line):
                return

    return chat


def take(session: Session, state: ChatState, line: str) -> bool:
    """One typed line: a command or a message. An error is reported and the chat goes on;
    False only when the line ends the chat."""
    try:
        if line.startswith("/"):
            return run_command(session, state, line)
        if line.strip():
            send_turn(session, state, line)
    except ChatCanvasError as err:
        session.report(err)
    except KeyboardInterrupt:  # before the reply started: the message is stored, unanswered
        session.out.print()
    return True


def introduce(session: Session, state: ChatState) -> None:
    """What is being continued (its last messages) and how the chat works."""
    conversation = state.conversation
    if conversation is not None:
        session.note(
            "cli.conversation.continued",
            title=conversation.title or "-",
            url=conversation_url(conversation.id),
        )
        store = session.services.conversations
        for message in store.messages(conversation.id, last=SHOWN_ON_CONTINUE):
            session.out.print(f"[{message.role}]", style="bold", markup=False)
            show_markdown(session.out, message.content)
    session.note("cli.chat.intro", model=state.model)
