"""The vote outcome type (one place reads and writes the stored text) and the leaderboard as a
pure function of votes."""

from __future__ import annotations

import pytest

from services.leaderboard import ELO_K, ELO_START, expected_score, leaderboard
from services.votes import BOTH_BAD, TIE, VoteKind, VoteOutcome, VoteRecord

GPT, KARLO, FLARE = ("openai", "gpt-image-2"), ("karlo", "karlo-v2.1"), ("openai", "flare")


# -- the vote outcome -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "vote"),
    [
        ("lane:0", VoteOutcome(VoteKind.LANE, 0)),
        ("lane:12", VoteOutcome.winner(12)),
        ("tie", TIE),
        ("both_bad", BOTH_BAD),
    ],
)
def test_outcomes_round_trip_through_their_text(text, vote):
    assert VoteOutcome.parse(text) == vote
    assert str(vote) == text
    assert VoteOutcome.load(text) == vote


@pytest.mark.parametrize("text", ["lane:-1", "lane:x", "lane:", "draw", "", "Tie", " tie"])
def test_other_texts_are_refused(text):
    with pytest.raises(ValueError):
        VoteOutcome.parse(text)
    assert VoteOutcome.load(text) is None  # a stored value that cannot be read: not voted


def test_a_lane_goes_with_a_lane_vote_only():
    with pytest.raises(ValueError):
        VoteOutcome(VoteKind.LANE)
    with pytest.raises(ValueError):
        VoteOutcome(VoteKind.TIE, 1)
    with pytest.raises(ValueError):
        VoteOutcome.winner(-1)
    assert VoteOutcome.load(None) is None
    assert TIE.lane is None and VoteOutcome.winner(2).lane == 2


# -- the leaderboard --------------------------------------------------------------------------


def vote(outcome: VoteOutcome, *lanes: tuple[str, str]) -> VoteRecord:
    return VoteRecord(outcome, dict(enumerate(lanes)))


def test_no_votes_no_rows():
    assert leaderboard([]) == []


def test_a_win_moves_k_over_two_between_equals():
    rows = leaderboard([vote(VoteOutcome.winner(1), GPT, KARLO)])
    assert [(r.provider, r.model, r.wins, r.losses, r.elo) for r in rows] == [
        (*KARLO, 1, 0, ELO_START + ELO_K / 2),
        (*GPT, 0, 1, ELO_START - ELO_K / 2),
    ]
    assert rows[0].games == 1 and rows[0].win_rate == 1.0


def test_ties_and_both_bad():
    rows = {
        (r.provider, r.model): r
        for r in leaderboard(
            [vote(VoteOutcome.winner(0), GPT, KARLO), vote(TIE, GPT, KARLO), vote(BOTH_BAD, GPT)]
        )
    }
    a, b = ELO_START + 16, ELO_START - 16
    a, b = a + ELO_K * (0.5 - expected_score(a, b)), b + ELO_K * (0.5 - expected_score(b, a))
    assert rows[GPT].elo == pytest.approx(round(a, 1)) and rows[KARLO].elo == pytest.approx(
        round(b, 1)
    )
    assert (rows[GPT].wins, rows[GPT].ties, rows[GPT].both_bad) == (1, 1, 1)
    assert (rows[KARLO].losses, rows[KARLO].ties, rows[KARLO].both_bad) == (1, 1, 0)
    assert rows[GPT].win_rate == 0.5


def test_order_matters_and_the_sum_stays_zero():
    votes = [vote(VoteOutcome.winner(w), FLARE, KARLO) for w in (0, 0, 0, 1)]
    rows = leaderboard(votes)
    assert sum(r.elo - ELO_START for r in rows) == pytest.approx(0, abs=0.2)
    assert leaderboard(reversed(votes)) != rows  # replayed in the order given


def test_lone_winners_mirrors_and_missing_lanes_are_not_games():
    lone = VoteRecord(VoteOutcome.winner(0), {0: GPT})  # the other lane failed
    mirror = vote(VoteOutcome.winner(1), GPT, GPT)
    gone = VoteRecord(VoteOutcome.winner(1), {0: GPT})  # the winner made no images
    tie_mirror = vote(TIE, KARLO, KARLO)
    assert leaderboard([lone, mirror, gone, tie_mirror]) == []


def test_three_lanes_a_win_beats_both_others():
    rows = {
        (r.provider, r.model): r
        for r in leaderboard([vote(VoteOutcome.winner(2), GPT, FLARE, KARLO)])
    }
    assert rows[KARLO].wins == 2 and rows[GPT].losses == rows[FLARE].losses == 1
