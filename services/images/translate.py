"""Make any prompt Karlo-ready: English, at most 256 characters, via the chat model."""

from __future__ import annotations

import re

from services.chat import ChatMessage, ChatService
from services.errors import ChatCanvasError, ErrorKind
from services.images.karlo import MAX_PROMPT_CHARS, karlo_prompt_problems

INSTRUCTION = (
    "You rewrite prompts for an English-only text-to-image model. Translate the user's prompt "
    f"into English and shorten it to at most {MAX_PROMPT_CHARS} characters, keeping the "
    "subject, style, colours and composition. Answer with the prompt only: no quotes, no "
    "preamble, no explanation."
)
_PREAMBLE = re.compile(r"^\s*(?:english\s+)?prompt\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'“”‘’`"


def shorten(text: str, limit: int = MAX_PROMPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, without a dangling comma."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else text[:limit]
    return cut[:limit].rstrip(" ,;:-")


def _clean(reply: str) -> str:
    text = reply.strip()
    if "\n" in text:  # a model that explains itself anyway: keep the first real line
        text = next((line for line in text.splitlines() if line.strip()), "")
    text = _PREAMBLE.sub("", text).strip().strip(_QUOTES).strip()
    return text


def make_karlo_ready(chat: ChatService, model: str, prompt: str) -> str:
    """An English prompt of at most 256 characters for Karlo.

    A prompt that is already fine is returned as is (no call, no cost). Otherwise ``model``
    translates and shortens it; a reply still too long is cut at a word boundary. Raises
    ChatCanvasError: the chat errors, EMPTY_INPUT, or BAD_RESPONSE when the reply is empty or
    still not English."""
    problems = karlo_prompt_problems(prompt)
    if "empty" in problems:
        raise ChatCanvasError(ErrorKind.EMPTY_INPUT, provider="karlo")
    if not problems:
        return prompt.strip()
    stream = chat.reply(
        model,
        [ChatMessage("system", INSTRUCTION), ChatMessage("user", prompt.strip())],
        purpose="translate",
    )
    english = shorten(_clean(stream.text))
    if not english or "not_english" in karlo_prompt_problems(english):
        raise ChatCanvasError(
            ErrorKind.BAD_RESPONSE, "the translation is empty or not English", provider="karlo"
        )
    return english
