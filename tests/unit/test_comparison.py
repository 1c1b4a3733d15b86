"""The comparison service against the fake OpenAI images and Karlo servers: lane specs from
text, what each lane sends, progress callbacks, storage as lanes end, limits before anything is
stored or sent, a lane the database refuses, same-seed re-runs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from services.app_services import build_services
from services.budget import LimitExceeded
from services.catalog import Catalog
from services.comparison import (
    ComparisonService,
    ComparisonSpec,
    LaneSpec,
    lane_spec,
    same_seed_lanes,
)
from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageResult
from services.settings import Limits, Mode, Secret, Settings
from services.storage.images import ImageStore
from tests.conftest import OWNER
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY

GPT = LaneSpec("openai", "gpt-image-2", quality="low")
KARLO = LaneSpec("karlo", "karlo-v2.1")


@pytest.fixture
def fakes(image_servers):
    images, openai_fake, karlo_fake = image_servers
    images.calls.clear()
    images.set_fault(None)
    images.latency = 0.0
    openai_fake.clear_faults()
    karlo_fake.calls.clear()
    karlo_fake.set_fault(None)
    karlo_fake.latency = 0.0
    return image_servers


@pytest.fixture
def settings(fakes, tmp_path) -> Settings:
    _, openai_fake, karlo_fake = fakes
    return Settings(
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=openai_fake.base_url,
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
        karlo_base_url=karlo_fake.base_url,
        database_url=f"sqlite:///{tmp_path}/c.db",
    )


@pytest.fixture
def services(settings, catalog):
    return build_services(settings, OWNER, catalog=catalog)


def karlo_bodies(karlo_fake) -> list[dict]:
    return [call.body for call in karlo_fake.t2i_calls()]


# -- lane specs from text ---------------------------------------------------------------------


def test_lane_spec_from_text(catalog: Catalog):
    assert lane_spec("openai:gpt-image-2") == LaneSpec("openai", "gpt-image-2")
    assert lane_spec(" Karlo ") == LaneSpec("karlo", "karlo-v2.1")
    assert lane_spec("openai", catalog=catalog).model == catalog.default_image_model
    assert lane_spec("karlo:karlo-v2.0").model == "karlo-v2.0"
    assert lane_spec("karlo:karlo-v2.0", "karlo-v2.1").model == "karlo-v2.1"
    with pytest.raises(ValueError, match="midjourney"):
        lane_spec("midjourney:v6")


def test_the_services_offer_the_comparison_service(services, catalog):
    assert isinstance(services.comparisons, ComparisonService)
    assert services.comparisons.lane("openai").model == catalog.default_image_model


# -- running ----------------------------------------------------------------------------------


def test_lanes_run_are_reported_and_stored(services, fakes):
    images, _, karlo_fake = fakes
    events: list[tuple[str, object]] = []
    spec = ComparisonSpec(
        "빨간 여우",
        (GPT, replace(KARLO, seeds=(7, 8), count=2)),
        negative_prompt="blurry",
        english_prompt="a red fox",
    )
    result = services.comparisons.run(
        spec,
        on_started=lambda run_id: events.append(("started", run_id)),
        on_lane=lambda index, outcome: events.append((f"lane {index}", outcome)),
    )
    run = result.run
    assert events[0] == ("started", run.id)  # before any lane
    assert sorted(name for name, _ in events[1:]) == ["lane 0", "lane 1"]
    assert all(isinstance(outcome, ImageResult) for _, outcome in events[1:])
    assert result.unsaved == {}
    # the English-only engine got the English prompt, with the negative prompt and the seeds
    assert images.calls[-1].body["prompt"] == "빨간 여우"
    assert "negative_prompt" not in images.calls[-1].body  # GPT Image takes none
    body = karlo_bodies(karlo_fake)[-1]
    assert body["prompt"] == "a red fox" and body["negative_prompt"] == "blurry"
    assert body["seed"] == [7, 8]
    stored = services.images.get_run(run.id)
    assert stored == run and run.prompt == "빨간 여우" and run.negative_prompt == "blurry"
    assert [(lane.provider, lane.ok) for lane in run.lanes] == [("openai", True), ("karlo", True)]
    assert len(run.lanes[1].image_ids) == 2 and run.lanes[1].seeds == (7, 8)
    assert services.images.count() == 3


def test_without_an_english_prompt_every_lane_sends_the_prompt(services, fakes):
    images, _, karlo_fake = fakes
    made = services.comparisons.run(ComparisonSpec("a cat", (GPT, KARLO), studio_run_id="s-1"))
    assert made.run.studio_run_id == "s-1" and not made.run.blind
    assert images.calls[-1].body["prompt"] == karlo_bodies(karlo_fake)[-1]["prompt"] == "a cat"
    assert "seed" not in karlo_bodies(karlo_fake)[-1]  # no seeds: the provider chooses


def test_a_failing_lane_is_stored_as_its_error_and_the_other_as_images(services, fakes):
    _, _, karlo_fake = fakes
    karlo_fake.set_fault("quota_exceeded")
    outcomes: dict[int, object] = {}
    result = services.comparisons.run(
        ComparisonSpec("a cat", (GPT, KARLO)), on_lane=outcomes.__setitem__
    )
    assert isinstance(outcomes[0], ImageResult) and isinstance(outcomes[1], ChatCanvasError)
    gpt, karlo = result.run.lanes
    assert gpt.ok and not karlo.ok and karlo.error_kind == "quota_exceeded"


def test_a_run_past_a_limit_stores_and_sends_nothing(fakes, settings, catalog):
    images, _, karlo_fake = fakes
    shared = replace(
        settings,
        mode=Mode.SHARED,
        limits=Limits(daily_budget_usd=0.0001),
        sources={"OPENAI_API_KEY": "secrets", "KAKAO_REST_API_KEY": "secrets"},
    )
    services = build_services(shared, OWNER, catalog=catalog)
    started: list[str] = []
    with pytest.raises(LimitExceeded):
        services.comparisons.run(ComparisonSpec("a cat", (GPT, KARLO)), on_started=started.append)
    assert started == [] and images.calls == [] and karlo_fake.calls == []
    assert services.images.count() == 0 and services.ledger.top_runs() == []


class RefusingStore(ImageStore):
    """A database that stores the run but refuses one lane's write."""

    def save_lane(self, run_id, index, request, outcome) -> None:
        if index == 1:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        super().save_lane(run_id, index, request, outcome)


def test_a_lane_the_database_refuses_is_handed_back(services, settings):
    store = RefusingStore(services.images.db, OWNER)
    comparisons = ComparisonService(store, services.budget, services.image_provider)
    result = comparisons.run(ComparisonSpec("a cat", (GPT, KARLO)))
    assert [lane.index for lane in result.run.lanes] == [0]
    unsaved = result.unsaved[1]
    assert unsaved.reason == "OperationalError" and unsaved.model == "karlo-v2.1"
    assert isinstance(unsaved.outcome, ImageResult) and unsaved.outcome.images


def test_same_seed_lanes_replay_every_stored_seed(services, fakes):
    _, _, karlo_fake = fakes
    first = services.comparisons.run(ComparisonSpec("a cat", (GPT, replace(KARLO, count=3))))
    seeds = first.run.lanes[1].seeds
    assert len(seeds) == 3
    again = same_seed_lanes((GPT, KARLO), first.run)
    assert again == (GPT, replace(KARLO, seeds=seeds, count=3))  # GPT Image keeps no seeds
    services.comparisons.run(ComparisonSpec("a cat", again))
    assert karlo_bodies(karlo_fake)[-1]["seed"] == list(seeds)
    # seeds replay only on the same engine: lanes changed since keep their own settings
    moved = same_seed_lanes((KARLO, GPT), first.run)
    assert moved == (KARLO, GPT)
    other_model = replace(KARLO, model="karlo-v2.0")
    assert same_seed_lanes((GPT, other_model), first.run) == (GPT, other_model)


def test_english_only_lanes_get_a_translation_from_the_service(services, fakes):
    """Issue 13.1: one path for the web page and the terminal app."""
    _, openai_fake, _ = fakes
    openai_fake.reply = lambda messages, model: "A red fox in the snow"
    try:
        comparisons = services.comparisons
        assert comparisons.english_prompt("눈 속의 여우", (GPT,)) is None  # no Karlo lane
        assert comparisons.english_prompt("A fox", (GPT, KARLO)) == "A fox"  # no call
        assert comparisons.english_prompt("눈 속의 여우", (KARLO,), "A snow fox") == "A snow fox"
        spec = comparisons.with_english(ComparisonSpec("눈 속의 여우", (GPT, KARLO)))
        assert spec.english_prompt == "A red fox in the snow"
    finally:
        from tests.fakes.openai_server import default_reply

        openai_fake.reply = default_reply


def test_a_lane_refused_by_our_own_check_is_not_a_provider_error(services):
    from services.i18n import Translator
    from services.wording import image_error_text

    result = services.comparisons.run(ComparisonSpec("눈 속의 여우", (KARLO,)))
    (lane,) = result.run.lanes
    assert lane.error_kind == "not_english"
    stored = ChatCanvasError(ErrorKind.parse(lane.error_kind), provider=lane.provider)
    assert stored.own_check
    for lang in ("en", "ko"):
        sentence = image_error_text(stored, Translator(lang))
        assert "Karlo" in sentence and sentence != Translator(lang)("errors.bad_request")
