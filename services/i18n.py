"""UI text in Korean and English, from locales/<lang>/*.json.

Each JSON file holds one area's strings (chat, errors, settings, ...), nested objects flattened
into dotted keys. Both languages must have the same keys (a test checks); a missing key falls
back to English, then to the key itself, so a gap shows as a visible key, never a crash.

A text about a number has one key per plural form of the language, ``deleted_one`` and
``deleted_other`` in English, ``deleted_other`` alone in Korean (which has one form, the counter
word does the work: "이미지 1장"); ``t("gallery.deleted", count=n)`` picks the form for ``n``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"
# The plural forms (CLDR categories) each language's texts have, "other" last.
PLURAL_FORMS = {"en": ("one", "other"), "ko": ("other",)}


def plural_form(lang: str, count: object) -> str:
    """The CLDR plural category of ``count`` in ``lang``: "one" for an English 1, else "other"."""
    return "one" if "one" in PLURAL_FORMS.get(lang, ()) and count == 1 else "other"


def _flatten(data: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = str(value)
    return out


@cache
def load_strings(lang: str, directory: Path = LOCALES_DIR) -> dict[str, str]:
    """Every string of one language: {file stem}.{dotted key} -> text."""
    strings: dict[str, str] = {}
    for path in sorted((directory / lang).glob("*.json")):
        strings.update(_flatten(json.loads(path.read_text(encoding="utf-8")), f"{path.stem}."))
    return strings


def language_from_locale(locale: str | None) -> str:
    """The UI language for a browser locale such as 'ko-KR'; English when unknown."""
    if locale:
        code = locale.replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


class Translator:
    """``t("chat.send")`` -> text in the chosen language; ``{name}`` placeholders filled."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._strings = load_strings(self.lang)
        self._fallback = load_strings(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: object) -> str:
        """The text of ``key``; with ``count=``, the plural form for that number."""
        if "count" in values:
            key = self._plural_key(key, values["count"])
        # "in", not "or": an intentionally empty string is a value, not a missing key
        text = self._strings[key] if key in self._strings else self._fallback.get(key, key)
        if values:
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def _plural_key(self, key: str, count: object) -> str:
        for form in (plural_form(self.lang, count), "other"):
            if self.has(f"{key}_{form}"):
                return f"{key}_{form}"
        return key  # a text that reads the same for every number

    def has(self, key: str) -> bool:
        return key in self._strings or key in self._fallback
