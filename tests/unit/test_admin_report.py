"""The admin's view across owners: each user's spending today and this month, and per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from services.admin_report import AdminReport, spend_by_owner_day
from services.identity import SignedInUser
from services.images.base import ImageRequest, ImageResult
from services.settings import Access
from services.storage.chains import ChainStore, StudioRunRow
from services.storage.conversations import ConversationStore, MessageRow
from services.storage.db import Database
from services.storage.images import CompareLaneRow, CompareRunRow, ImageStore
from services.storage.users import UserStore
from services.studio import BUILTIN_CHAINS, DEFAULT_CHAIN_ID, ChainRun

TODAY = date(2026, 11, 20)
EARLIER = date(2026, 11, 3)
LAST_MONTH = date(2026, 10, 30)
ADA = SignedInUser("https://issuer.example", "ada", "ada@team.org", True, "Ada")
BO = SignedInUser("https://issuer.example", "bo", "bo@team.org", None, "Bo")


@pytest.fixture
def db(tmp_path):
    return Database(f"sqlite:///{tmp_path / 'admin.db'}")


def noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=12)


def chat_reply(db: Database, owner: str, day: date, cost: float | None) -> None:
    store = ConversationStore(db, owner)
    conversation = store.create(title="t")
    store.add_message(conversation.id, "user", "q")
    store.add_message(
        conversation.id, "assistant", "a", prompt_tokens=5, completion_tokens=7, cost_usd=cost
    )
    with db.session() as s, s.begin():
        s.execute(
            update(MessageRow)
            .where(MessageRow.conversation_id == conversation.id)
            .values(created_at=noon(day))
        )


def image_lane(db: Database, owner: str, day: date, cost: float) -> None:
    result = ImageResult("openai", "gpt-image-2", (), {}, latency_ms=1, cost_usd=cost)
    run_id = ImageStore(db, owner).save_run("p", [(ImageRequest("p", "gpt-image-2"), result)]).id
    with db.session() as s, s.begin():
        s.execute(
            update(CompareRunRow).where(CompareRunRow.id == run_id).values(created_at=noon(day))
        )
        s.execute(
            update(CompareLaneRow)
            .where(CompareLaneRow.run_id == run_id)
            .values(created_at=noon(day))
        )


def studio_run(db: Database, owner: str, day: date, cost: float) -> None:
    run = ChainRun("idea", BUILTIN_CHAINS[DEFAULT_CHAIN_ID], "gpt-5.4-mini")
    run.steps[0].status, run.steps[0].completion_tokens, run.steps[0].cost_usd = "done", 3, cost
    ChainStore(db, owner).save_run(run)
    with db.session() as s, s.begin():
        s.execute(
            update(StudioRunRow).where(StudioRunRow.id == run.id).values(created_at=noon(day))
        )


def test_spend_is_summed_per_owner_and_day_across_chat_studio_and_images(db):
    chat_reply(db, ADA.owner_id, TODAY, 0.01)
    chat_reply(db, ADA.owner_id, TODAY, None)  # unpriced: counted, not guessed
    image_lane(db, ADA.owner_id, TODAY, 0.04)
    studio_run(db, ADA.owner_id, EARLIER, 0.002)
    chat_reply(db, BO.owner_id, EARLIER, 0.5)
    chat_reply(db, BO.owner_id, LAST_MONTH, 9.0)

    rows = spend_by_owner_day(db, TODAY.replace(day=1), TODAY)
    by_key = {(r.owner_id, r.day): r for r in rows}
    ada_today = by_key[(ADA.owner_id, TODAY)]
    assert ada_today.cost_usd == pytest.approx(0.05)
    assert (ada_today.calls, ada_today.unpriced) == (3, 1)
    assert by_key[(ADA.owner_id, EARLIER)].cost_usd == pytest.approx(0.002)
    assert by_key[(BO.owner_id, EARLIER)].calls == 1
    assert (BO.owner_id, LAST_MONTH) not in by_key  # outside the period
    assert [r.day for r in rows] == sorted(r.day for r in rows)


def test_user_spend_lists_every_user_with_today_and_month(db):
    users = UserStore(db)
    users.record_visit(ADA, noon(TODAY) - timedelta(hours=3))
    users.record_visit(BO, noon(TODAY))
    chat_reply(db, ADA.owner_id, TODAY, 0.01)
    chat_reply(db, ADA.owner_id, EARLIER, 0.02)
    chat_reply(db, BO.owner_id, LAST_MONTH, 9.0)

    report = AdminReport(db, Access(admin_emails=frozenset({"ada@team.org"})))
    bo, ada = report.user_spend(TODAY)  # most recently seen first
    assert (ada.user.name, ada.is_admin, bo.user.name, bo.is_admin) == ("Ada", True, "Bo", False)
    assert ada.today_usd == pytest.approx(0.01) and ada.month_usd == pytest.approx(0.03)
    assert (ada.calls_today, ada.calls_month, ada.unpriced_month) == (1, 2, 0)
    chat_reply(db, ADA.owner_id, TODAY, None)
    _, ada = report.user_spend(TODAY)
    assert (ada.calls_today, ada.unpriced_today, ada.unpriced_month) == (2, 1, 1)
    assert (bo.today_usd, bo.month_usd, bo.calls_month) == (0.0, 0.0, 0)


def test_an_unverified_admin_email_is_not_an_admin(db):
    unverified = SignedInUser("https://issuer.example", "eve", "ada@team.org", False, "Eve")
    UserStore(db).record_visit(unverified, noon(TODAY))
    report = AdminReport(db, Access(admin_emails=frozenset({"ada@team.org"})))
    [eve] = report.user_spend(TODAY)
    assert not eve.is_admin
