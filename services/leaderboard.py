"""The leaderboard: wins, losses, ties and Elo per provider/model, a pure function of votes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.votes import VoteKind, VoteRecord

ELO_START = 1000.0
ELO_K = 32.0

Contender = tuple[str, str]  # (provider, model)


@dataclass(frozen=True)
class LeaderboardRow:
    provider: str
    model: str
    wins: int
    losses: int
    ties: int
    both_bad: int
    elo: float

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float | None:
        """Wins over decided-or-tied games; None before the first game."""
        return self.wins / self.games if self.games else None


@dataclass
class _Tally:
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0
    elo: float = ELO_START


def expected_score(a: float, b: float) -> float:
    """Elo's expected score of a player rated ``a`` against one rated ``b``."""
    return 1.0 / (1.0 + 10 ** ((b - a) / 400.0))


def leaderboard(votes: Iterable[VoteRecord]) -> list[LeaderboardRow]:
    """Rows from ``votes`` replayed in the order given (vote order), Elo starting at 1000 with
    K=32, best first. A lane win beats every other lane of the run; a tie draws every pair;
    "both bad" is counted but moves no rating. Lanes that made no images are not in a record;
    pairs of the same provider/model are not games."""
    stats: dict[Contender, _Tally] = {}

    def tally(key: Contender) -> _Tally:
        return stats.setdefault(key, _Tally())

    def play(a: Contender, b: Contender, score_a: float) -> None:
        ta, tb = tally(a), tally(b)
        expected = expected_score(ta.elo, tb.elo)
        ta.elo += ELO_K * (score_a - expected)
        tb.elo += ELO_K * ((1 - score_a) - (1 - expected))

    for vote in votes:
        kind, contenders = vote.outcome.kind, list(vote.lanes.values())
        if kind is VoteKind.BOTH_BAD:
            for key in contenders:
                tally(key).both_bad += 1
        elif kind is VoteKind.TIE:
            for i, a in enumerate(contenders):
                for b in (b for b in contenders[i + 1 :] if b != a):
                    tally(a).ties += 1
                    tally(b).ties += 1
                    play(a, b, 0.5)
        elif (winner := vote.lanes.get(vote.outcome.lane or 0)) is not None:
            for loser in (c for c in contenders if c != winner):
                tally(winner).wins += 1
                tally(loser).losses += 1
                play(winner, loser, 1.0)
    rows = [
        LeaderboardRow(p, m, t.wins, t.losses, t.ties, t.both_bad, round(t.elo, 1))
        for (p, m), t in stats.items()
    ]
    return sorted(rows, key=lambda r: (-r.elo, -r.games, r.provider, r.model))
