"""The fake OpenAI API's audio endpoints: ``POST /v1/audio/transcriptions`` (multipart; a JSON
answer, or ``transcript.text.delta`` / ``transcript.text.done`` events with ``stream=true``)
and ``POST /v1/audio/speech`` (real WAV bytes a browser plays: a soft tone as long as the
text would take to say).

It cannot understand speech: a recording with sound in it is heard as ``fake.transcript``, a
silent one as nothing (so an empty transcript can be tested). It validates like the real API:
an unreadable file is a 400, one over ``fake.max_audio_bytes`` a 413, an unknown model a 404,
a text over 4096 characters, an unknown voice or a speed outside 0.25..4 a 400. Faults by
endpoint ``transcriptions`` / ``speech``: any of ERRORS, ``timeout``, ``bad_file``,
``too_large``. Speech is made as ``wav`` or ``pcm`` only (a fake has no MP3 encoder).
"""

from __future__ import annotations

import io
import json
import math
import struct
import wave
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

TRANSCRIPTIONS = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"
AUDIO_PATHS = (TRANSCRIPTIONS, SPEECH)
MAX_AUDIO_BYTES = 25 * 1024 * 1024
MAX_SPEECH_CHARS = 4096
VOICES = {
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
}
SAMPLE_RATE = 24_000
SECONDS_PER_CHAR = 0.02  # the tone's length: about how long the text takes to say, capped
MAX_TONE_SECONDS = 3.0
SILENCE = 300  # the loudest 16-bit sample of a recording heard as silence
# The signatures of the formats the API reads (wav, mp3, ogg, flac, webm, mp4/m4a).
_MAGIC = (b"RIFF", b"ID3", b"\xff\xfb", b"\xff\xf3", b"OggS", b"fLaC", b"\x1aE\xdf\xa3")

AUDIO_ERRORS: dict[str, tuple[int, dict]] = {
    "bad_file": (
        400,
        {
            "message": "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
    ),
    "too_large": (
        413,
        {
            "message": f"Maximum content size limit ({MAX_AUDIO_BYTES}) exceeded.",
            "type": "server_error",
            "param": None,
            "code": None,
        },
    ),
}


def read_form(raw: bytes, content_type: str) -> tuple[dict, dict[str, tuple[str, bytes]]]:
    """The fields and files of a ``multipart/form-data`` body."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"content-type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def tone_wav(seconds: float, rate: int = SAMPLE_RATE) -> bytes:
    """A quiet 440 Hz tone as a 16-bit mono WAV file."""
    frames = int(seconds * rate)
    samples = (int(3000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def wav_facts(data: bytes) -> tuple[float, bool] | None:
    """(seconds, silent) of a 16-bit PCM WAV file; None for anything else."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getsampwidth() != 2:
                return None
            frames = w.readframes(w.getnframes())
            seconds = w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, ValueError):
        return None
    count = len(frames) // 2
    loudest = max((abs(s) for s in struct.unpack(f"<{count}h", frames[: count * 2])), default=0)
    return seconds, loudest <= SILENCE


def answer_audio(h: Any, path: str, body: dict | None) -> None:
    """Answer one audio request on handler ``h`` (the fake's ``_Handler``)."""
    fake = h.server_fake
    endpoint = "transcriptions" if path == TRANSCRIPTIONS else "speech"
    fault = fake.meet_fault(h, endpoint)
    if fault == "timeout":
        return
    if fault in AUDIO_ERRORS:
        _send_audio_error(h, fault)
        return
    if fault is not None:
        h._send_error(fault)
        return
    if endpoint == "transcriptions":
        _transcribe(h, body or {})
    else:
        _speak(h, body or {})


def _send_audio_error(h: Any, name: str) -> None:
    status, error = AUDIO_ERRORS[name]
    h._send_json(status, {"error": dict(error)})


def _known_model(h: Any, model_id: object, kind: str) -> bool:
    model = h.server_fake.model(model_id) if isinstance(model_id, str) else None
    if model is None or model.kind != kind:
        h._invalid(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            "model",
            "model_not_found",
            status=404,
        )
        return False
    return True


def _transcribe(h: Any, fields: dict) -> None:
    fake = h.server_fake
    upload = getattr(h, "uploaded_file", None)
    if upload is None:
        h._invalid("you must provide a file", "file", None)
        return
    if not _known_model(h, fields.get("model"), "transcribe"):
        return
    if len(upload) > fake.max_audio_bytes:
        _send_audio_error(h, "too_large")
        return
    if not upload.startswith(_MAGIC) and upload[4:8] != b"ftyp":
        _send_audio_error(h, "bad_file")
        return
    facts = wav_facts(upload)
    seconds, silent = facts if facts is not None else (1.0, False)
    text = "" if silent else fake.transcript
    usage = {"type": "duration", "seconds": math.ceil(seconds)}
    if fields.get("model") != "whisper-1":
        audio_tokens = max(1, int(seconds * 10))
        output = max(1, len(text) // 4) if text else 0
        usage = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "output_tokens": output,
            "total_tokens": audio_tokens + output,
            "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0},
        }
    if str(fields.get("stream", "")).lower() == "true":
        _stream_transcript(h, text, usage)
    else:
        h._send_json(200, {"text": text, "usage": usage})


def _stream_transcript(h: Any, text: str, usage: dict) -> None:
    h.send_response(200)
    h.send_header("content-type", "text/event-stream")
    h.end_headers()
    h.close_connection = True
    for word in text.split(" "):
        event = {"type": "transcript.text.delta", "delta": word + " "}
        h.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
    done = {"type": "transcript.text.done", "text": text, "usage": usage}
    h.wfile.write(f"data: {json.dumps(done)}\n\n".encode())
    h.wfile.flush()


def _speak(h: Any, body: dict) -> None:
    text = body.get("input")
    if not isinstance(text, str) or not text:
        h._invalid("'input' is a required property", "input", None)
        return
    if len(text) > MAX_SPEECH_CHARS:
        h._invalid(
            f"String should have at most {MAX_SPEECH_CHARS} characters", "input", "string_too_long"
        )
        return
    if not _known_model(h, body.get("model"), "speech"):
        return
    if body.get("voice") not in VOICES:
        h._invalid(f"Invalid value for 'voice': {body.get('voice')!r}.", "voice", "invalid_value")
        return
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        h._invalid("Speed must be between 0.25 and 4.0.", "speed", "invalid_value")
        return
    fmt = body.get("response_format", "mp3")
    if fmt not in ("wav", "pcm"):
        h._invalid(f"The fake makes wav and pcm only, not {fmt!r}.", "response_format", None)
        return
    audio = tone_wav(min(0.3 + len(text) * SECONDS_PER_CHAR, MAX_TONE_SECONDS) / speed)
    if fmt == "pcm":
        audio = audio[44:]
    h.send_response(200)
    h.send_header("content-type", "audio/wav" if fmt == "wav" else "audio/pcm")
    h.send_header("content-length", str(len(audio)))
    h.end_headers()
    h.wfile.write(audio)
