"""Voice: a recording becomes text (transcription), a reply becomes speech (read aloud).

Plain Python over the openai SDK, the catalog, the budget and the message audio store, so the
web app and the terminal app use it alike. Models come from the catalog merged with the live
list: the default transcription model is the newest one not retiring (``whisper-1`` on a
compatible server that has only it); when every speech model is shut down,
:meth:`SpeechService.speech_model` says so (None) instead of a call failing.

Every call is checked against the budget before it is sent and recorded in the one ledger
(``usage_events``, kinds ``transcribe`` and ``speech``) when it ends, at the catalog's price
per minute or per character. No retries: a retried call could be paid twice, and the
recording is kept for the user to try again. Speech is asked for as WAV, so the parts of a
long reply join exactly and their length (the price of time-billed models) is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import httpx2
import openai

from services.catalog import Catalog, LiveModel, ModelSpec, Status
from services.errors import ChatCanvasError, ErrorKind, from_openai
from services.http_clients import IMAGE_LIMITS, Deadlines, openai_client, timeout_within
from services.settings import Settings
from services.speech_audio import join_wav, speech_parts, spoken_text, wav_seconds
from services.storage.message_audio import MessageAudioStore, StoredAudio

if TYPE_CHECKING:
    from services.budget import Budget

TRANSCRIBE, SPEECH = "transcribe", "speech"  # catalog kinds and ledger kinds
MAX_RECORDING_BYTES = 25 * 1024 * 1024  # the transcription API's file limit
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
DEFAULT_VOICE = "coral"
SPEEDS = (0.25, 4.0)
AUDIO_TIMEOUT = httpx2.Timeout(120.0, connect=5.0)
AUDIO_DEADLINES = Deadlines(answer=180.0)
SPEECH_FORMAT, SPEECH_MIME = "wav", "audio/wav"
# what a call is budgeted at before it is sent, when its length cannot be known yet
SECONDS_PER_CHAR = 0.07  # speech: about 14 characters a second
UNKNOWN_SECONDS = 60.0  # a recording that is not a WAV file


@dataclass(frozen=True)
class Transcript:
    text: str
    model: str
    cost_usd: float | None


@dataclass(frozen=True)
class Speech:
    """A reply's audio; ``reused``: it was kept from an earlier reading (nothing paid)."""

    audio: bytes
    mime: str
    model: str
    cost_usd: float | None
    reused: bool = False


class SpeechService:
    """Transcription and read-aloud with one owner's settings, budget and audio store."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        audio: MessageAudioStore,
        *,
        budget: Budget | None = None,
        timeout: httpx2.Timeout | float = AUDIO_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.audio = audio
        self.budget = budget
        self._timeout = timeout
        self._sdk_client: openai.OpenAI | None = None

    def _client(self) -> openai.OpenAI:
        if self._sdk_client is None:  # per service, i.e. per rerun, as ChatService does
            self._sdk_client = openai_client(
                self.settings,
                timeout=self._timeout,
                max_retries=0,
                limits=IMAGE_LIMITS,  # a long reply's WAV is megabytes
                deadlines=AUDIO_DEADLINES,
            )
        return self._sdk_client

    # -- models --------------------------------------------------------------------------
    def model(self, kind: str, today: date, live: Sequence[LiveModel] | None) -> ModelSpec | None:
        """The model to use for ``kind`` (transcribe, speech): the catalog's default when the
        server has it, else the first usable one; None when none is left (all shut down)."""
        choices = self.catalog.choices(kind, today, list(live) if live is not None else None)
        return self.catalog.default(kind, choices, today)

    def _usable(self, model: str, kind: str, today: date) -> ModelSpec:
        spec = self.catalog.spec(model)
        if spec.status(today) is Status.RETIRED:
            raise ChatCanvasError(ErrorKind.NO_AUDIO_MODEL, f"{kind}: {model} is shut down")
        return spec

    def _price(
        self, spec: ModelSpec, kind: str, *, seconds: float | None, chars: int = 0
    ) -> tuple[float, bool]:
        """(USD, estimated) for a call: at the model's price; when that is unknown (or the
        length is), at the kind's highest price, flagged as an estimate."""
        if spec.audio_price is not None:
            cost = spec.audio_price.cost(seconds=seconds, chars=chars)
            if cost is not None:
                return cost, False
        costs = [
            c
            for m in self.catalog.known_ids(kind)
            if (p := self.catalog.spec(m).audio_price) is not None
            and (c := p.cost(seconds=seconds or UNKNOWN_SECONDS, chars=chars)) is not None
        ]
        return max(costs, default=0.0), True

    def _record(self, kind: str, model: str, cost: float, estimated: bool) -> None:
        if self.budget is not None:
            self.budget.record(kind, "openai", model, cost, estimated=estimated)

    def _error(self, exc: Exception) -> ChatCanvasError:
        err = from_openai(exc, self.settings.secrets())
        if err.status == 413:
            return ChatCanvasError(ErrorKind.AUDIO_TOO_LARGE, err.detail, status=413)
        if err.kind is ErrorKind.BAD_REQUEST and "file" in f"{err.param} {err.detail}".lower():
            return ChatCanvasError(ErrorKind.AUDIO_UNREADABLE, err.detail, status=err.status)
        return err

    # -- transcription -------------------------------------------------------------------
    def transcribe(
        self,
        recording: bytes,
        *,
        model: str,
        today: date,
        language: str | None = None,
        filename: str = "recording.wav",
    ) -> Transcript:
        """The words of ``recording`` (``language``: ISO 639-1, a hint). Raises
        ChatCanvasError; EMPTY_TRANSCRIPT when no words were heard (the call is paid)."""
        if not recording:
            raise ChatCanvasError(ErrorKind.EMPTY_TRANSCRIPT, "empty recording")
        if len(recording) > MAX_RECORDING_BYTES:
            raise ChatCanvasError(ErrorKind.AUDIO_TOO_LARGE, f"{len(recording)} bytes")
        spec = self._usable(model, TRANSCRIBE, today)
        seconds = wav_seconds(recording)
        if self.budget is not None:
            usd, unpriced = self._price(spec, TRANSCRIBE, seconds=seconds or UNKNOWN_SECONDS)
            self.budget.check_cost("openai", usd, unpriced=unpriced)
        extra = {"language": language} if language else {}
        try:
            result = self._client().audio.transcriptions.create(
                file=(filename, recording),
                model=model,
                timeout=timeout_within(self._timeout, AUDIO_DEADLINES.answer),
                **extra,
            )
        except Exception as exc:
            raise self._error(exc) from None
        usage = getattr(result, "usage", None)
        if getattr(usage, "type", None) == "duration":
            seconds = float(usage.seconds)
        cost, estimated = self._price(spec, TRANSCRIBE, seconds=seconds)
        self._record(TRANSCRIBE, model, cost, estimated)
        text = (getattr(result, "text", "") or "").strip()
        if not text:
            raise ChatCanvasError(ErrorKind.EMPTY_TRANSCRIPT)
        return Transcript(text, model, None if estimated else cost)

    # -- read aloud ----------------------------------------------------------------------
    def kept(self, message_id: int, *, model: str, voice: str, speed: float) -> Speech | None:
        """The audio already made for this message with these settings (free to replay)."""
        stored = self.audio.get(message_id, model, voice, speed)
        if stored is None:
            return None
        return Speech(stored.data, stored.mime, stored.model, stored.cost_usd, reused=True)

    def read_aloud(
        self,
        message_id: int,
        text: str,
        *,
        model: str,
        voice: str,
        speed: float,
        today: date,
    ) -> Speech:
        """A reply (Markdown) as speech: kept audio when there is some, else made in parts
        under the API's input limit, joined, kept for next time. Raises ChatCanvasError."""
        kept = self.kept(message_id, model=model, voice=voice, speed=speed)
        if kept is not None:
            return kept
        spec = self._usable(model, SPEECH, today)
        if voice not in VOICES or not SPEEDS[0] <= speed <= SPEEDS[1]:
            raise ChatCanvasError(ErrorKind.UNSUPPORTED_PARAMETER, f"voice {voice}, speed {speed}")
        parts = speech_parts(spoken_text(text))
        if not parts:
            raise ChatCanvasError(ErrorKind.EMPTY_INPUT, "nothing to read")
        if self.budget is not None:
            chars = sum(len(p) for p in parts)
            usd, unpriced = self._price(
                spec, SPEECH, seconds=chars * SECONDS_PER_CHAR / speed, chars=chars
            )
            self.budget.check_cost("openai", usd, unpriced=unpriced)
        audio, total, estimated = [], 0.0, False
        for part in parts:  # each part is recorded as it is paid, even if a later one fails
            made = self._speak(part, model=model, voice=voice, speed=speed)
            cost, guessed = self._price(spec, SPEECH, seconds=wav_seconds(made), chars=len(part))
            self._record(SPEECH, model, cost, guessed)
            audio.append(made)
            total, estimated = total + cost, estimated or guessed
        joined = audio[0] if len(audio) == 1 else join_wav(audio)
        cost_usd = None if estimated else total
        self.audio.put(StoredAudio(message_id, model, voice, speed, SPEECH_MIME, joined, cost_usd))
        return Speech(joined, SPEECH_MIME, model, cost_usd)

    def _speak(self, text: str, *, model: str, voice: str, speed: float) -> bytes:
        try:
            answer = self._client().audio.speech.create(
                input=text,
                model=model,
                voice=voice,
                speed=speed,
                response_format=SPEECH_FORMAT,
                timeout=timeout_within(self._timeout, AUDIO_DEADLINES.answer),
            )
            return answer.content
        except Exception as exc:
            raise self._error(exc) from None
