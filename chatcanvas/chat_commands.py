"""The commands typed in ``chatcanvas chat``: /model, /system, /new, /retry, /cost, /exit."""

from __future__ import annotations

from collections.abc import Callable

from chatcanvas.conversing import ChatState, play
from chatcanvas.session import Session
from services.wording import format_cost, format_tokens

LEAVE = False  # what a command returns to end the chat
STAY = True


def set_model(session: Session, state: ChatState, argument: str) -> bool:
    if argument:
        state.model = argument
    session.note("cli.chat.model", model=state.model)
    return STAY


def set_system(session: Session, state: ChatState, argument: str) -> bool:
    if argument:
        state.system_prompt = argument
        session.note("cli.chat.system_set")
    else:
        session.note("cli.chat.system", text=state.system_prompt or "-")
    return STAY


def new_conversation(session: Session, state: ChatState, argument: str) -> bool:
    state.conversation = None
    session.note("cli.chat.new")
    return STAY


def retry(session: Session, state: ChatState, argument: str) -> bool:
    """Answer the last message again after a failure (the web app's Retry)."""
    if state.conversation is None:
        session.note("cli.chat.nothing_to_retry")
        return STAY
    pending = session.services.turns.reply(state.conversation, state.model, state.options)
    play(session, pending)
    return STAY


def cost(session: Session, state: ChatState, argument: str) -> bool:
    if state.conversation is None:
        session.note("cli.chat.nothing_yet")
        return STAY
    totals = session.services.conversations.totals(state.conversation.id)
    session.note(
        "cli.chat.cost_incomplete" if totals.cost_incomplete else "cli.chat.cost",
        messages=totals.messages,
        tokens=format_tokens(totals.prompt_tokens, totals.completion_tokens, session.t),
        cost=format_cost(totals.cost_usd, session.t),
    )
    return STAY


def leave(session: Session, state: ChatState, argument: str) -> bool:
    return LEAVE


COMMANDS: dict[str, Callable[[Session, ChatState, str], bool]] = {
    "/model": set_model,
    "/system": set_system,
    "/new": new_conversation,
    "/retry": retry,
    "/cost": cost,
    "/exit": leave,
    "/quit": leave,
}


def run_command(session: Session, state: ChatState, line: str) -> bool:
    """Carry out one typed command; False when the chat should end."""
    name, _, argument = line.strip().partition(" ")
    action = COMMANDS.get(name.lower())
    if action is None:
        session.note("cli.chat.unknown_command", command=name)
        return STAY
    return action(session, state, argument.strip())
