"""Spending limits against the fake image_servers: a call that would pass a limit is refused with
the figures, and the fake receives nothing; the user's own key is not limited; unknown
prices count at the highest known price; the daily budget resets at the next UTC midnight."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import httpx2
import pytest

from services.budget import Budget, LimitExceeded, LimitKind, next_midnight
from services.catalog import Catalog
from services.chat import ChatMessage, ChatOptions, ChatService, estimate_tokens
from services.chat_turns import ChatTurns
from services.errors import ErrorKind
from services.images import ImageRequest, KarloProvider, OpenAIImageProvider, run_lanes
from services.images.translate import make_karlo_ready
from services.settings import Limits, Mode, Secret, Settings
from services.storage import ConversationStore, Database
from services.storage.chains import ChainStore
from services.storage.usage import UsageEvent, UsageStore
from services.studio import ChainEngine, StreamingRun, builtin_chains
from tests.conftest import OWNER, TEST_TIMEOUT
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY

HELLO = [ChatMessage("user", "Say hello")]


class Clock:
    """An injected UTC clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 22, 0))


def shared_settings(base: Settings, budget: float, *, own_key: bool = False, **limits) -> Settings:
    source = "sidebar" if own_key else "secrets"
    return replace(
        base,
        mode=Mode.SHARED,
        owner_id=OWNER,
        limits=Limits(daily_budget_usd=budget, **limits),
        sources={"OPENAI_API_KEY": source, "KAKAO_REST_API_KEY": source},
    )


def metered(settings: Settings, db: Database, catalog: Catalog, clock: Clock):
    budget = Budget(settings, UsageStore(db, OWNER), catalog, clock=clock)
    chat = ChatService(settings, catalog, timeout=TEST_TIMEOUT, max_retries=0, budget=budget)
    return budget, chat


def test_tiny_budget_refuses_a_chat_turn_and_sends_nothing(fake, settings, db, catalog, clock):
    _, chat = metered(shared_settings(settings, 0.0001), db, catalog, clock)
    store = ConversationStore(db, OWNER)
    conversation = store.create(model="gpt-5.4-mini")
    with pytest.raises(LimitExceeded) as caught:
        ChatTurns(store, chat).send(conversation, "Say hello", "gpt-5.4-mini", ChatOptions())
    err = caught.value
    assert err.kind is ErrorKind.BUDGET_EXCEEDED and err.limit is LimitKind.DAILY_BUDGET
    assert (err.used, err.allowed) == (0.0, 0.0001) and err.asked > 0.0001
    assert err.resets_at == datetime(2026, 11, 26, 0, 0)
    assert fake.chat_requests() == []
    # what the user typed is kept, marked with why it was not answered
    [kept] = store.messages(conversation.id)
    assert (kept.content, kept.status, kept.error_kind) == ("Say hello", "error", "budget_exceeded")


def test_spending_accumulates_until_the_next_call_is_refused(fake, settings, db, catalog, clock):
    probe = Budget(shared_settings(settings, 0), UsageStore(db, "nobody"), catalog, clock=clock)
    one_call = probe.chat_estimate("gpt-5.4-mini", HELLO).usd
    budget, chat = metered(shared_settings(settings, one_call * 1.5), db, catalog, clock)
    chat.reply("gpt-5.4-mini", HELLO)  # allowed, and recorded with the provider's usage
    spent = budget.status().spent_usd
    assert spent > 0
    assert not budget.status().has_estimates
    budget.record("chat", "openai", "gpt-5.4-mini", one_call)  # e.g. another tab's turn
    with pytest.raises(LimitExceeded) as caught:
        chat.reply("gpt-5.4-mini", HELLO)
    assert caught.value.used == pytest.approx(spent + one_call)
    assert len(fake.chat_requests()) == 1


def test_the_budget_resets_at_the_next_utc_midnight(fake, settings, db, catalog, clock):
    budget, chat = metered(shared_settings(settings, 0.01), db, catalog, clock)
    budget.record("chat", "openai", "gpt-5.4-mini", 0.01)
    with pytest.raises(LimitExceeded):
        chat.reply("gpt-5.4-mini", HELLO)
    clock.now = next_midnight(clock.now)  # 00:00 UTC the next day
    assert budget.status().spent_usd == 0.0
    assert chat.reply("gpt-5.4-mini", HELLO).text
    assert len(fake.chat_requests()) == 1


def test_an_own_sidebar_key_is_not_limited_nor_charged(fake, settings, db, catalog, clock):
    budget, chat = metered(shared_settings(settings, 0.0001, own_key=True), db, catalog, clock)
    assert chat.reply("gpt-5.4-mini", HELLO).text
    assert len(fake.chat_requests()) == 1
    assert budget.status().spent_usd == 0.0 and not budget.status().limited
    # the deployer's key is still limited for the same owner
    deployer, _ = metered(shared_settings(settings, 0.0001), db, catalog, clock)
    with pytest.raises(LimitExceeded):
        deployer.check_chat("gpt-5.4-mini", HELLO)


def test_local_mode_is_not_limited(fake, settings, db, catalog, clock):
    local = replace(settings, limits=Limits(daily_budget_usd=0.0001))
    budget, chat = metered(local, db, catalog, clock)
    assert chat.reply("gpt-5.4-mini", HELLO).text
    assert budget.max_lanes() is None and budget.max_images_per_lane() is None


def test_unknown_prices_count_at_the_highest_known_price(fake, settings, db, catalog, clock):
    budget, chat = metered(shared_settings(settings, 100.0), db, catalog, clock)
    priced = [catalog.spec(m).price for m in catalog.known_ids("chat")]
    top_in = max(p.input for p in priced if p)
    top_out = max(p.output for p in priced if p)
    assert catalog.spec("gpt-6.1-sol").price is None
    estimate = budget.chat_estimate("gpt-6.1-sol", HELLO, max_tokens=1000)
    prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in HELLO)
    assert estimate.unpriced
    assert estimate.usd == pytest.approx((prompt_tokens * top_in + 1000 * top_out) / 1e6)
    assert estimate.usd > budget.chat_estimate("gpt-5.5", HELLO, max_tokens=1000).usd
    # the call itself is recorded at that price too, marked as an estimate
    fake.models.append(replace(fake.models[0], id="gpt-6.1-sol"))
    stream = chat.reply("gpt-6.1-sol", HELLO)
    expected = (
        stream.usage.prompt_tokens * top_in + stream.usage.completion_tokens * top_out
    ) / 1e6
    status = budget.status()
    assert status.spent_usd == pytest.approx(expected) and status.has_estimates
    # and a refusal says the price was unknown
    tight, _ = metered(shared_settings(settings, expected + 0.000001), db, catalog, clock)
    with pytest.raises(LimitExceeded) as caught:
        tight.check_chat("gpt-6.1-sol", HELLO)
    assert caught.value.unpriced


def test_a_stopped_reply_is_charged_an_estimate(fake, settings, db, catalog, clock):
    fake.reply = lambda messages, model: "word " * 200
    budget, chat = metered(shared_settings(settings, 100.0), db, catalog, clock)
    stream = chat.stream_reply("gpt-5.4-mini", HELLO)
    next(iter(stream))
    stream.close()  # Stop: the usage chunk never comes
    stream.close()  # a second close (the page's finally) records nothing more
    status = budget.status()
    assert status.spent_usd > 0 and status.has_estimates
    assert UsageStore(db, OWNER).charged_usd(datetime(2026, 1, 1), datetime(2027, 1, 1)) == (
        pytest.approx(status.spent_usd)
    )


def test_a_studio_run_is_refused_before_its_first_step(fake, settings, db, catalog, clock):
    _, chat = metered(shared_settings(settings, 0.0001), db, catalog, clock)
    engine = ChainEngine(chat)
    run = engine.new_run("a fox in the snow", builtin_chains()[0], model="gpt-5.4-mini")
    chains = ChainStore(db, OWNER)
    with pytest.raises(LimitExceeded):
        StreamingRun(engine, chains, run, 0)
    assert fake.chat_requests() == []
    assert chains.get_run(run.id) is None  # nothing stored for a run that never started


def test_studio_steps_are_recorded_as_they_run(fake, settings, db, catalog, clock):
    budget, chat = metered(shared_settings(settings, 100.0), db, catalog, clock)
    engine = ChainEngine(chat)
    run = engine.new_run("a fox in the snow", builtin_chains()[0], model="gpt-5.4-mini")
    streaming = StreamingRun(engine, ChainStore(db, OWNER), run, 0)
    try:
        for step in streaming:
            step.drain()
    finally:
        streaming.close()
    assert budget.status().spent_usd == pytest.approx(run.cost_usd)


def test_translation_for_karlo_is_limited(fake, settings, db, catalog, clock):
    _, chat = metered(shared_settings(settings, 0.0001), db, catalog, clock)
    with pytest.raises(LimitExceeded):
        make_karlo_ready(chat, "gpt-5.4-mini", "눈 속의 붉은 여우")
    assert fake.chat_requests() == []


# -- image lanes ---------------------------------------------------------------------------


@pytest.fixture
def image_settings(image_servers) -> Settings:
    images, openai_fake, karlo_fake = image_servers
    images.calls.clear()
    karlo_fake.calls.clear()
    return Settings(
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=openai_fake.base_url,
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
        karlo_base_url=karlo_fake.base_url,
    )


def lanes(settings: Settings, *, gpt_count: int = 1, karlo_count: int = 1):
    return [
        (
            OpenAIImageProvider(settings, max_retries=0),
            ImageRequest("a red fox", "gpt-image-2", quality="low", count=gpt_count),
        ),
        (
            KarloProvider(settings, timeout=httpx2.Timeout(10.0), retry_backoff=0.01),
            ImageRequest("a red fox", "karlo-v2.1", count=karlo_count),
        ),
    ]


def test_images_past_the_budget_are_refused_and_nothing_is_sent(
    image_servers, image_settings, db, catalog, clock
):
    images, _, karlo_fake = image_servers
    settings = shared_settings(image_settings, 0.0001)
    budget = Budget(settings, UsageStore(db, OWNER), catalog, clock=clock)
    with pytest.raises(LimitExceeded) as caught:
        budget.guard_lanes(lanes(settings))
    assert caught.value.limit is LimitKind.DAILY_BUDGET
    assert images.calls == [] and karlo_fake.calls == []


def test_per_run_caps(image_servers, image_settings, db, catalog, clock):
    images, _, karlo_fake = image_servers
    settings = shared_settings(image_settings, 100.0, max_lanes=1, max_images_per_lane=2)
    budget = Budget(settings, UsageStore(db, OWNER), catalog, clock=clock)
    with pytest.raises(LimitExceeded) as caught:
        budget.guard_lanes(lanes(settings))
    assert (caught.value.kind, caught.value.limit) == (ErrorKind.RUN_LIMIT, LimitKind.LANES)
    wide = shared_settings(image_settings, 100.0, max_lanes=4, max_images_per_lane=2)
    budget = Budget(wide, UsageStore(db, OWNER), catalog, clock=clock)
    with pytest.raises(LimitExceeded) as caught:
        budget.guard_lanes(lanes(wide, gpt_count=3))
    assert (caught.value.limit, caught.value.allowed, caught.value.asked) == (
        LimitKind.IMAGES_PER_LANE,
        2,
        3,
    )
    assert images.calls == [] and karlo_fake.calls == []


def test_karlo_monthly_cap_counts_made_images(image_servers, image_settings, db, catalog, clock):
    images, _, karlo_fake = image_servers
    settings = shared_settings(image_settings, 100.0, karlo_monthly_images=3)
    budget = Budget(settings, UsageStore(db, OWNER), catalog, clock=clock)
    outcomes = run_lanes(budget.guard_lanes(lanes(settings, karlo_count=2)))
    assert all(not isinstance(o, Exception) for o in outcomes)
    assert budget.status().spent_usd > 0  # the GPT Image lane; Karlo is free within its quota
    with pytest.raises(LimitExceeded) as caught:
        budget.guard_lanes(lanes(settings, karlo_count=2))
    err = caught.value
    assert (err.limit, err.used, err.allowed, err.asked) == (LimitKind.KARLO_MONTHLY, 2, 3, 2)
    assert err.resets_at == datetime(2026, 12, 1)
    assert len(karlo_fake.t2i_calls()) == 1 and len(images.calls) == 1
    # a new month starts over
    clock.now = datetime(2026, 12, 1, 0, 0, 1)
    budget.check_images([("karlo", ImageRequest("a red fox", "karlo-v2.1", count=2))])


def test_usage_events_are_per_owner(db):
    UsageStore(db, "a").add(UsageEvent("chat", "openai", "m", 1.0))
    window = (datetime(2000, 1, 1), datetime(2100, 1, 1))
    assert UsageStore(db, "b").charged_usd(*window) == 0.0
    assert UsageStore(db, "a").charged_usd(*window) == 1.0


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_refusal_reads_spent_remaining_and_reset_in_both_languages(lang):
    from services.i18n import Translator
    from services.wording import limit_text

    t = Translator(lang)
    err = LimitExceeded(
        LimitKind.DAILY_BUDGET,
        used=0.8,
        allowed=1.0,
        asked=0.3,
        resets_at=datetime(2026, 11, 26),
        unpriced=True,
    )
    text = limit_text(err, t)
    assert "$0.8000" in text and "$1.0000" in text and "$0.2000" in text and "$0.3000" in text
    assert "00:00" in text and "UTC" in text
    assert t("budget.unpriced_counted") in text
    karlo = LimitExceeded(
        LimitKind.KARLO_MONTHLY, used=50, allowed=50, asked=1, resets_at=datetime(2026, 12, 1)
    )
    assert "2026-12-01" in limit_text(karlo, t) and "50" in limit_text(karlo, t)


def test_a_limit_of_one_image_reads_in_the_singular():
    from services.i18n import Translator
    from services.wording import limit_text

    t = Translator("en")
    one = LimitExceeded(LimitKind.IMAGES_PER_LANE, used=0, allowed=1, asked=3)
    assert "only 1 image (one asks for 3)" in limit_text(one, t)
    two = LimitExceeded(LimitKind.IMAGES_PER_LANE, used=0, allowed=2, asked=3)
    assert "at most 2 images" in limit_text(two, t)
    assert "최대 1장" in limit_text(one, Translator("ko"))
