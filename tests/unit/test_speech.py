"""Voice: transcription and read-aloud against the fake OpenAI API's audio endpoints."""

from __future__ import annotations

import io
import wave
from datetime import date

import pytest

from services.budget import Budget
from services.catalog import LiveModel
from services.errors import ChatCanvasError, ErrorKind
from services.ledger import CostLedger
from services.speech import SpeechService
from services.speech_audio import join_wav, speech_parts, spoken_text, wav_seconds
from services.storage.images import ImageStore
from services.storage.message_audio import MessageAudioStore
from services.storage.usage import UsageStore
from tests.conftest import OWNER, TEST_TIMEOUT
from tests.fakes.openai_audio import tone_wav

TODAY = date(2026, 11, 26)


def silent_wav(seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\0\0" * int(16_000 * seconds))
    return out.getvalue()


@pytest.fixture
def ledger(db, store) -> CostLedger:
    return CostLedger(store, ImageStore(db, OWNER), UsageStore(db, OWNER))


@pytest.fixture
def speech(settings, catalog, db) -> SpeechService:
    budget = Budget(settings, UsageStore(db, OWNER), catalog)
    return SpeechService(
        settings, catalog, MessageAudioStore(db, OWNER), budget=budget, timeout=TEST_TIMEOUT
    )


@pytest.fixture
def reply(store):
    conversation = store.create(model="gpt-5.4-mini", system_prompt="", params={})
    store.add_message(conversation.id, "user", "Tell me")
    return store.add_message(conversation.id, "assistant", "**Paris** is the capital. It is big.")


def audio_requests(fake, path):
    return [r for r in fake.requests if r.path.endswith(path)]


# -- models ------------------------------------------------------------------------------
def test_default_models_come_from_the_catalog(speech):
    assert speech.model("transcribe", TODAY, None).id == "gpt-transcribe"
    assert speech.model("speech", TODAY, None).id == "gpt-4o-mini-tts"


def test_a_compatible_server_with_only_whisper_gets_whisper(speech):
    live = [LiveModel("llama3"), LiveModel("whisper-1")]
    assert speech.model("transcribe", TODAY, live).id == "whisper-1"


def test_no_speech_model_once_they_are_shut_down(speech):
    assert speech.model("speech", date(2027, 1, 6), None) is None
    with pytest.raises(ChatCanvasError) as caught:
        speech.read_aloud(1, "Hi.", model="tts-1", voice="coral", speed=1.0, today=date(2027, 2, 1))
    assert caught.value.kind is ErrorKind.NO_AUDIO_MODEL


# -- transcription -----------------------------------------------------------------------
def test_transcription_sends_the_recording_with_the_language_hint(fake, speech, ledger):
    transcript = speech.transcribe(tone_wav(2.0), model="whisper-1", today=TODAY, language="ko")
    assert transcript.text == fake.transcript
    sent = audio_requests(fake, "/audio/transcriptions")[0].body
    assert sent["language"] == "ko" and sent["model"] == "whisper-1"
    assert sent["file"]["size"] > 0
    day = ledger.days()[0]
    assert day.audio_cost_usd == pytest.approx(2 / 60 * 0.006)
    assert transcript.cost_usd == pytest.approx(2 / 60 * 0.006)


def test_an_unpriced_model_is_recorded_as_an_estimate(fake, speech, ledger):
    speech.transcribe(tone_wav(1.0), model="gpt-transcribe", today=TODAY, language="en")
    day = ledger.days()[0]
    assert day.chat_estimate and day.audio_cost_usd > 0


def test_silence_is_an_empty_transcript_and_still_counted(fake, speech, ledger):
    with pytest.raises(ChatCanvasError) as caught:
        speech.transcribe(silent_wav(), model="whisper-1", today=TODAY)
    assert caught.value.kind is ErrorKind.EMPTY_TRANSCRIPT
    assert ledger.days()[0].chat_calls == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("invalid_key", ErrorKind.INVALID_KEY),
        ("rate_limit", ErrorKind.RATE_LIMIT),
        ("bad_file", ErrorKind.AUDIO_UNREADABLE),
        ("too_large", ErrorKind.AUDIO_TOO_LARGE),
        ("timeout", ErrorKind.TIMEOUT),
    ],
)
def test_transcription_failures_are_typed_and_not_counted(fake, speech, ledger, fault, kind):
    fake.hang_seconds = 10
    fake.set_fault(fault, endpoint="transcriptions", times=1)
    with pytest.raises(ChatCanvasError) as caught:
        speech.transcribe(tone_wav(1.0), model="whisper-1", today=TODAY)
    assert caught.value.kind is kind
    assert ledger.days() == []


def test_a_file_that_is_not_audio_is_unreadable(fake, speech):
    with pytest.raises(ChatCanvasError) as caught:
        speech.transcribe(b"not audio at all", model="whisper-1", today=TODAY)
    assert caught.value.kind is ErrorKind.AUDIO_UNREADABLE


def test_streamed_transcription_events_from_the_fake(fake, settings):
    import openai

    client = openai.OpenAI(
        api_key=settings.openai_api_key.reveal(), base_url=fake.base_url, max_retries=0
    )
    events = list(
        client.audio.transcriptions.create(
            file=("r.wav", tone_wav(0.5)), model="gpt-4o-mini-transcribe", stream=True
        )
    )
    assert events[-1].type == "transcript.text.done"
    assert events[-1].text == fake.transcript
    assert "".join(e.delta for e in events[:-1]).strip() == fake.transcript


# -- read aloud --------------------------------------------------------------------------
def test_read_aloud_is_kept_so_replay_costs_nothing(fake, speech, reply, ledger):
    first = speech.read_aloud(
        reply.id, reply.content, model="tts-1", voice="coral", speed=1.0, today=TODAY
    )
    again = speech.read_aloud(
        reply.id, reply.content, model="tts-1", voice="coral", speed=1.0, today=TODAY
    )
    assert first.audio[:4] == b"RIFF" and again.audio == first.audio and again.reused
    sent = audio_requests(fake, "/audio/speech")
    assert len(sent) == 1
    assert sent[0].body["input"] == "Paris is the capital. It is big."  # no Markdown marks
    assert sent[0].body["voice"] == "coral" and sent[0].body["response_format"] == "wav"
    chars = len(sent[0].body["input"])
    assert ledger.days()[0].audio_cost_usd == pytest.approx(chars * 15 / 1e6)


def test_another_voice_is_made_once_more(fake, speech, reply):
    for voice in ("coral", "onyx", "onyx"):
        speech.read_aloud(
            reply.id, reply.content, model="tts-1", voice=voice, speed=1.0, today=TODAY
        )
    assert len(audio_requests(fake, "/audio/speech")) == 2


def test_a_long_reply_is_read_in_parts_and_joined(fake, speech, reply):
    text = " ".join(f"Sentence number {i} is here." for i in range(400))  # ~11k chars
    speech_result = speech.read_aloud(
        reply.id, text, model="gpt-4o-mini-tts", voice="nova", speed=1.0, today=TODAY
    )
    sent = audio_requests(fake, "/audio/speech")
    assert len(sent) == 3
    assert all(len(r.body["input"]) <= 4096 for r in sent)
    assert all(r.body["input"].endswith(".") for r in sent)
    assert " ".join(r.body["input"] for r in sent) == text
    assert wav_seconds(speech_result.audio) == pytest.approx(3 * 3.0, rel=0.01)


def test_a_failed_reading_keeps_nothing(fake, speech, reply):
    fake.set_fault("insufficient_quota", endpoint="speech", times=1)
    with pytest.raises(ChatCanvasError) as caught:
        speech.read_aloud(
            reply.id, reply.content, model="tts-1", voice="coral", speed=1, today=TODAY
        )
    assert caught.value.kind is ErrorKind.NO_CREDIT
    assert speech.kept(reply.id, model="tts-1", voice="coral", speed=1) is None


def test_deleting_the_message_deletes_its_audio(fake, speech, reply, store):
    speech.read_aloud(reply.id, reply.content, model="tts-1", voice="coral", speed=1, today=TODAY)
    store.delete_messages_from(reply.conversation_id, reply.id)
    assert speech.kept(reply.id, model="tts-1", voice="coral", speed=1) is None


# -- text and audio helpers --------------------------------------------------------------
def test_parts_split_at_sentence_ends_under_the_limit():
    text = "One two. Three four five! Six?"
    assert speech_parts(text, limit=18) == ["One two.", "Three four five!", "Six?"]
    assert speech_parts("a" * 25, limit=10) == ["a" * 10, "a" * 10, "a" * 5]


def test_spoken_text_drops_markdown():
    md = "# Title\n\n- **bold** item\n- see [docs](https://x.y)\n\n```py\nx = 1\n```"
    assert spoken_text(md) == "Title\n\nbold item\nsee docs\n\nx = 1"


def test_wav_parts_join_into_one_playable_file():
    joined = join_wav([tone_wav(0.5), tone_wav(0.25)])
    with wave.open(io.BytesIO(joined)) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(0.75)


def test_kept_audio_belongs_to_its_owner_and_goes_with_its_message(database):
    """On SQLite and PostgreSQL: another owner's id answers like a missing one; deleting the
    conversation deletes its audio."""
    from services.storage import ConversationStore
    from services.storage.message_audio import StoredAudio

    store = ConversationStore(database, "owner-a")
    conversation = store.create(model="m", system_prompt="", params={})
    message = store.add_message(conversation.id, "assistant", "Hello.")
    audio = StoredAudio(message.id, "tts-1", "coral", 1.0, "audio/wav", tone_wav(0.1), 0.001)
    MessageAudioStore(database, "owner-a").put(audio)
    MessageAudioStore(database, "owner-a").put(audio)  # kept once
    assert MessageAudioStore(database, "owner-a").get(message.id, "tts-1", "coral", 1.0) == audio
    assert MessageAudioStore(database, "owner-b").get(message.id, "tts-1", "coral", 1.0) is None
    store.delete(conversation.id)
    assert MessageAudioStore(database, "owner-a").get(message.id, "tts-1", "coral", 1.0) is None


def test_a_shared_deployment_budget_stops_voice_before_anything_is_sent(
    fake, settings, catalog, db
):
    from services.budget import LimitExceeded
    from tests.unit.test_budget import shared_settings

    shared = shared_settings(settings, 0.000001)
    usage = UsageStore(db, OWNER)
    speech = SpeechService(
        shared,
        catalog,
        MessageAudioStore(db, OWNER),
        budget=Budget(shared, usage, catalog),
        timeout=TEST_TIMEOUT,
    )
    with pytest.raises(LimitExceeded):
        speech.transcribe(tone_wav(5.0), model="whisper-1", today=TODAY)
    with pytest.raises(LimitExceeded):
        speech.read_aloud(
            1, "A long enough answer.", model="tts-1", voice="coral", speed=1.0, today=TODAY
        )
    assert not [r for r in fake.requests if "/audio/" in r.path]
