"""The minimal chat app (bench/minimal_chat_app.py) with the controls a chat dashboard shows,
the second baseline of bench_sessions: what a page with a sidebar of conversations and a
settings panel costs the browsers, with none of ChatCanvas's own work (sign-in, services,
budget, stored settings, fragments). Every message runs the whole page, as in the minimal app.

The controls mirror ChatCanvas's chat page: in the sidebar, a language choice, the user and a
sign-out, a key form, New chat, search, the list of chats (from the same SQLite table), rename
and delete, two exports and an import; above the chat, a settings panel (preset, model, max
tokens, system prompt, effort, temperature, streaming). Model, max tokens and system prompt
reach the request; the others only draw."""

from __future__ import annotations

import uuid

import streamlit as st
from baseline_chat import MODEL, answer, db, show_history  # streamlit run puts bench/ on sys.path


def sidebar(chat_id: str) -> None:
    with st.sidebar:
        st.radio("Language", ["한국어", "English"], horizontal=True, key="lang")
        st.markdown("**Bench user**")
        st.button("Sign out", key="sign_out")
        with st.expander("API key"):
            st.text_input("OpenAI API key", type="password", key="api_key")
            st.text_input("Base URL", key="base_url")
            st.button("Save", key="save_key")
        if st.button("New chat", type="primary", width="stretch", key="new"):
            st.session_state.chat_id = uuid.uuid4().hex
            st.rerun()
        query = st.text_input("Search", key="search", label_visibility="collapsed")
        with db() as conn:
            chats = conn.execute(
                "SELECT chat, MIN(content) FROM messages WHERE role = 'user' AND content LIKE ?"
                " GROUP BY chat ORDER BY MAX(rowid) DESC LIMIT 30",
                (f"%{query}%",),
            ).fetchall()
        st.caption("Today")
        for other, title in chats:
            if st.button(title[:40], key=f"chat_{other}", width="stretch", type="tertiary"):
                st.session_state.chat_id = other
                st.rerun()
        rename, delete = st.columns(2)
        with rename.popover("Rename", width="stretch"):
            st.text_input("Title", key="title")
            st.button("Save", key="rename")
        with delete.popover("Delete", width="stretch"):
            st.warning("Delete this conversation?")
            st.button("Delete", key="delete")
        left, right = st.columns(2)
        left.download_button("Markdown", data=chat_id, file_name="chat.md", on_click="ignore")
        right.download_button("JSON", data=chat_id, file_name="chat.json", on_click="ignore")
        st.file_uploader("Import a conversation", type=["json"], key="import")


def settings() -> dict:
    with st.expander("Settings"):
        st.selectbox("Preset", ["General", "Translator", "Image prompt"], key="preset")
        label, tokens = st.columns(2)
        label.markdown("Max tokens")
        max_tokens = tokens.number_input("Max tokens", 16, 16384, 1024, key="max_tokens")
        model = st.selectbox("Model", [MODEL, "gpt-5.4"], key="model")
        system = st.text_area("System prompt", key="system")
        st.markdown("Parameters")
        effort, temperature, stream = st.columns(3)
        effort.selectbox("Effort", ["low", "medium", "high"], key="effort")
        temperature.slider("Temperature", 0.0, 2.0, 1.0, key="temperature")
        stream.checkbox("Stream", value=True, key="stream")
    return {"model": model, "max_completion_tokens": int(max_tokens), "system": system}


chat_id = st.session_state.setdefault("chat_id", uuid.uuid4().hex)
sidebar(chat_id)
st.subheader("Chat")
options = settings()
history = show_history(chat_id)
if prompt := st.chat_input("Message"):
    answer(chat_id, history, prompt, **options)
