"""The smallest reasonable Streamlit chat app, the baseline of bench_sessions: history in
SQLite, one streamed reply per message through the openai SDK, st.write_stream (the parts it
shares with the controls baseline are in baseline_chat.py)."""

from __future__ import annotations

import uuid

import streamlit as st
from baseline_chat import answer, show_history  # streamlit run puts bench/ on sys.path

chat_id = st.session_state.setdefault("chat_id", uuid.uuid4().hex)
history = show_history(chat_id)
if prompt := st.chat_input("Message"):
    answer(chat_id, history, prompt)
