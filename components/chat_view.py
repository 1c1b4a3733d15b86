"""The open conversation on the chat page: its totals and newest messages, read before a turn
stores anything, and a sent message's pair finished where it was streamed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from components import state as K
from components.context import AppContext
from components.message_images import message_thumbnails
from components.transcript import message_tail, render_transcript
from services.chat_turns import PendingReply
from services.storage import Conversation
from services.storage.conversations import ConversationTotals, StoredMessage
from services.wording import format_cost

PAGE = 30  # messages drawn at once; older ones behind "show earlier"


@dataclass
class Shown:
    """What the transcript shows, read before a turn stores anything: the turn itself is
    drawn under it."""

    totals: ConversationTotals
    messages: list[StoredMessage]
    shown: int
    versions: list[int]  # the last reply's versions, oldest first
    images: dict  # message id -> its attached images' thumbnails


def read_transcript(
    ctx: AppContext,
    conversation: Conversation | None,
    live: PendingReply | None,
    *,
    busy: bool = False,
    under: PendingReply | None = None,
) -> Shown | None:
    """The stored messages to draw; a reply being written (``live``) is drawn by its turn.
    ``busy``: drawn under a turn, without the actions (so without the last reply's versions).
    ``under``: the reply to a message just sent, which its turn draws with that message: read
    after its request left, so the model works while the transcript is read, and shown as it
    was before (the pair left out of the messages and their count)."""
    if conversation is None:
        return None
    shown = st.session_state.get(K.CHAT_SHOWN, PAGE)
    totals = ctx.conversations.totals(conversation.id)
    if under is None or under.question_id is None:
        messages = ctx.conversations.messages(conversation.id, last=shown)
    else:
        newest = ctx.conversations.messages(conversation.id, last=shown + 2)
        messages = [m for m in newest if m.id < under.question_id]
        turn = len(newest) - len(messages)
        messages = messages[-shown:]
        totals = replace(totals, messages=totals.messages - turn)
    busy = busy or under is not None
    versions = [] if busy else [m.id for m in ctx.turns.versions(conversation, messages)]
    if live is not None:
        messages = [m for m in messages if m.id != live.row.id]
    users = [m.id for m in messages if m.role == "user"]
    return Shown(totals, messages, shown, versions, ctx.conversations.attachments.thumbnails(users))


def totals_caption(ctx: AppContext, totals: ConversationTotals, slot) -> None:
    """The conversation's message count, tokens and cost, drawn into ``slot``."""
    t = ctx.t
    cost = format_cost(totals.cost_usd, t)
    if totals.cost_incomplete:
        cost = t("chat.cost_lower_bound", cost=cost)
    slot.caption(
        t(
            "chat.totals",
            count=totals.messages,
            prompt=f"{totals.prompt_tokens:,}",
            completion=f"{totals.completion_tokens:,}",
            cost=cost,
        )
    )


def transcript(ctx: AppContext, shown: Shown | None, busy: bool):
    """The open conversation's totals and its newest messages (older ones on request).
    Returns the slot of the totals, so a turn that ends in place can update them."""
    t = ctx.t
    if shown is None:
        if not busy and ctx.settings.openai_api_key:  # without one, the first-run panel speaks
            st.info(t("chat.welcome"))
        return st.empty() if busy else None  # a first message's turn ended in place fills it
    totals_slot = st.empty()
    totals_caption(ctx, shown.totals, totals_slot)
    hidden = shown.totals.messages - shown.shown
    if hidden > 0 and st.button(
        t("chat.show_earlier", count=min(hidden, PAGE)), key="chat_show_earlier"
    ):
        st.session_state[K.CHAT_SHOWN] = shown.shown + PAGE
        st.rerun()
    render_transcript(
        ctx,
        shown.messages,
        busy=busy,
        versions=shown.versions,
        images=lambda m: message_thumbnails(ctx, shown.images[m]) if m in shown.images else None,
    )
    return totals_slot


def thumbnails_of(ctx: AppContext, messages: list[StoredMessage]):
    """render_transcript's ``images``: the thumbnails of the user messages among ``messages``."""
    found = ctx.conversations.attachments.thumbnails([m.id for m in messages if m.role == "user"])
    return lambda m: message_thumbnails(ctx, found[m]) if m in found else None


@dataclass
class LiveTurn:
    """A sent message and its reply as they were drawn while it streamed: the whole turn, the
    mark that shows Stop, the places left under the message and under the reply, the reply's
    text as drawn, and whether the message's images were drawn (as sent, not as stored)."""

    turn: Any  # st.empty holding the turn
    stored: Any  # st.empty under it, for the pair drawn again as stored
    images: bool = False
    mark: Any = None  # st.empty holding the keyed, empty container Stop's style looks for
    user_tail: Any = None  # st.empty under the user's message (none for a regenerated reply)
    reply_tail: Any = None  # st.empty under the reply
    text: str = ""


def finish_turn_in_place(
    ctx: AppContext, pending: PendingReply, live: LiveTurn, totals_slot
) -> bool:
    """Finish the drawing of a sent message and its reply as a rerun would draw the stored
    pair, without another page run: what was streamed stays, the caption and the actions are
    added under it, Stop's mark goes, and the totals are updated (the conversation part
    redraws the budget line after it). Only the elements added travel to the browser; the
    pair is drawn again when it was not drawn as stored (its images, its text). False when the
    stored conversation no longer ends with that pair (another tab wrote to it)."""
    conversation_id = pending.row.conversation_id
    pair = ctx.conversations.messages(conversation_id, last=2)
    if [(m.role, m.id == pending.row.id) for m in pair] != [("user", False), ("assistant", True)]:
        return False
    user, reply = pair
    if live.user_tail is None or live.images or reply.content != live.text:
        # drawn in a place of its own: a container drawn again in the same run would keep
        # the elements it had beyond those drawn now (AppTest even after it was emptied)
        live.turn.empty()  # Stop's mark goes with the rest
        with live.stored.container():
            render_transcript(ctx, pair, busy=False, images=thumbnails_of(ctx, pair))
    else:
        with live.user_tail.container():
            message_tail(ctx, user)
        with live.reply_tail.container():
            message_tail(ctx, reply)  # a new reply has one version: no pager
        live.mark.empty()
    totals_caption(ctx, ctx.conversations.totals(conversation_id), totals_slot)
    return True
