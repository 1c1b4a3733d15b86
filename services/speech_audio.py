"""What read-aloud does to text and audio, without a provider: the words to say (a reply's
Markdown without its markup), parts under the speech API's input limit split at sentence
ends, and WAV parts joined into one file."""

from __future__ import annotations

import re
import struct

from services.errors import ChatCanvasError, ErrorKind

MAX_SPEECH_CHARS = 4096  # the speech API's input limit per call

_FENCE = re.compile(r"^[ \t]*(```|~~~).*$", re.MULTILINE)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(\*\*|__|\*|`|~~|^#{1,6}\s+|^[ \t]*>[ \t]?|^[ \t]*[-*+][ \t]+)", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+|\n\s*\n")


def spoken_text(markdown: str) -> str:
    """The words of a reply without Markdown's marks (fences, emphasis, link targets)."""
    text = _FENCE.sub("", markdown)
    text = _LINK.sub(r"\1", text)
    text = _MARKS.sub("", text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n", "\n\n", text).strip()


def speech_parts(text: str, limit: int = MAX_SPEECH_CHARS) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at sentence ends (a sentence
    longer than that at spaces, a word longer than that anywhere)."""
    parts: list[str] = []
    current = ""
    for sentence in _pieces(text, limit):
        joined = f"{current} {sentence}" if current else sentence
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = sentence
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    pieces = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def _wav_chunks(data: bytes) -> tuple[bytes, bytes]:
    """The ``fmt `` chunk and the samples of a WAV file. A streamed WAV may give its data
    size as unknown (0xFFFFFFFF or 0): then the samples run to the end of the file."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ChatCanvasError(ErrorKind.BAD_RESPONSE, "speech audio is not a WAV file")
    fmt, pos = b"", 12
    while pos + 8 <= len(data):
        name, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if name == b"data":
            end = len(data) if size in (0, 0xFFFFFFFF) else min(body + size, len(data))
            if not fmt:
                break
            return fmt, data[body:end]
        if name == b"fmt ":
            fmt = data[body : body + size]
        pos = body + size + (size & 1)
    raise ChatCanvasError(ErrorKind.BAD_RESPONSE, "speech audio has no samples")


def wav_seconds(data: bytes) -> float | None:
    """How long a PCM WAV file plays; None when it is not one."""
    try:
        fmt, samples = _wav_chunks(data)
    except ChatCanvasError:
        return None
    if len(fmt) < 16:
        return None
    byte_rate = struct.unpack("<I", fmt[8:12])[0]
    return len(samples) / byte_rate if byte_rate else None


def join_wav(parts: list[bytes]) -> bytes:
    """One WAV file playing ``parts`` one after another (all in the same format)."""
    chunks = [_wav_chunks(p) for p in parts]
    fmt = chunks[0][0]
    if any(f != fmt for f, _ in chunks):
        raise ChatCanvasError(ErrorKind.BAD_RESPONSE, "speech parts differ in format")
    samples = b"".join(s for _, s in chunks)
    header = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body = header + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body
