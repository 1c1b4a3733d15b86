"""The chat transcript: messages, their usage, status, and actions on the last ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import streamlit as st

from components import state as K
from components.context import AppContext
from components.copy_button import copy_button
from components.errors import outdated, show_error
from components.read_aloud import read_aloud
from services.errors import ChatCanvasError, ErrorKind
from services.markdown_safety import escape_markdown, without_remote_images
from services.storage import MessageStatus, StoredMessage
from services.wording import format_cost, format_tokens

REDRAW_SECONDS = 0.1  # at most ten redraws a second while a reply streams


def write_markdown_stream(chunks: Iterable[str]) -> str:
    """Like st.write_stream for a model's answer, but its images are shown as links (the
    whole text so far is rewritten each time: an image's syntax can span chunks). The first
    text is shown at once; then chunks that arrive within REDRAW_SECONDS of the last redraw
    wait for the next one, as each redraw costs the browser a whole re-render of the text.
    An empty chunk (a pause) redraws what is shown, which lets Streamlit interrupt the run."""
    slot, text, drawn, last = st.empty(), "", "", 0.0
    for chunk in chunks:
        text += chunk
        now = time.monotonic()
        if text and (not drawn or now - last >= REDRAW_SECONDS):
            slot.markdown(without_remote_images(text))
            drawn, last = text, now
        elif not chunk:  # a pause in the answer: draw what is there, so a click is not held up
            slot.markdown(without_remote_images(drawn))
    if text != drawn:
        slot.markdown(without_remote_images(text))
    return text


def _caption(ctx: AppContext, m: StoredMessage) -> None:
    t = ctx.t
    parts = []
    if m.status in (MessageStatus.INCOMPLETE, MessageStatus.STOPPED):
        parts.append(":material/warning: " + t(f"chat.status.{m.status}"))
    if m.finish_reason == "length":
        parts.append(":material/content_cut: " + t("chat.finish_length"))
    if m.completion_tokens is not None:
        if m.status in (MessageStatus.INCOMPLETE, MessageStatus.STOPPED):
            parts.append(t("chat.usage_estimated"))  # counted from the text that arrived
        parts.append(
            t(
                "chat.usage",
                model=escape_markdown(m.model or "?"),
                tokens=format_tokens(m.prompt_tokens, m.completion_tokens, t),
                cost=format_cost(m.cost_usd, t),
            )
        )
    elif m.model:
        parts.append(escape_markdown(m.model))
    if m.latency_ms is not None:
        parts.append(t("chat.first_token", seconds=m.latency_ms / 1000))
    if parts:
        st.caption(" · ".join(parts))


def _failed_user_message(ctx: AppContext, m: StoredMessage) -> None:
    """The error under a user message that was never answered, with Retry; once the error's
    cause is gone (a key was added), only that the message was not sent yet."""
    remembered = st.session_state.get(K.CHAT_ERROR) or {}
    if remembered.get("message_id") == m.id:
        err, seen_with = remembered["error"], remembered.get("connection")
    else:  # after a reload only the kind is known (it is stored with the message)
        err, seen_with = ChatCanvasError(ErrorKind.parse(m.error_kind)), None
    if outdated(err, ctx.settings, seen_with):
        st.caption(ctx.t("chat.not_sent"))
    else:
        show_error(err, ctx.t)
    if st.button(ctx.t("errors.retry"), key=f"retry_{m.id}", icon=":material/refresh:"):
        st.session_state[K.CHAT_ACTION] = ("retry",)
        st.rerun()


def render_transcript(
    ctx: AppContext,
    messages: list[StoredMessage],
    *,
    busy: bool,
    versions: list[int] | None = None,
    images: Callable[[int], None] | None = None,
) -> None:
    """Draw ``messages``; the last user and assistant messages get their actions unless a
    reply is being produced (``busy``). ``versions``: the ids of the last reply's versions
    (regenerated ones kept), oldest first, to flip between. ``images`` draws a message's
    attached images, by id."""
    last_user_id = next((m.id for m in reversed(messages) if m.role == "user"), None)
    last_id = messages[-1].id if messages else None
    for m in messages:
        with st.chat_message(m.role):
            if m.role == "user" and m.id == last_user_id and st.session_state.get(K.CHAT_EDITING):
                _edit_box(ctx, m)
                continue
            st.markdown(without_remote_images(m.content))
            if images is not None and m.role == "user":
                images(m.id)
            message_tail(ctx, m, busy=busy, last=m.id in (last_user_id, last_id), versions=versions)


def message_tail(
    ctx: AppContext,
    m: StoredMessage,
    *,
    busy: bool = False,
    last: bool = True,
    versions: list[int] | None = None,
) -> None:
    """What follows the text of message ``m``: the reply's caption or the failure of a
    message never answered, then (unless ``busy``) Read aloud and, for the ``last`` user
    and assistant messages, Edit or Regenerate and Copy."""
    if m.role == "assistant":
        _caption(ctx, m)
    if m.role == "user" and m.status == MessageStatus.ERROR:
        _failed_user_message(ctx, m)
    if busy:
        return
    read_aloud(ctx, m)
    if last and m.role == "assistant":
        _assistant_actions(ctx, m, versions or [])
    elif last:
        _edit_button(ctx, m)


def _edit_button(ctx: AppContext, m: StoredMessage) -> None:
    if st.button(ctx.t("chat.edit"), key=f"edit_{m.id}", icon=":material/edit:"):
        st.session_state[K.CHAT_EDITING] = True
        st.rerun()


def _assistant_actions(ctx: AppContext, m: StoredMessage, versions: list[int]) -> None:
    t = ctx.t
    remembered = st.session_state.get(K.CHAT_ERROR) or {}
    if remembered.get("message_id") == m.id:  # a regenerate that could not start
        err = remembered["error"]
        if not outdated(err, ctx.settings, remembered.get("connection")):
            show_error(err, t)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if st.button(t("chat.regenerate"), key=f"regen_{m.id}", icon=":material/refresh:"):
            st.session_state[K.CHAT_ACTION] = ("regenerate",)
            st.rerun()
        copy_button(
            m.content,
            key=str(m.id),
            label=t("chat.copy"),
            copied=t("chat.copied"),
            help=t("chat.copy_help"),
        )
        if len(versions) > 1 and m.id in versions:
            _version_pager(ctx, versions, versions.index(m.id))


def _version_pager(ctx: AppContext, versions: list[int], shown: int) -> None:
    """‹ 2 / 3 ›: flip between the versions of the last reply."""
    t = ctx.t
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if st.button(
            ":material/chevron_left:",
            key="chat_version_previous",
            help=t("chat.previous_version"),
            disabled=shown == 0,
        ):
            st.session_state[K.CHAT_ACTION] = ("version", versions[shown - 1])
            st.rerun()
        st.markdown(t("chat.version", n=shown + 1, count=len(versions)))
        if st.button(
            ":material/chevron_right:",
            key="chat_version_next",
            help=t("chat.next_version"),
            disabled=shown == len(versions) - 1,
        ):
            st.session_state[K.CHAT_ACTION] = ("version", versions[shown + 1])
            st.rerun()


def _edit_box(ctx: AppContext, m: StoredMessage) -> None:
    t = ctx.t
    text = st.text_area(t("chat.edit"), value=m.content, key=f"edit_text_{m.id}")
    left, right = st.columns([1, 1, 4])[:2]
    if left.button(t("chat.resend"), key=f"resend_{m.id}", type="primary"):
        st.session_state[K.CHAT_EDITING] = False
        st.session_state[K.CHAT_ACTION] = ("edit", text)
        st.rerun()
    if right.button(t("common.cancel"), key=f"cancel_edit_{m.id}"):
        st.session_state[K.CHAT_EDITING] = False
        st.rerun()
