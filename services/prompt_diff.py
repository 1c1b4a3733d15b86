"""What a provider changed in a prompt: a word-level diff of the prompt sent and the
``revised_prompt`` it drew (DALL·E-style models rewrite prompts before drawing).

Words are runs of letters and digits in any script (Hangul as well as Latin); each
punctuation mark is a token of its own, so "forest" and "forest," differ by the comma only.
Tokens remember whether a space came before them, so each side reads back as it was written.
Pure functions: the page draws the pieces (components/prompt_diff_view.py).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class Change(StrEnum):
    SAME = "same"
    ADDED = "added"  # in the revised prompt only
    REMOVED = "removed"  # in the prompt sent only


@dataclass(frozen=True)
class Piece:
    """Consecutive tokens with the same change, as text (``spaced``: a space before it)."""

    change: Change
    text: str
    spaced: bool


@dataclass(frozen=True)
class PromptDiff:
    pieces: tuple[Piece, ...]
    added: int  # words (not punctuation) only in the revised prompt
    removed: int  # words only in the prompt sent

    @property
    def identical(self) -> bool:
        return all(piece.change is Change.SAME for piece in self.pieces)


@dataclass(frozen=True)
class _Token:
    text: str
    spaced: bool


def _tokens(text: str) -> list[_Token]:
    found, end = [], 0
    for match in _TOKEN.finditer(text):
        found.append(_Token(match.group(), match.start() > end))
        end = match.end()
    return found


def _words(tokens: list[_Token]) -> int:
    return sum(1 for token in tokens if any(ch.isalnum() for ch in token.text))


def _pieces(change: Change, tokens: list[_Token]) -> list[Piece]:
    if not tokens:
        return []
    text = tokens[0].text + "".join((" " if t.spaced else "") + t.text for t in tokens[1:])
    return [Piece(change, text, tokens[0].spaced)]


def diff_prompts(sent: str, revised: str) -> PromptDiff:
    """The word diff from ``sent`` to ``revised``: same, removed and added pieces in reading
    order (a replaced stretch is its removed words, then its added words)."""
    old, new = _tokens(sent), _tokens(revised)
    matcher = difflib.SequenceMatcher(
        a=[t.text for t in old], b=[t.text for t in new], autojunk=False
    )
    pieces: list[Piece] = []
    added = removed = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces += _pieces(Change.SAME, new[j1:j2])
            continue
        pieces += _pieces(Change.REMOVED, old[i1:i2])
        for piece in _pieces(Change.ADDED, new[j1:j2]):
            # a word that replaces words reads apart from them, whatever the sides said
            after_removed = i2 > i1 and piece.text[0].isalnum()
            pieces.append(Piece(piece.change, piece.text, piece.spaced or after_removed))
        removed += _words(old[i1:i2])
        added += _words(new[j1:j2])
    if pieces:
        first = pieces[0]
        pieces[0] = Piece(first.change, first.text, False)
    return PromptDiff(tuple(pieces), added, removed)
