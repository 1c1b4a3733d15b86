"""A comparison's vote: one lane won, a tie, or every image was bad.

Stored as text in ``compare_runs.outcome`` (``"lane:N"``, ``"tie"``, ``"both_bad"``); this
module is the one place that reads and writes that text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_LANE = re.compile(r"^lane:(\d+)$")


class VoteKind(StrEnum):
    LANE = "lane"  # one lane's images were the best
    TIE = "tie"  # every lane as good as the others
    BOTH_BAD = "both_bad"  # none was good: counted, but moves no rating


@dataclass(frozen=True)
class VoteOutcome:
    kind: VoteKind
    lane: int | None = None  # the winning lane's index, for VoteKind.LANE only

    def __post_init__(self) -> None:
        if (self.kind is VoteKind.LANE) != (self.lane is not None):
            raise ValueError("a lane index goes with a lane vote, and only with one")
        if self.lane is not None and self.lane < 0:
            raise ValueError(f"not a lane index: {self.lane}")

    @classmethod
    def winner(cls, lane: int) -> VoteOutcome:
        return cls(VoteKind.LANE, lane)

    @classmethod
    def parse(cls, text: str) -> VoteOutcome:
        """The outcome written as ``text``; ValueError for anything else."""
        match = _LANE.match(text)
        if match:
            return cls.winner(int(match.group(1)))
        if text in (VoteKind.TIE, VoteKind.BOTH_BAD):
            return cls(VoteKind(text))
        raise ValueError(f"not a vote outcome: {text!r}")

    @classmethod
    def load(cls, text: str | None) -> VoteOutcome | None:
        """A stored column value (None: not voted; an unreadable one counts as not voted)."""
        try:
            return cls.parse(text) if text else None
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"lane:{self.lane}" if self.kind is VoteKind.LANE else str(self.kind)


TIE = VoteOutcome(VoteKind.TIE)
BOTH_BAD = VoteOutcome(VoteKind.BOTH_BAD)


@dataclass(frozen=True)
class VoteRecord:
    """One voted run as the leaderboard sees it: the vote, and the (provider, model) of each
    lane that made images, by lane index."""

    outcome: VoteOutcome
    lanes: dict[int, tuple[str, str]]
