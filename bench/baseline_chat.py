"""What bench_sessions' two baseline apps share: history in SQLite, one streamed reply per
message through the openai SDK, st.write_stream."""

from __future__ import annotations

import os
import sqlite3

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


def show_history(chat_id: str) -> list[tuple[str, str]]:
    """Draws the chat's messages; returns them as (role, content)."""
    with db() as conn:
        history = conn.execute(
            "SELECT role, content FROM messages WHERE chat = ? ORDER BY rowid", (chat_id,)
        ).fetchall()
    for role, content in history:
        st.chat_message(role).write(content)
    return history


def answer(chat_id: str, history: list, prompt: str, system: str = "", **options) -> None:
    """Draws ``prompt``, streams the model's reply under it and stores both."""
    st.chat_message("user").write(prompt)
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": r, "content": c} for r, c in history]
    messages.append({"role": "user", "content": prompt})
    options.setdefault("model", MODEL)
    stream = client().chat.completions.create(messages=messages, stream=True, **options)
    deltas = (c.choices[0].delta.content or "" for c in stream if c.choices)
    with st.chat_message("assistant"):
        reply = st.write_stream(deltas)
    with db() as conn:
        conn.executemany(
            "INSERT INTO messages VALUES (?, ?, ?)",
            [(chat_id, "user", prompt), (chat_id, "assistant", reply)],
        )
