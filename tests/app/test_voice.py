"""Voice through AppTest: a recording in the chat input or the studio's idea box becomes
text; an answer is read aloud once and replayed for free; retired speech models are said."""

from __future__ import annotations

import uuid
from dataclasses import replace

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1.element_tree import ChatInput

from tests.app.test_chat_page import bubbles, send, texts
from tests.app.test_studio_page import open_studio
from tests.fakes.openai_audio import tone_wav
from tests.unit.test_speech import silent_wav


class _SpokenChatInput(ChatInput):
    """The chat input with a recording from its microphone (AppTest can attach files to
    st.chat_input, not a recording): the browser sends it as ``audio_file_info``."""

    _recording: tuple[str, str, bytes, str]

    def _get_files_to_register(self):
        return [self._recording]

    @property
    def _widget_state(self) -> WidgetState:
        ws = WidgetState()
        ws.id = self.id
        ws.chat_input_value.data = self._value or ""
        file_id, name, content, _ = self._recording
        info = ws.chat_input_value.audio_file_info
        info.file_id, info.name, info.size = file_id, name, len(content)
        info.file_urls.file_id = file_id
        info.file_urls.upload_url = f"/mock/upload/test session id/{file_id}"
        info.file_urls.delete_url = f"/mock/upload/test session id/{file_id}"
        return ws


def speak(at, recording: bytes, typed: str = ""):
    box = at.chat_input[0]
    box.__class__ = _SpokenChatInput
    box._recording = (str(uuid.uuid4()), "audio.wav", recording, "audio/wav")
    box._value = typed
    at.run()
    assert not at.exception, at.exception
    return at


def requests_to(fake, path: str):
    return [r for r in fake.requests if r.path.endswith(path)]


# -- voice input -------------------------------------------------------------------------
def test_a_spoken_question_is_sent_and_answered(app, fake_openai):
    speak(app, tone_wav(1.0))
    assert [role for role, _ in bubbles(app)] == ["user", "assistant"]
    assert bubbles(app)[0][1] == fake_openai.transcript
    assert fake_openai.transcript in bubbles(app)[1][1]
    heard = requests_to(fake_openai, "/audio/transcriptions")[0].body
    assert heard["language"] == "en" and heard["model"] == "gpt-transcribe"


def test_typed_text_comes_before_the_recording(app, fake_openai):
    speak(app, tone_wav(1.0), typed="Question:")
    assert bubbles(app)[0][1] == f"Question: {fake_openai.transcript}"


def test_korean_ui_hints_korean(app_env, fake_openai):
    from tests.app.conftest import new_app

    at = new_app(lang="ko").run()
    speak(at, tone_wav(1.0))
    assert requests_to(fake_openai, "/audio/transcriptions")[0].body["language"] == "ko"


def test_an_empty_transcript_sends_nothing_and_keeps_the_recording(app, fake_openai):
    speak(app, silent_wav(), typed="typed first")
    assert fake_openai.chat_requests() == []
    assert bubbles(app) == []
    shown = texts(app)
    assert "No words were heard" in shown and "typed first" in shown
    assert app.get("audio"), "the kept recording can be played"
    assert app.button(key="voice_retry_chat") and app.button(key="voice_discard_chat")
    app.button(key="voice_discard_chat").click().run()
    assert "No words were heard" not in texts(app)


def test_a_failed_transcription_is_kept_and_try_again_sends_it(app, fake_openai):
    fake_openai.set_fault("rate_limit", endpoint="transcriptions", times=1)
    speak(app, tone_wav(1.0))
    assert fake_openai.chat_requests() == []
    assert "rate limit" in texts(app)
    app.button(key="voice_retry_chat").click().run()
    assert not app.exception, app.exception
    assert bubbles(app)[0][1] == fake_openai.transcript
    assert len(fake_openai.chat_requests()) == 1
    assert "rate limit" not in texts(app)


# -- read aloud --------------------------------------------------------------------------
def _read_button(at):
    return next(b for b in at.button if b.key and b.key.startswith("read_aloud_"))


def test_read_aloud_plays_and_replay_costs_nothing(app, fake_openai):
    send(app, "Say something")
    assert not app.get("audio")
    _read_button(app).click().run()
    assert not app.exception, app.exception
    assert len(app.get("audio")) == 1
    spoken = requests_to(fake_openai, "/audio/speech")
    assert len(spoken) == 1 and spoken[0].body["voice"] == "coral"
    _read_button(app).click().run()  # again: the kept audio, nothing paid
    assert len(app.get("audio")) == 1
    assert len(requests_to(fake_openai, "/audio/speech")) == 1


def test_read_aloud_says_when_the_speech_models_are_gone(app_env, fake_openai):
    from tests.app.conftest import new_app

    fake_openai.models = [  # copies: the default models are shared by every fake
        replace(m, shutdown_date="2026-01-06") if m.kind == "speech" else m
        for m in fake_openai.models
    ]
    at = new_app().run()
    send(at, "Say something")
    _read_button(at).click().run()
    assert not at.exception, at.exception
    assert "no longer available" in texts(at)
    assert requests_to(fake_openai, "/audio/speech") == []


def test_autoplay_reads_a_new_answer(app, fake_openai):
    app.toggle(key="voice_autoplay").set_value(True).run()
    send(app, "Hello")
    app.run()  # the run after the answer was stored
    assert len(requests_to(fake_openai, "/audio/speech")) == 1
    assert app.get("audio")


# -- the studio's idea box ---------------------------------------------------------------
def test_a_spoken_idea_is_added_to_the_idea_box(app_env, fake_openai):
    at = open_studio()
    at.text_area(key="studio_idea").set_value("A cat").run()
    at.audio_input(key="studio_idea_audio").upload("idea.wav", tone_wav(1.0)).run()
    assert not at.exception, at.exception
    assert at.text_area(key="studio_idea").value == f"A cat\n{fake_openai.transcript}"


def test_a_silent_idea_is_kept_with_its_error(app_env, fake_openai):
    at = open_studio()
    at.audio_input(key="studio_idea_audio").upload("idea.wav", silent_wav()).run()
    assert not at.exception, at.exception
    assert not at.text_area(key="studio_idea").value
    assert "No words were heard" in texts(at)
    assert at.button(key="voice_retry_studio")
