"""The users table: first and last seen, and at most one write a minute per owner."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.identity import SignedInUser
from services.storage.db import Database
from services.storage.users import UserStore

T0 = datetime(2026, 11, 20, 9, 0, 0)
ADA = SignedInUser("https://issuer.example", "ada-sub", "ada@example.com", True, "Ada")


@pytest.fixture
def users(tmp_path):
    return UserStore(Database(f"sqlite:///{tmp_path / 'users.db'}"))


def test_first_visit_creates_the_user(users):
    assert users.get(ADA.owner_id) is None
    assert users.record_visit(ADA, T0)
    record = users.get(ADA.owner_id)
    assert (record.issuer, record.subject, record.email, record.name) == (
        "https://issuer.example",
        "ada-sub",
        "ada@example.com",
        "Ada",
    )
    assert record.first_seen == record.last_seen == T0
    assert record.email_verified is True


def test_reruns_within_a_minute_do_not_write(users):
    users.record_visit(ADA, T0)
    assert not users.record_visit(ADA, T0 + timedelta(seconds=5))
    assert not users.record_visit(ADA, T0 + timedelta(seconds=59))
    assert users.get(ADA.owner_id).last_seen == T0
    assert users.record_visit(ADA, T0 + timedelta(minutes=2))
    record = users.get(ADA.owner_id)
    assert record.first_seen == T0 and record.last_seen == T0 + timedelta(minutes=2)


def test_a_changed_name_or_email_is_written_at_once_under_the_same_owner(users):
    users.record_visit(ADA, T0)
    renamed = SignedInUser(ADA.issuer, ADA.subject, "ada@new.example", True, "Ada L.")
    assert users.record_visit(renamed, T0 + timedelta(seconds=10))
    [record] = users.all()
    assert record.owner_id == ADA.owner_id
    assert (record.email, record.name) == ("ada@new.example", "Ada L.")


def test_all_lists_most_recent_first(users):
    bo = SignedInUser("https://issuer.example", "bo-sub", None, None, None)
    users.record_visit(ADA, T0)
    users.record_visit(bo, T0 + timedelta(hours=1))
    assert [u.subject for u in users.all()] == ["bo-sub", "ada-sub"]


def test_overlong_claims_are_clipped_to_the_columns(users):
    long = SignedInUser("https://issuer.example", "x-sub", "a" * 400 + "@x.org", None, "N" * 500)
    users.record_visit(long, T0)
    record = users.get(long.owner_id)
    assert len(record.email) == 320 and len(record.name) == 200
