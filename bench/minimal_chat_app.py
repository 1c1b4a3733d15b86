"""The smallest reasonable Streamlit chat app, the baseline of bench_sessions: history in
SQLite, one streamed reply per message through the openai SDK, st.write_stream."""

from __future__ import annotations

import os
import sqlite3
import uuid

import openai
import streamlit as st

DB = os.environ.get("MINIMAL_DB", "minimal_chat.db")
MODEL = os.environ.get("MINIMAL_MODEL", "gpt-5.4-mini")


@st.cache_resource
def client() -> openai.OpenAI:
    return openai.OpenAI(max_retries=0)


def db() -> sqlite3.Connection:
    conn = sqlite3.connect(DB, timeout=30)
    conn.execute("CREATE TABLE IF NOT EXISTS messages (chat TEXT, role TEXT, content TEXT)")
    return conn


chat_id = st.session_state.setdefault("chat_id", uuid.uuid4().hex)
with db() as conn:
    history = conn.execute(
        "SELECT role, content FROM messages WHERE chat = ? ORDER BY rowid", (chat_id,)
    ).fetchall()
for role, content in history:
    st.chat_message(role).write(content)

if prompt := st.chat_input("Message"):
    st.chat_message("user").write(prompt)
    messages = [{"role": r, "content": c} for r, c in history] + [
        {"role": "user", "content": prompt}
    ]
    stream = client().chat.completions.create(model=MODEL, messages=messages, stream=True)
    deltas = (c.choices[0].delta.content or "" for c in stream if c.choices)
    with st.chat_message("assistant"):
        reply = st.write_stream(deltas)
    with db() as conn:
        conn.executemany(
            "INSERT INTO messages VALUES (?, ?, ?)",
            [(chat_id, "user", prompt), (chat_id, "assistant", reply)],
        )
