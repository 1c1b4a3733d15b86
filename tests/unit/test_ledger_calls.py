"""Every paid call reaches the cost ledger exactly once, through the services the app builds:
chat turns, regenerated and stopped replies, Prompt Studio steps, translations for Karlo."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.app_services import build_services
from services.chat import ChatOptions
from services.images.translate import make_karlo_ready
from services.ledger import totals
from services.studio import BUILTIN_CHAINS
from services.studio.runs import StreamingRun

MODEL = "gpt-4o-mini"
LONG = " ".join(f"word{i}" for i in range(40))


@pytest.fixture
def services(settings, catalog, tmp_path):
    local = replace(settings, database_url=f"sqlite:///{tmp_path}/ledger.db")
    built = build_services(local, "local", catalog=catalog)
    yield built
    built.db.engine.dispose()


def answer(pending):
    "".join(pending)
    return pending.finish()


def test_replaced_replies_stay_counted(services, fake):
    conversation = services.conversations.create()
    first = answer(services.turns.send(conversation, "hello", MODEL, ChatOptions()))
    second = answer(services.turns.regenerate(conversation, MODEL, ChatOptions()))
    assert first.cost_usd and second.cost_usd
    (day,) = services.ledger.days()
    assert day.chat_calls == 2
    assert day.chat_cost_usd == pytest.approx(first.cost_usd + second.cost_usd)
    assert not day.estimate
    (top,) = services.ledger.top_conversations()  # both answers cost, two messages are shown
    assert top.messages == 2 and top.cost_usd == pytest.approx(day.chat_cost_usd)


def test_a_stopped_reply_is_estimated_from_the_text_that_arrived(services, fake):
    fake.token_delay = 0.01
    conversation = services.conversations.create()
    pending = services.turns.send(conversation, LONG, MODEL, ChatOptions())
    deltas = iter(pending)
    for _ in range(5):
        next(deltas)
    assert pending.finish(stopped=True).status == "stopped"
    (day,) = services.ledger.days()
    assert day.chat_calls == 1 and day.chat_cost_usd > 0
    assert day.chat_estimate and totals([day]).estimate


def test_studio_steps_and_translations_are_counted(services, fake):
    engine = services.chain_engine
    template = BUILTIN_CHAINS["tutorial"]
    run = engine.new_run("화성에 동물이 살았다면 어떤 모습이었을지", template)
    streaming = StreamingRun(engine, services.chains, run, 0)
    try:
        for step in streaming:
            for _ in step:
                pass
    finally:
        streaming.close()
    fake.reply = lambda messages, model: "A fox on Mars, watercolor"
    make_karlo_ready(services.chat, MODEL, "화성의 여우")

    (day,) = services.ledger.days()
    assert day.chat_calls == len(template.steps) + 1
    assert day.studio_cost_usd > 0 and day.translate_cost_usd > 0
    assert day.chat_cost_usd == pytest.approx(day.studio_cost_usd + day.translate_cost_usd)
