"""Chat: a streaming, multi-turn ChatGPT conversation that is stored as it goes."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext, app_context
from components.conversation_list import conversation_list, current_conversation, open_conversation
from components.errors import show_error
from components.model_picker import model_picker
from components.share_panel import share_panel
from components.sidebar import ensure_models_listed
from components.transcript import render_transcript, write_markdown_stream
from components.usage import format_cost
from services.catalog import ModelSpec
from services.chat import ChatOptions, check_user_text
from services.chat_turns import settle
from services.errors import ChatCanvasError, ErrorKind
from services.markdown_safety import escape_markdown, without_remote_images
from services.shares import ShareKind
from services.storage import Conversation

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
    return spec, ChatOptions(temperature=temperature, max_tokens=int(max_tokens) or None)


def conversation_settings(spec: ModelSpec, options: ChatOptions) -> dict:
    params = {"temperature": options.temperature, "max_tokens": options.max_tokens}
    return {
        "model": spec.id,
        "system_prompt": st.session_state.get(K.CHAT_SYSTEM_PROMPT, ""),
        "params": {k: v for k, v in params.items() if v is not None},
    }


def run_turn(
    ctx: AppContext,
    conversation: Conversation | None,
    action: tuple,
    spec: ModelSpec,
    options: ChatOptions,
) -> None:
    """Run one turn (send, retry, regenerate, edit), streaming into the page; then rerun."""
    t, store, turns = ctx.t, ctx.conversations, ctx.turns
    kind = action[0]
    if kind in ("send", "edit"):
        try:
            check_user_text(action[1])
        except ChatCanvasError as err:
            show_error(err, t)  # nothing stored, nothing sent
            return
    if conversation is None:
        if kind != "send":
            return
        conversation = store.create(**conversation_settings(spec, options))
        open_conversation(conversation.id)
    else:
        store.update(conversation.id, **conversation_settings(spec, options))
        conversation = store.get(conversation.id)
    if kind == "send":
        with st.chat_message("user"):
            st.markdown(without_remote_images(action[1]))
    with st.chat_message("assistant"):
        stop_slot = st.empty()
        pending, completed = None, False
        try:
            with st.spinner(""):
                if kind == "send":
                    pending = turns.send(conversation, action[1], spec.id, options)
                elif kind == "edit":
                    pending = turns.edit_last(conversation, action[1], spec.id, options)
                elif kind == "regenerate":
                    pending = turns.regenerate(conversation, spec.id, options)
                else:
                    pending = turns.reply(conversation, spec.id, options)
            stop_slot.button(t("chat.stop"), key="chat_stop", icon=":material/stop_circle:")
            write_markdown_stream(pending)
            completed = True
        except ChatCanvasError as err:  # raised before the stream opened: nothing to finish
            failed = store.messages(conversation.id, last=1)
            message_id = failed[0].id if failed else None
            st.session_state[K.CHAT_ERROR] = {"message_id": message_id, "error": err}
        finally:
            # Runs also when Stop (or leaving the page) interrupts the script mid-stream.
            if pending is not None:
                pending.finish(stopped=not completed)
    st.rerun()


ctx = app_context()
t = ctx.t
ensure_models_listed()
conversation = current_conversation(ctx)
if conversation is not None:
    # An interrupted run may still be writing this conversation's reply: let it land first.
    settle(conversation.id, cancel=bool(st.session_state.get("chat_stop")))
conversation_list(ctx, conversation)
load_conversation_settings(ctx, conversation)

st.subheader(
    escape_markdown(conversation.title) if conversation and conversation.title else t("chat.title")
)
spec, options = settings_panel(ctx, conversation)
share_panel(ctx, ShareKind.CONVERSATION, conversation.id if conversation else None)

if not ctx.settings.openai_api_key:
    show_error(ChatCanvasError(ErrorKind.NO_KEY), t)

action = st.session_state.pop(K.CHAT_ACTION, None)
prompt = st.chat_input(t("chat.input_placeholder"), key="chat_input")
if prompt is not None:
    action = ("send", prompt)

if conversation is not None:
    totals = ctx.conversations.totals(conversation.id)
    cost = format_cost(totals.cost_usd, t)
    if totals.cost_incomplete:
        cost = t("chat.cost_lower_bound", cost=cost)
    st.caption(
        t(
            "chat.totals",
            messages=totals.messages,
            prompt=f"{totals.prompt_tokens:,}",
            completion=f"{totals.completion_tokens:,}",
            cost=cost,
        )
    )
    shown = st.session_state.get(K.CHAT_SHOWN, PAGE)
    hidden = totals.messages - shown
    if hidden > 0 and st.button(
        t("chat.show_earlier", count=min(hidden, PAGE)), key="chat_show_earlier"
    ):
        st.session_state[K.CHAT_SHOWN] = shown + PAGE
        st.rerun()
    messages = ctx.conversations.messages(conversation.id, last=shown)
    render_transcript(ctx, messages, busy=action is not None)
elif action is None:
    st.info(t("chat.welcome"))

if action is not None:
    run_turn(ctx, conversation, action, spec, options)
