"""The cost ledger on a real SQLite file: chat and image costs per day, per conversation,
per comparison run, and the Karlo monthly count."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import update

from services.errors import ChatCanvasError, ErrorKind
from services.images import PROVIDERS
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.ledger import CostLedger, KarloQuota, totals
from services.storage.conversations import ConversationStore, MessageRow
from services.storage.db import Database
from services.storage.images import CompareLaneRow, CompareRunRow, ImageRow, ImageStore

OWNER = "owner-1"
DAY1 = date(2026, 11, 3)
DAY2 = date(2026, 11, 5)


def png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


def result(provider: str, model: str, n: int = 1, cost: float | None = 0.04) -> ImageResult:
    images = tuple(GeneratedImage(png(), "image/png", seed=i) for i in range(n))
    return ImageResult(provider, model, images, {"model": model}, latency_ms=500, cost_usd=cost)


@pytest.fixture
def db(database):
    """Every test here runs on SQLite and on PostgreSQL."""
    return database


@pytest.fixture
def chats(db):
    return ConversationStore(db, OWNER)


@pytest.fixture
def images(db):
    return ImageStore(db, OWNER)


@pytest.fixture
def ledger(chats, images):
    return CostLedger(chats, images)


def at_noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=12)


def move_messages(db: Database, conversation_id: str, day: date) -> None:
    with db.session() as s, s.begin():
        s.execute(
            update(MessageRow)
            .where(MessageRow.conversation_id == conversation_id)
            .values(created_at=at_noon(day))
        )


def move_run(db: Database, run_id: str, day: date) -> None:
    with db.session() as s, s.begin():
        for table in (CompareRunRow, CompareLaneRow, ImageRow):
            column = table.id if table is CompareRunRow else table.run_id
            s.execute(update(table).where(column == run_id).values(created_at=at_noon(day)))


def chat(store: ConversationStore, title: str, *costs: float | None) -> str:
    conversation = store.create(title=title)
    for cost in costs:
        store.add_message(conversation.id, "user", "q")
        store.add_message(
            conversation.id, "assistant", "a", prompt_tokens=10, completion_tokens=20, cost_usd=cost
        )
    return conversation.id


def run(store: ImageStore, *lanes: ImageResult | ChatCanvasError, prompt: str = "a fox") -> str:
    pairs = [
        (ImageRequest(prompt, lane.model if isinstance(lane, ImageResult) else "m"), lane)
        for lane in lanes
    ]
    return store.save_run(prompt, pairs).id


def test_empty_ledger(ledger):
    assert ledger.days() == []
    assert ledger.top_conversations() == []
    assert ledger.top_runs() == []
    assert ledger.karlo_quota(DAY1) == KarloQuota(0)
    empty = totals([])
    assert empty.total_usd == 0 and not empty.incomplete


def test_days_join_chat_and_image_costs(db, chats, images, ledger):
    move_messages(db, chat(chats, "day one", 0.01, 0.02), DAY1)
    move_messages(db, chat(chats, "day two", 0.005), DAY2)
    move_run(db, run(images, result("openai", "gpt-image-2", n=2, cost=0.08)), DAY2)
    move_run(db, run(images, result("karlo", "karlo-v2.1", cost=None)), DAY2)

    days = ledger.days()
    assert [d.day for d in days] == [DAY1, DAY2]
    one, two = days
    assert one.chat_cost_usd == pytest.approx(0.03)
    assert one.chat_messages == 4 and one.images == 0 and not one.incomplete
    assert two.chat_cost_usd == pytest.approx(0.005)
    assert two.image_cost_usd == pytest.approx(0.08)
    assert two.images == 3
    assert two.image_unpriced == 1 and two.image_incomplete and not two.chat_incomplete
    assert two.total_usd == pytest.approx(0.085)

    summed = totals(days)
    assert summed.chat_cost_usd == pytest.approx(0.035)
    assert summed.image_cost_usd == pytest.approx(0.08)
    assert summed.total_usd == pytest.approx(0.115)
    assert summed.images == 3
    assert summed.incomplete and summed.image_incomplete and not summed.chat_incomplete


def test_unpriced_chat_messages_are_counted_not_guessed(db, chats, ledger):
    move_messages(db, chat(chats, "mixed", 0.01, None), DAY1)
    (day,) = ledger.days()
    assert day.chat_cost_usd == pytest.approx(0.01)
    assert day.chat_unpriced == 1 and day.incomplete


def test_period_bounds_include_the_until_day(db, chats, images, ledger):
    move_messages(db, chat(chats, "early", 0.01), DAY1)
    move_messages(db, chat(chats, "late", 0.02), DAY2)
    move_run(db, run(images, result("openai", "gpt-image-2")), DAY2)
    assert [d.day for d in ledger.days(since=DAY2)] == [DAY2]
    assert [d.day for d in ledger.days(until=DAY1)] == [DAY1]
    assert [d.day for d in ledger.days(since=DAY2, until=DAY2)] == [DAY2]
    assert ledger.days(since=DAY2 + timedelta(days=1)) == []


def test_top_conversations_by_cost_within_the_period(db, chats, ledger):
    cheap = chat(chats, "cheap", 0.001)
    dear = chat(chats, "dear", 0.05, 0.05)
    unknown = chat(chats, "unknown", None)
    old = chat(chats, "old and dear", 1.0)
    for conversation_id in (cheap, dear, unknown):
        move_messages(db, conversation_id, DAY2)
    move_messages(db, old, DAY1)

    top = ledger.top_conversations(limit=10, since=DAY2)
    assert [c.title for c in top] == ["dear", "cheap", "unknown"]
    assert top[0].cost_usd == pytest.approx(0.1) and top[0].messages == 4
    assert top[2].unpriced == 1 and top[2].cost_usd == 0
    assert [c.title for c in ledger.top_conversations(limit=1)] == ["old and dear"]


def test_top_runs_from_lanes_even_after_images_are_deleted(db, images, ledger):
    cheap = run(images, result("openai", "gpt-image-2", cost=0.01), prompt="cheap")
    dear = run(
        images,
        result("openai", "gpt-image-2", n=2, cost=0.1),
        ChatCanvasError(ErrorKind.SERVER_ERROR, provider="karlo"),
        prompt="dear",
    )
    images.record_vote(dear, "lane:0")
    images.delete(images.get_run(dear).lanes[0].image_ids)

    top = ledger.top_runs()
    assert [r.prompt for r in top] == ["dear", "cheap"]
    first = top[0]
    assert first.id == dear and first.lanes == 2 and first.images == 2
    assert first.cost_usd == pytest.approx(0.1)
    assert str(first.outcome) == "lane:0" and not first.incomplete
    assert top[1].id == cheap and top[1].outcome is None


def test_run_with_an_unpriced_lane_is_a_lower_bound(images, ledger):
    run(
        images, result("openai", "gpt-image-2", cost=0.04), result("karlo", "karlo-v2.1", cost=None)
    )
    (only,) = ledger.top_runs()
    assert only.cost_usd == pytest.approx(0.04)
    assert only.unpriced == 1 and only.incomplete


def test_other_owners_are_not_in_the_ledger(db, chats, images):
    chat(chats, "mine", 0.01)
    run(images, result("karlo", "karlo-v2.1", n=3))
    theirs = CostLedger(ConversationStore(db, "someone-else"), ImageStore(db, "someone-else"))
    assert theirs.days() == []
    assert theirs.top_conversations() == []
    assert theirs.top_runs() == []
    assert theirs.karlo_quota().used == 0


def test_karlo_quota_counts_this_month_only(db, images, ledger):
    this_month = run(images, result("karlo", "karlo-v2.1", n=4, cost=None))
    last_month = run(images, result("karlo", "karlo-v2.1", n=2, cost=None))
    run(images, result("openai", "gpt-image-2", n=3))
    move_run(db, this_month, DAY2)
    move_run(db, last_month, date(2026, 10, 30))
    images.delete(images.get_run(this_month).lanes[0].image_ids[:1])  # still counts

    quota = ledger.karlo_quota(date(2026, 11, 20))
    assert quota == KarloQuota(4, PROVIDERS["karlo"].monthly_free_images)
    assert quota.share == pytest.approx(4 / 500)
    assert not quota.exceeded
    assert KarloQuota(650).share == 1.0 and KarloQuota(650).exceeded
