"""Sidebar list of stored conversations: new, switch, search, rename, delete, export, import."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, tzinfo

import streamlit as st

from components import state as K
from components.context import AppContext
from components.errors import error_text
from components.times import browser_zone
from services.errors import ChatCanvasError
from services.import_rules import MAX_IMPORT_MB, upload_bytes
from services.markdown_safety import escape_markdown
from services.storage import Conversation
from services.storage.conversation_files import export_json, export_markdown, import_json

PAGE = 30
IMPORT_KEY = "chat_import_file"
# Titles on one line, left-aligned, cut with an ellipsis (the full title is the button's help)
LIST_STYLE = """<style>
.st-key-chat_list button {justify-content: flex-start; text-align: left; min-height: 2rem;}
.st-key-chat_list button div, .st-key-chat_list button p
  {white-space: nowrap; overflow: hidden; text-overflow: ellipsis; text-align: left;}
</style>"""


def open_conversation(conversation_id: str | None) -> None:
    """Make ``conversation_id`` the open one (None: a fresh, not yet stored conversation).
    The id lives in the URL so reload, bookmarks and restarts reopen it, and in the session
    so the chat page reopens it after a visit to another page (whose link has no ``?c=``)."""
    st.session_state[K.CHAT_OPEN] = conversation_id
    if conversation_id:
        st.query_params["c"] = conversation_id
    elif "c" in st.query_params:
        del st.query_params["c"]
    for key in (K.CHAT_SHOWN, K.CHAT_ERROR, K.CHAT_EDITING, K.CHAT_ACTION):
        st.session_state.pop(key, None)


def current_conversation(ctx: AppContext) -> Conversation | None:
    """The conversation named in the URL (else the one open before another page was
    visited), if it exists for this owner."""
    conversation_id = st.query_params.get("c")
    if not conversation_id and st.session_state.get(K.CHAT_OPEN):
        conversation_id = st.session_state[K.CHAT_OPEN]
        st.query_params["c"] = conversation_id  # back in the address, for reload and sharing
    st.session_state[K.CHAT_OPEN] = conversation_id
    if not conversation_id:
        return None
    conversation = ctx.conversations.get(conversation_id)
    if conversation is None:
        st.toast(ctx.t("chat.not_found"), icon=":material/warning:")
        open_conversation(None)
    return conversation


def _import(ctx: AppContext) -> None:
    uploaded = st.session_state.get(IMPORT_KEY)
    if uploaded is None:
        return
    try:
        conversation = import_json(ctx.conversations, upload_bytes(uploaded))
    except ChatCanvasError as err:
        st.session_state[K.CHAT_ERROR] = None
        st.toast(error_text(err, ctx.t), icon=":material/warning:")
        return
    open_conversation(conversation.id)
    st.toast(ctx.t("chat.imported"), icon=":material/check_circle:")


def conversation_list(ctx: AppContext, current: Conversation | None) -> None:
    """The sidebar's New chat, search, list (with ``current``'s actions) and import. Outside
    every fragment: a click in a fragment would wait for a reply being drawn to end."""
    t, store = ctx.t, ctx.conversations
    sidebar = st.sidebar
    if sidebar.button(
        t("chat.new"), key="chat_new", width="stretch", type="primary", icon=":material/add:"
    ):
        open_conversation(None)
        st.rerun()
    query = sidebar.text_input(
        t("chat.search"),
        key=K.CHAT_SEARCH,
        placeholder=t("chat.search"),
        label_visibility="collapsed",
    )
    limit = st.session_state.get(K.CHAT_LIST_LIMIT, PAGE)
    conversations = store.list(query, limit=limit + 1)
    if not conversations:
        if query.strip():
            sidebar.caption(t("chat.no_match", query=escape_markdown(query.strip())))
        else:
            sidebar.caption(t("chat.no_conversations"))
    with sidebar.container(key="chat_list", gap="small"):
        st.html(LIST_STYLE)
        _listed(ctx, conversations[:limit], current)
    if len(conversations) > limit and sidebar.button(t("chat.more"), key="chat_more"):
        st.session_state[K.CHAT_LIST_LIMIT] = limit + PAGE
        st.rerun()
    # The actions act on the highlighted entry: none while a search hides the open conversation
    listed = any(c.id == current.id for c in conversations[:limit]) if current else False
    if current is not None and (listed or not query.strip()):
        _conversation_actions(ctx, current)
    sidebar.file_uploader(
        t("chat.import"),
        type=["json"],
        key=IMPORT_KEY,
        on_change=_import,
        args=(ctx,),
        max_upload_size=MAX_IMPORT_MB,
    )


def _listed(ctx: AppContext, conversations: list[Conversation], current: Conversation | None):
    """The conversations under Today / Yesterday / Previous 7 days / Older headings, by when
    they were last used, in the reader's time zone."""
    t, heading, zone = ctx.t, None, browser_zone()
    today = datetime.now(zone).date()
    for c in conversations:
        group = recency_group(c.updated_at, today=today, zone=zone)
        if group != heading:
            heading = group
            st.caption(t(f"chat.groups.{group}"))
        is_open = current is not None and c.id == current.id
        title = escape_markdown(c.title) if c.title else t("chat.untitled")
        if st.button(
            title,
            key=f"conv_{c.id}",
            width="stretch",
            type="secondary" if is_open else "tertiary",
            icon=":material/chat_bubble:" if is_open else None,
            help=title if len(c.title) > 28 else None,
        ):
            open_conversation(c.id)
            st.rerun()


def recency_group(moment: datetime, *, today: date, zone: tzinfo) -> str:
    """'today', 'yesterday', 'week' (the 7 days before) or 'older', for a stored time (naive
    means UTC) seen in the reader's time ``zone``."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    days = (today - aware.astimezone(zone).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return "week" if days <= 7 else "older"


def _conversation_actions(ctx: AppContext, current: Conversation) -> None:
    t, store = ctx.t, ctx.conversations
    rename, delete = st.sidebar.columns(2, gap="small")
    with rename.popover(t("chat.rename"), width="stretch", icon=":material/edit:"):
        title = st.text_input(t("chat.title_label"), value=current.title, key=f"title_{current.id}")
        if st.button(t("common.save"), key="chat_rename_save"):
            store.update(current.id, title=title.strip()[:200])
            st.rerun()
    with delete.popover(t("common.delete"), width="stretch", icon=":material/delete:"):
        st.warning(t("chat.delete_confirm"))
        if st.button(t("common.confirm"), key="chat_delete_confirm", type="primary"):
            store.delete(current.id)
            open_conversation(None)
            st.toast(t("chat.deleted"))
            st.rerun()
    left, right = st.sidebar.columns(2, gap="small")
    slug = (current.title or "conversation")[:40]
    left.download_button(
        "Markdown",
        help=t("chat.export_md"),
        icon=":material/download:",
        width="stretch",
        data=lambda: export_markdown(store, current.id),  # built on click, not per rerun
        file_name=f"{slug}.md",
        mime="text/markdown",
        key="chat_export_md",
        on_click="ignore",
    )
    right.download_button(
        "JSON",
        help=t("chat.export_json"),
        icon=":material/download:",
        width="stretch",
        data=lambda: json.dumps(export_json(store, current.id), ensure_ascii=False, indent=2),
        file_name=f"{slug}.json",
        mime="application/json",
        key="chat_export_json",
        on_click="ignore",
    )
