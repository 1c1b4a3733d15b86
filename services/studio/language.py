"""Language checks: the idea's language (for ``{language}`` and back-translation) and the
pass/fail checks shown under a final prompt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.images.karlo import MAX_PROMPT_CHARS, karlo_prompt_problems

LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese"}
UNKNOWN_LANGUAGE_NAME = "the same language as the idea"


def detect_language(text: str) -> str | None:
    """A simple guess by script: Hangul -> "ko", kana -> "ja", Han -> "zh", only ASCII letters
    -> "en"; None when unsure (other scripts, accented Latin, no letters)."""
    if any(
        "\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff" or "\u3130" <= c <= "\u318f"
        for c in text
    ):
        return "ko"
    if any("\u3040" <= c <= "\u30ff" for c in text):
        return "ja"
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        return "zh"
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isascii() for c in letters):
        return "en"
    return None


def language_name(code: str | None) -> str:
    """The English name put into ``{language}`` (the model reads it, not the user)."""
    return LANGUAGE_NAMES.get(code or "", UNKNOWN_LANGUAGE_NAME)


def is_english(text: str) -> bool:
    """Would Karlo take this as English? The Karlo provider's own rule (Latin letters, accents
    allowed), so this check and the provider never disagree. Stricter ``detect_language``
    decides ``{language}`` and whether to back-translate."""
    return bool(text.strip()) and "not_english" not in karlo_prompt_problems(text)


@dataclass(frozen=True)
class PromptCheck:
    """One pass/fail line under the final prompt: ``t(check.key, **check.params)``."""

    code: str  # "english" | "within_limit"
    ok: bool
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"studio.checks.{self.code}.{'ok' if self.ok else 'fail'}"


def prompt_checks(prompt: str, limit: int = MAX_PROMPT_CHARS) -> list[PromptCheck]:
    """Is the prompt English, and within ``limit`` characters (Karlo's 256)?"""
    return [
        PromptCheck("english", is_english(prompt)),
        PromptCheck("within_limit", len(prompt) <= limit, {"count": len(prompt), "limit": limit}),
    ]
