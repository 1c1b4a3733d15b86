"""Chat: a streaming, multi-turn ChatGPT conversation that is stored as it goes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from components import state as K
from components.chat_settings import (
    conversation_settings,
    load_conversation_settings,
    settings_panel,
    settings_read,
)
from components.chat_view import (
    LiveTurn,
    Shown,
    finish_turn_in_place,
    read_transcript,
    transcript,
)
from components.context import AppContext, app_context, connection_fingerprint
from components.conversation_list import conversation_list, current_conversation, open_conversation
from components.errors import show_error
from components.message_images import (
    attach_files,
    attached,
    attachments_panel,
    hold,
    sending_images,
    sent,
)
from components.read_aloud import remember_new_answer
from components.share_panel import share_panel
from components.sidebar import ensure_models_listed
from components.transcript import write_markdown_stream
from components.voice import chat_input_text, kept_recording
from services.catalog import ModelSpec
from services.chat import ChatOptions, check_images, check_user_text
from services.chat_images import FILE_TYPES, MAX_UPLOAD_MB, ChatImage
from services.chat_turns import PendingReply, live_reply, settle
from services.errors import ChatCanvasError, ErrorKind
from services.markdown_safety import escape_markdown, without_remote_images
from services.shares import ShareKind
from services.storage import Conversation

PART = "chat_turn"  # the fragment with the transcript and the turn
LIVE = "chat_live"  # a mark (hidden) on the page while a reply is drawn; Stop shows only then
STOP_STYLE = (
    f"<style>.st-key-{LIVE} {{display: none;}}"
    f" body:not(:has(.st-key-{LIVE})) .st-key-chat_stop {{display: none;}}</style>"
)


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
        # made from the settings on screen: a later run must not fill them again from it
        st.session_state[K.CHAT_LOADED_CONVERSATION] = conversation.id
    else:  # the settings on screen go with the conversation (only what changed is written)
        settings = conversation_settings(spec, options)
        changed = {k: v for k, v in settings.items() if getattr(conversation, k) != v}
        if changed:
            store.update(conversation.id, **changed)
            conversation = replace(conversation, **changed)
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
    it (Stop shows while it is drawn). Leaving the page only stops the drawing, not the reply.
    When the reply is stored, a new message whose conversation's title is on screen is
    finished where it stands (``ends_in_place``); anything else (regenerate, edit, a reply
    followed after a reload...) reruns the page."""
    if turn.refused is not None:
        show_error(turn.refused, ctx.t)
        return
    if turn.pending is None:
        return
    live = LiveTurn(st.empty(), st.empty(), images=bool(turn.images))
    with live.turn.container():
        live.mark = st.empty()
        with live.mark.container(key=LIVE):  # a container is drawn only if it shows something
            st.markdown("")
        if turn.action[0] == "send":
            with st.chat_message("user"):
                st.markdown(without_remote_images(turn.action[1]))
                sending_images(ctx, turn.images)
                live.user_tail = st.empty()
        with st.chat_message("assistant"):
            live.text = write_markdown_stream(turn.pending.follow())
            live.reply_tail = st.empty()
    remember_new_answer(turn.pending.row.id)  # autoplay reads it, in place or on the rerun
    if not (ends_in_place and finish_turn_in_place(ctx, turn.pending, live, totals_slot)):
        st.rerun()


@dataclass
class Part:
    """What the conversation part draws: the transcript and the turn under it."""

    shown: Shown | None
    turn: Turn | None
    ends_in_place: bool
    conversation: Conversation | None  # the one on screen once the turn began (perhaps new)


def prepare(
    ctx: AppContext,
    conversation: Conversation | None,
    action: tuple | None,
    spec: ModelSpec,
    options: ChatOptions,
    whole_page: bool = False,
) -> Part:
    """Begin the turn ``action`` asks for (or follow a reply still being written) and read
    the transcript it is drawn under. On a run of the whole page (``whole_page``) the header,
    the sidebar and the share panel are drawn after this, from the conversation it returns."""
    if action is not None and action[0] == "version" and conversation is not None:
        ctx.turns.show_version(conversation, action[1])  # flip to an earlier or later version
        action = None
    # A reply still being written (this session left and came back, or another tab): follow it.
    live = live_reply(conversation.id) if conversation is not None else None
    if live is not None and action is not None:
        settle(conversation.id, cancel=True)  # a new turn replaces the one being written
        live = None
    # a message sent in a conversation: its transcript is read once the request has left
    sending = action is not None and action[0] == "send" and conversation is not None
    shown = None if sending else read_transcript(ctx, conversation, live, busy=bool(action))
    if action is None:
        turn = Turn(("follow",), live) if live is not None else None
        return Part(shown, turn, False, conversation)
    turn = begin_turn(ctx, conversation, action, spec, options)
    if sending:
        shown = read_transcript(ctx, conversation, None, busy=True, under=turn.pending)
    if turn.pending is not None and whole_page:  # perhaps made by the turn, titled now
        conversation = ctx.conversations.get(turn.pending.row.conversation_id)
    # a new message under a transcript on screen, in a conversation whose title is drawn
    in_place = turn.action[0] == "send" and (whole_page or shown is not None)
    return Part(shown, turn, in_place and bool(conversation and conversation.title), conversation)


@st.fragment(key=PART)
def conversation_part() -> None:
    """The transcript and the turn under it. A full run hands over what it prepared; a run of
    this part alone (a message sent in place, a button in the transcript) prepares its own
    with the settings the last full run read."""
    ctx = app_context()
    part = st.session_state.pop(K.CHAT_PART, None)
    if part is None:
        spec, options, _ = st.session_state[K.CHAT_PART_SETTINGS]
        action = st.session_state.pop(K.CHAT_ACTION, None)
        read = st.session_state.pop(K.CHAT_SENT_IN, None)  # by the input's callback, just now
        if read is None or read.id != st.query_params.get("c"):
            read = current_conversation(ctx)
        part = prepare(ctx, read, action, spec, options)
    totals_slot = transcript(ctx, part.shown, busy=part.turn is not None)
    if part.turn is not None:
        show_turn(ctx, part.turn, part.ends_in_place, totals_slot)
    # the sidebar's budget line, after a reply ended in place; a fragment may write outside
    # itself only where it wrote on the last full run, so every run of the part draws it
    ctx.redraw_budget()


def page_header(ctx: AppContext, conversation: Conversation | None, heading, new_chat) -> None:
    """The conversation's title, and "New chat" beside it, into their places."""
    title = conversation.title if conversation else None
    heading.subheader(escape_markdown(title) if title else ctx.t("chat.title"))
    if conversation is not None:  # on a phone the sidebar's "New chat" is out of sight
        new_chat.button(
            ctx.t("chat.new"),
            key="chat_new_on_page",
            icon=":material/add:",
            on_click=open_conversation,
            args=(None,),
        )


def _typed(value: object) -> str | None:
    """The text of a chat_input submission that is only typed text (no file, no recording)."""
    if isinstance(value, str):
        return value
    if value is None or getattr(value, "files", None) or getattr(value, "audio", None):
        return None
    return getattr(value, "text", None)


def send_in_place() -> None:
    """chat_input's on_submit. A typed message in a conversation that has its title and leads
    the sidebar's list reruns only the conversation part: the sidebar, the settings and the
    header would be sent again unchanged. So does the first message of a new conversation:
    its reply streams under the page as it stands, and the page runs again when the reply is
    stored (the conversation's title and its place in the sidebar: those stay outside every
    fragment, as a click in a fragment would wait for a reply being drawn to end; drawing
    them with the turn, a run of the whole page before the first token, made that token
    later for every session under load, see bench/bench_sessions.py). Anything else (files,
    a recording, an older conversation, a held message...) runs the whole page, which draws
    the title, the list and the share panel after the turn has begun."""
    ctx = app_context()
    text = _typed(st.session_state.get("chat_input"))
    waiting = (K.CHAT_HELD, K.CHAT_EDITING, K.CHAT_ACTION, K.CHAT_ERROR, K.CHAT_SEARCH)
    if not text or not text.strip() or not ctx.settings.openai_api_key or attached():
        return
    if any(st.session_state.get(key) for key in waiting):
        return
    if settings_read() != st.session_state[K.CHAT_PART_SETTINGS][2]:
        return  # a setting changed since the last page run read them (its run cut short)
    try:
        check_user_text(text)
    except ChatCanvasError:
        return  # refused: the whole page keeps the text
    open_id = st.query_params.get("c") or st.session_state.get(K.CHAT_OPEN)
    if open_id:
        first = ctx.conversations.list("", limit=1)
        if not first or first[0].id != open_id or not first[0].title:
            return  # the sidebar's list would change (its order, a title): whole page
        st.session_state[K.CHAT_SENT_IN] = first[0]  # the part's run needs not read it again
    st.session_state.pop(K.CHAT_PART, None)
    st.session_state[K.CHAT_ACTION] = ("send", text)
    st.rerun(PART)


ctx = app_context()
t = ctx.t
st.session_state.pop(K.CHAT_SENT_IN, None)  # a part's run this page run replaced
ensure_models_listed()
conversation = current_conversation(ctx)
if conversation is not None and st.session_state.get("chat_stop"):
    settle(conversation.id, cancel=True)  # only Stop ends a reply; it is stored as "stopped"
load_conversation_settings(ctx, conversation)

heading, new_chat = st.columns([4, 1], vertical_alignment="center")
heading, new_chat = heading.empty(), new_chat.empty()  # a first message fills them again
page_header(ctx, conversation, heading, new_chat)
spec, options = settings_panel(ctx, conversation)
st.session_state[K.CHAT_PART_SETTINGS] = (spec, options, settings_read())
# Stop is outside the conversation part so that its click runs the whole page, which
# interrupts the part's run (a click inside a fragment waits for the fragment's run to end)
with st.bottom:
    st.html(STOP_STYLE)
    st.button(t("chat.stop"), key="chat_stop", icon=":material/stop_circle:")
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
    on_submit=send_in_place,
)
files_ok = attach_files(ctx, prompt)  # checked and downscaled; they wait for a question
said = chat_input_text(ctx, prompt)  # a recording becomes text, or is kept for another try
if said is not None and not files_ok:
    hold(said)  # a file was refused: the text waits with the others, to send or change
elif said is not None and (said.strip() or not attached()):
    action = ("send", said)
part = prepare(ctx, conversation, action, spec, options, whole_page=True)
st.session_state[K.CHAT_PART] = part
if conversation is None and part.conversation is not None:  # made by its first message
    page_header(ctx, part.conversation, heading, new_chat)
conversation = part.conversation
conversation_list(ctx, conversation)
share_panel(ctx, ShareKind.CONVERSATION, conversation.id if conversation else None)
conversation_part()
attachments_panel(ctx)
kept_recording(ctx, "chat", lambda text: st.session_state.update({K.CHAT_ACTION: ("send", text)}))
