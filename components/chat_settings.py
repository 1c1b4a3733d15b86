"""The chat page's settings: model, temperature, output limit, preset and system prompt, voice;
filled from a conversation when it is opened and stored with a new one."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext, app_context
from components.model_picker import model_picker
from components.voice import voice_settings
from services.catalog import ModelSpec
from services.chat import ChatOptions
from services.storage import Conversation

PRESETS = ("assistant", "visual_describer", "image_prompt_writer", "translator", "custom")
WIDGETS = (K.CHAT_MODEL, K.CHAT_TEMPERATURE, K.CHAT_MAX_TOKENS, K.CHAT_PRESET, K.CHAT_SYSTEM_PROMPT)


def settings_read() -> tuple:
    """The settings widgets' values now: a run of the conversation part alone may use the
    settings the last page run read only while these are still what that run read."""
    return tuple(st.session_state.get(key) for key in WIDGETS)


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
