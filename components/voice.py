"""Voice input: a recording from the chat input or the studio's idea box becomes text
(services/speech.py), the language hinted from the UI language. When no words come out of it
or the transcription fails, nothing is sent: the recording (and any typed text) is kept with
the error, to listen to, try again or discard."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import state as K
from components.context import AppContext, app_context
from components.errors import show_error
from services.errors import ChatCanvasError, ErrorKind
from services.markdown_safety import escape_markdown
from services.speech import DEFAULT_VOICE, SPEEDS, TRANSCRIBE, VOICES

STUDIO_AUDIO = "studio_idea_audio"  # the studio's recorder (its value is the recording)


def voice_settings(ctx: AppContext) -> None:
    """Read-aloud voice, speed and autoplay (kept for the browser session)."""
    t = ctx.t
    st.session_state.setdefault(K.VOICE_NAME, DEFAULT_VOICE)
    st.session_state.setdefault(K.VOICE_SPEED, 1.0)
    st.caption(t("voice.settings"))
    voice, speed, autoplay = st.columns(3, vertical_alignment="bottom")
    voice.selectbox(t("voice.voice"), VOICES, key=K.VOICE_NAME, persist_state="session")
    speed.slider(
        t("voice.speed"),
        SPEEDS[0],
        SPEEDS[1],
        step=0.25,
        key=K.VOICE_SPEED,
        help=t("voice.speed_help"),
        persist_state="session",
    )
    autoplay.toggle(
        t("voice.autoplay"),
        key=K.VOICE_AUTOPLAY,
        help=t("voice.autoplay_help"),
        persist_state="session",
    )


def _kept() -> dict:
    return st.session_state.setdefault(K.VOICE_KEPT, {})


def transcribe_or_keep(ctx: AppContext, where: str, audio: bytes, typed: str = "") -> str | None:
    """The typed text followed by the recording's words; None when the recording gave no
    text (it is kept under ``where`` with the error and the typed text)."""
    speech = ctx.speech
    try:
        spec = speech.model(TRANSCRIBE, ctx.today, ctx.live_models())
        if spec is None:
            raise ChatCanvasError(ErrorKind.NO_AUDIO_MODEL, "no transcription model")
        words = speech.transcribe(audio, model=spec.id, today=ctx.today, language=ctx.t.lang).text
    except ChatCanvasError as err:
        _kept()[where] = {"audio": audio, "text": typed, "error": err}
        return None
    _kept().pop(where, None)
    return f"{typed.strip()} {words}" if typed.strip() else words


def chat_input_text(ctx: AppContext, submitted: object) -> str | None:
    """What a submission of ``st.chat_input(accept_audio=True)`` says: its text, with a
    recording's words after it. None: nothing submitted, or the recording was kept."""
    if submitted is None:
        return None
    if isinstance(submitted, str):
        return submitted
    typed, audio = submitted.text or "", submitted.audio
    if audio is None:
        return typed
    with st.spinner(ctx.t("voice.transcribing")):
        return transcribe_or_keep(ctx, "chat", audio.getvalue(), typed)


def _retry(where: str, on_text: Callable[[str], None]) -> None:
    kept = _kept().get(where)
    if kept is not None:
        text = transcribe_or_keep(app_context(), where, kept["audio"], kept["text"])
        if text is not None:
            on_text(text)


def _discard(where: str) -> None:
    _kept().pop(where, None)


def kept_recording(ctx: AppContext, where: str, on_text: Callable[[str], None]) -> None:
    """A recording that gave no text: its error, a player, Try again (``on_text`` gets the
    text when it works) and Discard."""
    kept = _kept().get(where)
    if not kept:
        return
    t = ctx.t
    with st.container(border=True):
        show_error(kept["error"], t)
        st.caption(t("voice.kept"))
        if kept["text"].strip():
            st.caption(t("voice.kept_text", text=escape_markdown(kept["text"])))
        st.audio(kept["audio"], format="audio/wav")
        with st.container(horizontal=True):
            st.button(
                t("voice.retry"),
                key=f"voice_retry_{where}",
                icon=":material/refresh:",
                on_click=_retry,
                args=(where, on_text),
            )
            st.button(
                t("voice.discard"),
                key=f"voice_discard_{where}",
                icon=":material/delete:",
                on_click=_discard,
                args=(where,),
            )


def _append_idea(idea_key: str) -> Callable[[str], None]:
    def append(words: str) -> None:
        idea = st.session_state.get(idea_key, "").rstrip()
        st.session_state[idea_key] = f"{idea}\n{words}" if idea else words

    return append


def _idea_spoken(idea_key: str) -> None:
    recording = st.session_state.get(STUDIO_AUDIO)
    if recording is not None:
        words = transcribe_or_keep(app_context(), "studio", recording.getvalue())
        if words is not None:
            _append_idea(idea_key)(words)


def idea_recorder(ctx: AppContext, idea_key: str) -> None:
    """The studio's microphone: a recording's words are added to the idea box."""
    st.audio_input(
        ctx.t("voice.speak_idea"),
        key=STUDIO_AUDIO,
        help=ctx.t("voice.speak_idea_help"),
        on_change=_idea_spoken,
        args=(idea_key,),
        sample_rate=16000,
    )
    kept_recording(ctx, "studio", _append_idea(idea_key))
