"""The final prompt: what a chain's last answer says, as a typed :class:`FinalPrompt`."""

from __future__ import annotations

import re
from typing import NamedTuple

_LABEL = re.compile(
    r"^\s*(?:[-*#>]+\s+)?(?:\*\*|__)?\s*"
    r"(?P<label>negative(?:\s+prompt)?|(?:positive\s+)?prompt|image\s+prompt"
    r"|네거티브(?:\s*프롬프트)?|부정\s*프롬프트|프롬프트)"
    r"\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_INLINE_NEGATIVE = re.compile(r"\s*\bnegative(?:\s+prompt)?\s*[:：]\s*", re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\s*$")
_QUOTE_PAIRS = {'"': '"', "“": "”", "'": "'", "‘": "’", "`": "`", "«": "»", "「": "」", "*": "*"}
_NO_NEGATIVE = {"", "none", "n/a", "-", "없음"}


class FinalPrompt(NamedTuple):
    """A run's final prompt and, when the chain writes one, its negative prompt (None: the chain
    has none, so no box is shown). Compares equal to the ``(prompt, negative)`` tuple."""

    prompt: str
    negative_prompt: str | None = None

    def as_answer(self) -> str:
        """The answer a prompt writer would have given for it: the prompt alone, or the
        ``PROMPT:`` / ``NEGATIVE:`` lines when there is a negative prompt (what the last step's
        box shows after an edit of the final prompt)."""
        if not self.negative_prompt:
            return self.prompt
        return f"PROMPT: {self.prompt}\nNEGATIVE: {self.negative_prompt}"


def _clean(text: str) -> str:
    text = " ".join(text.split())
    while len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def parse_prompt_output(text: str) -> FinalPrompt:
    """The prompt and negative prompt (or None) in a prompt step's answer. Understands the
    ``PROMPT: ...`` / ``NEGATIVE: ...`` convention and its usual variations (markdown bold,
    "Negative prompt:", code fences, quotes, a "Here is your prompt:" preamble); plain text is
    the prompt as a whole. Whitespace is collapsed to single spaces."""
    lines = [ln for ln in text.strip().splitlines() if not _FENCE.match(ln.strip())]
    sections: dict[str, list[str]] = {"preamble": [], "prompt": [], "negative": []}
    current = "preamble"
    for line in lines:
        match = _LABEL.match(line)
        if match:
            current = (
                "negative" if match["label"].lower().startswith(("neg", "네", "부")) else "prompt"
            )
            sections[current].append(match["rest"])
        else:
            sections[current].append(line)
    body = (
        sections["prompt"] if any(s.strip() for s in sections["prompt"]) else sections["preamble"]
    )
    if body is sections["preamble"]:
        # "Sure! Here is a prompt:" before the prompt itself
        content = [ln for ln in body if ln.strip()]
        if len(content) > 1 and content[0].rstrip().endswith((":", "：")):
            body = content[1:]
    prompt = "\n".join(body)
    negative = "\n".join(sections["negative"])
    if not negative.strip():
        parts = _INLINE_NEGATIVE.split(prompt, maxsplit=1)
        if len(parts) == 2:
            prompt, negative = parts
    negative = _clean(negative)
    return FinalPrompt(_clean(prompt), None if negative.lower() in _NO_NEGATIVE else negative)
