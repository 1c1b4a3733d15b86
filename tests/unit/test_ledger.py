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
from services.storage.usage import UsageEvent, UsageStore

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
def usage(db):
    return UsageStore(db, OWNER)


@pytest.fixture
def ledger(chats, images, usage):
    return CostLedger(chats, images, usage)


def paid(usage: UsageStore, day: date, kind: str, cost: float, **fields) -> None:
    """One paid call as services/budget.py records it."""
    provider = fields.pop("provider", "karlo" if kind == "image" and not cost else "openai")
    model = "karlo-v2.1" if provider == "karlo" else "gpt-4o-mini"
    usage.add(UsageEvent(kind, provider, model, cost, created_at=at_noon(day), **fields))


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
    assert empty.total_usd == 0 and not empty.estimate


def test_days_join_every_paid_call(usage, ledger):
    paid(usage, DAY1, "chat", 0.01)
    paid(usage, DAY1, "chat", 0.02)
    paid(usage, DAY2, "chat", 0.005)
    paid(usage, DAY2, "studio", 0.003)
    paid(usage, DAY2, "translate", 0.001)
    paid(usage, DAY2, "image", 0.08, images=2)
    paid(usage, DAY2, "image", 0.0, images=1)  # Karlo: free within the quota

    days = ledger.days()
    assert [d.day for d in days] == [DAY1, DAY2]
    one, two = days
    assert one.chat_cost_usd == pytest.approx(0.03)
    assert one.chat_calls == 2 and one.images == 0 and not one.estimate
    assert two.chat_cost_usd == pytest.approx(0.009)  # chat, studio and translate calls
    assert two.studio_cost_usd == pytest.approx(0.003)
    assert two.translate_cost_usd == pytest.approx(0.001)
    assert two.image_cost_usd == pytest.approx(0.08)
    assert two.images == 3
    assert not two.estimate  # Karlo's $0 is known, not "at least"
    assert two.total_usd == pytest.approx(0.089)

    summed = totals(days)
    assert summed.chat_cost_usd == pytest.approx(0.039)
    assert summed.image_cost_usd == pytest.approx(0.08)
    assert summed.total_usd == pytest.approx(0.119)
    assert summed.images == 3
    assert summed.studio_cost_usd == pytest.approx(0.003)
    assert not summed.estimate


def test_estimated_calls_are_counted_and_flagged(usage, ledger):
    paid(usage, DAY1, "chat", 0.01)
    paid(usage, DAY1, "chat", 0.002, estimated=True)  # a stopped reply
    (day,) = ledger.days()
    assert day.chat_cost_usd == pytest.approx(0.012)
    assert day.chat_estimated == 1 and day.estimate and not day.image_estimate
    assert totals([day]).estimate


def test_period_bounds_include_the_until_day(usage, ledger):
    paid(usage, DAY1, "chat", 0.01)
    paid(usage, DAY2, "chat", 0.02)
    paid(usage, DAY2, "image", 0.04, images=1)
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
    run(images, result("openai", "gpt-image-2", cost=0.04), result("openai", "my-own", cost=None))
    (only,) = ledger.top_runs()
    assert only.cost_usd == pytest.approx(0.04)
    assert only.unpriced == 1 and only.incomplete


def test_other_owners_are_not_in_the_ledger(db, chats, images, usage):
    chat(chats, "mine", 0.01)
    run(images, result("karlo", "karlo-v2.1", n=3))
    paid(usage, DAY1, "chat", 0.01)
    other = "someone-else"
    theirs = CostLedger(ConversationStore(db, other), ImageStore(db, other), UsageStore(db, other))
    assert theirs.days() == []
    assert theirs.top_conversations() == []
    assert theirs.top_runs() == []
    assert theirs.karlo_quota().used == 0


def test_a_karlo_lane_is_free_not_unpriced(images, ledger):
    run(images, result("karlo", "karlo-v2.1", n=2, cost=None))
    (only,) = ledger.top_runs()
    assert only.cost_usd == 0 and only.unpriced == 0 and not only.incomplete


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
