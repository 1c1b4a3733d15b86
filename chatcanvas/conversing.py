"""Chat turns in a terminal over the web app's services: which conversation, model and system
prompt; one turn sent and its reply streamed into the store; Ctrl-C stops a reply and keeps
what arrived, marked stopped."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click

from chatcanvas.render import stream_text
from chatcanvas.session import WEB_APP_URL, Refusal, Session
from services.chat import ChatOptions, check_user_text
from services.chat_turns import PendingReply
from services.storage import Conversation, MessageStatus, StoredMessage
from services.wording import format_cost, format_tokens


@dataclass
class ChatState:
    """The conversation being continued (None until the first message of a new one) and the
    settings the next turn is sent with."""

    conversation: Conversation | None
    model: str
    system_prompt: str
    options: ChatOptions

    def stored_settings(self) -> dict:
        """What the conversation row keeps of these settings, as the web app stores them."""
        chosen = {"temperature": self.options.temperature, "max_tokens": self.options.max_tokens}
        params = {k: v for k, v in chosen.items() if v is not None}
        return {"model": self.model, "system_prompt": self.system_prompt, "params": params}


def conversation_options(t):
    """``-m``, ``-s``, ``-c`` and ``--cid``, shared by ``ask`` and ``chat``."""
    options = (
        click.option("-m", "--model", help=t("cli.options.model")),
        click.option("-s", "--system", help=t("cli.options.system")),
        click.option("-c", "--continue", "latest", is_flag=True, help=t("cli.options.latest")),
        click.option("--cid", help=t("cli.options.cid")),
    )

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def open_state(
    session: Session, *, latest: bool, cid: str | None, model: str | None, system: str | None
) -> ChatState:
    """The conversation named by ``--cid`` (or the latest with ``-c``), with its model, system
    prompt and parameters unless ``-m`` / ``-s`` change them; else a new one's defaults."""
    store, t = session.services.conversations, session.t
    conversation = None
    if cid:
        conversation = store.get(cid)
        if conversation is None:
            raise Refusal(t("cli.conversation.not_found", id=cid))
    elif latest:
        found = store.list(limit=1)
        conversation = found[0] if found else None
        if conversation is None:
            session.note("cli.conversation.none_yet")
    params = conversation.params if conversation else {}
    return ChatState(
        conversation,
        model or (conversation and conversation.model) or session.catalog.default_chat_model,
        system if system is not None else _stored_system(session, conversation),
        ChatOptions(temperature=params.get("temperature"), max_tokens=params.get("max_tokens")),
    )


def _stored_system(session: Session, conversation: Conversation | None) -> str:
    if conversation is None:  # the web app's default preset
        return session.t("chat.presets.assistant.prompt")
    return conversation.system_prompt


def conversation_url(conversation_id: str) -> str:
    return f"{WEB_APP_URL}/?c={conversation_id}"


def send_turn(session: Session, state: ChatState, text: str) -> StoredMessage:
    """Store ``text`` (creating the conversation on its first message, as the web app does),
    stream the reply and store it. Raises ChatCanvasError before the reply starts (the message
    stays stored, marked unanswered) and for empty or oversized text (nothing stored)."""
    store = session.services.conversations
    check_user_text(text)
    settings = state.stored_settings()
    if state.conversation is None:
        state.conversation = store.create(**settings)
        session.note("cli.conversation.browser", url=conversation_url(state.conversation.id))
    else:
        store.update(state.conversation.id, **settings)
        state.conversation = store.get(state.conversation.id) or state.conversation
    pending = session.services.turns.send(state.conversation, text, state.model, state.options)
    return play(session, pending)


def play(session: Session, pending: PendingReply) -> StoredMessage:
    """Stream a reply into its row; Ctrl-C stops it. Returns the stored reply."""
    stopped = False
    try:
        stream_text(session.out, pending)
    except KeyboardInterrupt:
        stopped = True
        session.out.print()
    with sigint_ignored():  # a second Ctrl-C must not lose the reply being stored
        message = pending.finish(stopped=stopped)
    if message.status != MessageStatus.COMPLETE:
        session.warn(session.t(f"chat.status.{message.status}"))
    if pending.stream.error is not None and not stopped:
        session.report(pending.stream.error)
    if message.completion_tokens is not None:
        tokens = format_tokens(message.prompt_tokens, message.completion_tokens, session.t)
        cost = format_cost(message.cost_usd, session.t)
        session.note("cli.reply.caption", model=message.model or "?", tokens=tokens, cost=cost)
    return message


@contextmanager
def sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to hold off
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
