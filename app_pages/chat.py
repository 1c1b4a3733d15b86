"""Chat: a streaming, multi-turn ChatGPT conversation that is stored as it goes."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import state as K
from components.context import AppContext, app_context, connection_fingerprint
from components.conversation_list import conversation_list, current_conversation, open_conversation
from components.errors import show_error
from components.message_images import (
    attach_files,
    attached,
    attachments_panel,
    hold,
    message_thumbnails,
    sending_images,
    sent,
)
from components.model_picker import model_picker
from components.read_aloud import remember_new_answer
from components.share_panel import share_panel
from components.sidebar import ensure_models_listed
from components.transcript import render_transcript, write_markdown_stream
from components.voice import chat_input_text, kept_recording, voice_settings
from services.catalog import ModelSpec
from services.chat import ChatOptions, check_images, check_user_text
from services.chat_images import FILE_TYPES, MAX_UPLOAD_MB, ChatImage
from services.chat_turns import PendingReply, live_reply, settle
from services.errors import ChatCanvasError, ErrorKind
from services.markdown_safety import escape_markdown, without_remote_images
from services.shares import ShareKind
from services.storage import Conversation
from services.storage.conversations import ConversationTotals, StoredMessage
from services.wording import format_cost

PAGE = 30  # messages drawn at once; older ones behind "show earlier"
PRESETS = ("assistant", "visual_describer", "image_prompt_writer", "translator", "custom")


def _within(value: object, default: float, low: float, high: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def load_conversation_settings(ctx: AppContext, conversation: Conversation | None) -> None:
    """Fill the settings widgets from a conversation when it is opened (once)."""
    opened = conversation.id if conversation else None
    if st.session_state.get(K.CHAT_LOADED_CONVERSATION, "") == opened:
        return
    st.session_state[K.CHAT_LOADED_CONVERSATION] = opened
    st.session_state.setdefault(K.CHAT_TEMPERATURE, 1.0)
    st.session_state.setdefault(K.CHAT_MAX_TOKENS, 0)
    if conversation is None:
        st.session_state.setdefault(K.CHAT_PRESET, "assistant")
        st.session_state.setdefault(K.CHAT_SYSTEM_PROMPT, ctx.t("chat.presets.assistant.prompt"))
        return
    if conversation.model:
        st.session_state[K.CHAT_MODEL] = conversation.model
    st.session_state[K.CHAT_SYSTEM_PROMPT] = conversation.system_prompt
    preset = next(
        (p for p in PRESETS if ctx.t(f"chat.presets.{p}.prompt") == conversation.system_prompt),
        "custom",
    )
    st.session_state[K.CHAT_PRESET] = preset
    # params may come from an imported file: keep them within what the widgets accept
    st.session_state[K.CHAT_TEMPERATURE] = _within(
        conversation.params.get("temperature"), 1.0, 0, 2
    )
    st.session_state[K.CHAT_MAX_TOKENS] = int(
        _within(conversation.params.get("max_tokens"), 0, 0, 1e6)
    )


def apply_preset() -> None:
    preset = st.session_state[K.CHAT_PRESET]
    if preset != "custom":
        st.session_state[K.CHAT_SYSTEM_PROMPT] = app_context().t(f"chat.presets.{preset}.prompt")


def settings_panel(
    ctx: AppContext, conversation: Conversation | None
) -> tuple[ModelSpec, ChatOptions]:
    t = ctx.t
    with st.expander(t("chat.settings"), expanded=conversation is None, icon=":material/tune:"):
        spec = model_picker(
            ctx, kind="chat", key=K.CHAT_MODEL, keep=conversation.model if conversation else None
        )
        left, right = st.columns(2)
        temperature = None
        with left:
            if spec.takes_temperature:
                temperature = st.slider(
                    t("chat.temperature"),
                    0.0,
                    2.0,
                    step=0.1,
                    key=K.CHAT_TEMPERATURE,
                    persist_state="session",
                )
            else:
                st.caption(t("chat.reasoning_note"))
        with right:
            max_tokens = st.number_input(
                t("chat.max_tokens"),
                min_value=0,
                max_value=spec.max_output or 1_000_000,
                step=256,
                key=K.CHAT_MAX_TOKENS,
                persist_state="session",
                help=t("chat.max_tokens_help", param=spec.token_limit_param),
            )
        st.selectbox(
            t("chat.preset"),
            PRESETS,
            key=K.CHAT_PRESET,
            persist_state="session",
            format_func=lambda p: t(f"chat.presets.{p}.label"),
            on_change=apply_preset,
        )
        st.text_area(
            t("chat.system_prompt"), key=K.CHAT_SYSTEM_PROMPT, height=100, persist_state="session"
        )
        voice_settings(ctx)
    return spec, ChatOptions(temperature=temperature, max_tokens=int(max_tokens) or None)


def conversation_settings(spec: ModelSpec, options: ChatOptions) -> dict:
    params = {"temperature": options.temperature, "max_tokens": options.max_tokens}
    return {
        "model": spec.id,
        "system_prompt": st.session_state.get(K.CHAT_SYSTEM_PROMPT, ""),
        "params": {k: v for k, v in params.items() if v is not None},
    }


@dataclass
class Turn:
    """A turn begun before the rest of the page is drawn, so the model is already working
    while the sidebar and the transcript are drawn."""

    action: tuple
    pending: PendingReply | None = None
    refused: ChatCanvasError | None = None  # the text was refused: nothing stored, nothing sent
    images: tuple[ChatImage, ...] = ()  # attached to the message sent


def begin_turn(
    ctx: AppContext,
    conversation: Conversation | None,
    action: tuple,
    spec: ModelSpec,
    options: ChatOptions,
) -> Turn:
    """Store the turn and open the reply's stream (send, retry, regenerate, edit). A failure
    before the stream opens is remembered for the message it concerns, and the page reruns."""
    store, turns = ctx.conversations, ctx.turns
    kind = action[0]
    if not ctx.settings.openai_api_key:  # nothing is stored for a message that cannot be sent
        return Turn(action, refused=ChatCanvasError(ErrorKind.NO_KEY))
    if kind in ("send", "edit"):
        try:
            check_user_text(action[1])
            if kind == "send":  # refused here, nothing typed or attached is lost
                check_images(spec, len(attached()))
        except ChatCanvasError as err:
            hold(action[1], err)
            return Turn(action, refused=err)
    if conversation is None:
        if kind != "send":
            return Turn(action)
        conversation = store.create(**conversation_settings(spec, options))
        open_conversation(conversation.id)
    else:
        store.update(conversation.id, **conversation_settings(spec, options))
        conversation = store.get(conversation.id)
    try:
        images: tuple[ChatImage, ...] = ()
        if kind == "send":
            images = tuple(attached())
            sent()  # stored with the message from here on, even if the reply cannot start
            pending = turns.send(conversation, action[1], spec.id, options, images)
        elif kind == "edit":
            pending = turns.edit_last(conversation, action[1], spec.id, options)
        elif kind == "regenerate":
            pending = turns.regenerate(conversation, spec.id, options)
        else:
            pending = turns.reply(conversation, spec.id, options)
        pending.in_background()  # the reply goes on if this run is left (another page, reload)
    except ChatCanvasError as err:  # raised before the stream opened: nothing to finish
        failed = store.messages(conversation.id, last=1)
        message_id = failed[0].id if failed else None
        st.session_state[K.CHAT_ERROR] = {
            "message_id": message_id,
            "error": err,
            "connection": connection_fingerprint(ctx.settings),  # what it failed with
        }
        st.rerun()
    return Turn(action, pending, images=images)


def show_turn(ctx: AppContext, turn: Turn, ends_in_place: bool, totals_slot) -> None:
    """Draw the turn under the transcript: the user's message, the reply as its writer stores
    it, with Stop. Leaving the page only stops the drawing, not the reply. When the reply is
    stored, a new message in a conversation already on screen is finished where it stands
    (``ends_in_place``); anything else (a first message, regenerate, edit...) reruns the page."""
    if turn.refused is not None:
        show_error(turn.refused, ctx.t)
        return
    if turn.pending is None:
        return
    live_turn = st.empty()
    with live_turn.container():
        if turn.action[0] == "send":
            with st.chat_message("user"):
                st.markdown(without_remote_images(turn.action[1]))
                sending_images(ctx, turn.images)
        with st.chat_message("assistant"):
            st.button(ctx.t("chat.stop"), key="chat_stop", icon=":material/stop_circle:")
            write_markdown_stream(turn.pending.follow())
    remember_new_answer(turn.pending.row.id)  # autoplay reads it, in place or on the rerun
    if not (ends_in_place and finish_turn_in_place(ctx, turn.pending, live_turn, totals_slot)):
        st.rerun()


def thumbnails_of(ctx: AppContext, messages: list[StoredMessage]):
    """render_transcript's ``images``: the thumbnails of the user messages among ``messages``."""
    found = ctx.conversations.attachments.thumbnails([m.id for m in messages if m.role == "user"])
    return lambda m: message_thumbnails(ctx, found[m]) if m in found else None


def finish_turn_in_place(ctx: AppContext, pending: PendingReply, live_turn, totals_slot) -> bool:
    """Replace the live drawing of a sent message and its reply by the stored pair with its
    caption and actions, and update the totals and the budget line, without another page
    run (the rest of the page is already what a rerun would draw). False when the stored
    conversation no longer ends with that pair (another tab wrote to it)."""
    conversation_id = pending.row.conversation_id
    pair = ctx.conversations.messages(conversation_id, last=2)
    if [(m.role, m.id == pending.row.id) for m in pair] != [("user", False), ("assistant", True)]:
        return False
    with live_turn.container():
        # a new reply has one version: no pager
        render_transcript(ctx, pair, busy=False, images=thumbnails_of(ctx, pair))
    totals_caption(ctx, ctx.conversations.totals(conversation_id), totals_slot)
    ctx.redraw_budget()
    return True


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
    ctx: AppContext, conversation: Conversation | None, live: PendingReply | None
) -> Shown | None:
    """The stored messages to draw; a reply being written (``live``) is drawn by its turn."""
    if conversation is None:
        return None
    shown = st.session_state.get(K.CHAT_SHOWN, PAGE)
    totals = ctx.conversations.totals(conversation.id)
    messages = ctx.conversations.messages(conversation.id, last=shown)
    versions = [m.id for m in ctx.turns.versions(conversation, messages)]
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
        return None
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


ctx = app_context()
t = ctx.t
ensure_models_listed()
conversation = current_conversation(ctx)
if conversation is not None and st.session_state.get("chat_stop"):
    settle(conversation.id, cancel=True)  # only Stop ends a reply; it is stored as "stopped"
load_conversation_settings(ctx, conversation)

heading, new_chat = st.columns([4, 1], vertical_alignment="center")
heading.subheader(
    escape_markdown(conversation.title) if conversation and conversation.title else t("chat.title")
)
if conversation is not None:  # on a phone the sidebar's "New chat" is out of sight
    new_chat.button(
        t("chat.new"),
        key="chat_new_on_page",
        icon=":material/add:",
        on_click=open_conversation,
        args=(None,),
    )
spec, options = settings_panel(ctx, conversation)
# chat_input is pinned under the page wherever it is called: read it before drawing the rest
action = st.session_state.pop(K.CHAT_ACTION, None)
has_key = bool(ctx.settings.openai_api_key)
prompt = st.chat_input(
    t("chat.input_placeholder") if has_key else t("welcome.chat_needs_key"),
    key="chat_input",
    disabled=not has_key,
    accept_file="multiple",
    file_type=list(FILE_TYPES),
    max_upload_size=MAX_UPLOAD_MB,
    accept_audio=True,
)
files_ok = attach_files(ctx, prompt)  # checked and downscaled; they wait for a question
said = chat_input_text(ctx, prompt)  # a recording becomes text, or is kept for another try
if said is not None and not files_ok:
    hold(said)  # a file was refused: the text waits with the others, to send or change
elif said is not None and (said.strip() or not attached()):
    action = ("send", said)
if action is not None and action[0] == "version" and conversation is not None:
    ctx.turns.show_version(conversation, action[1])  # flip to an earlier or later version
    action = None
# A reply still being written (this session left and came back, or another tab): follow it.
live = live_reply(conversation.id) if conversation is not None else None
if live is not None and action is not None:
    settle(conversation.id, cancel=True)  # a new turn replaces the one being written
    live = None
shown = read_transcript(ctx, conversation, live)
if action is not None:
    turn = begin_turn(ctx, conversation, action, spec, options)
else:
    turn = Turn(("follow",), live) if live is not None else None
conversation_list(ctx, conversation)
share_panel(ctx, ShareKind.CONVERSATION, conversation.id if conversation else None)
totals_slot = transcript(ctx, shown, busy=turn is not None)
attachments_panel(ctx)
kept_recording(ctx, "chat", lambda text: st.session_state.update({K.CHAT_ACTION: ("send", text)}))
if turn is not None:
    # a new message under a transcript already on screen (a conversation with its title)
    ends_in_place = turn.action[0] == "send" and bool(conversation and conversation.title)
    show_turn(ctx, turn, ends_in_place, totals_slot)
