"""Read aloud: the speaker action under an answer and its audio player. The audio is made by
services/speech.py once per (answer, voice, speed) and kept, so playing it again is free; a
new answer is read by itself when autoplay is on. When every speech model is shut down the
action says so instead of failing."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from components.errors import show_error
from services.errors import ChatCanvasError
from services.speech import DEFAULT_VOICE, SPEECH
from services.storage import StoredMessage


def remember_new_answer(message_id: int) -> None:
    """The answer just written in this session (autoplay reads it on the next run)."""
    st.session_state[K.VOICE_NEW] = message_id


def read_aloud(ctx: AppContext, m: StoredMessage) -> None:
    """The speaker action of answer ``m``; under it, its audio once asked for."""
    if m.role != "assistant" or not m.content.strip():
        return
    t = ctx.t
    voice = st.session_state.get(K.VOICE_NAME, DEFAULT_VOICE)
    speed = float(st.session_state.get(K.VOICE_SPEED, 1.0))
    new = st.session_state.get(K.VOICE_NEW) == m.id
    if new:
        st.session_state.pop(K.VOICE_NEW)
    clicked = st.button(
        t("voice.read_aloud"),
        key=f"read_aloud_{m.id}",
        icon=":material/volume_up:",
        type="tertiary",
    )
    autoplay = new and st.session_state.get(K.VOICE_AUTOPLAY, False)
    playing = st.session_state.get(K.VOICE_PLAYING) == m.id
    if not (clicked or autoplay or playing):
        return
    spec = ctx.speech.model(SPEECH, ctx.today, ctx.live_models())
    if spec is None:
        st.caption(":material/volume_off: " + t("voice.speech_gone"))
        return
    if playing and not (clicked or autoplay):  # drawn again on a later run: free, no autoplay
        kept = ctx.speech.kept(m.id, model=spec.id, voice=voice, speed=speed)
        if kept is not None:
            st.audio(kept.audio, format=kept.mime)
        return
    try:
        with st.spinner(t("voice.reading")):
            speech = ctx.speech.read_aloud(
                m.id, m.content, model=spec.id, voice=voice, speed=speed, today=ctx.today
            )
    except ChatCanvasError as err:
        show_error(err, t)
        return
    st.session_state[K.VOICE_PLAYING] = m.id
    st.audio(speech.audio, format=speech.mime, autoplay=True)
