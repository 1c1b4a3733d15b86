"""The prompt-by-engine grid against the fake OpenAI images and Karlo servers: cells run at
most ``concurrency`` at once (counted at the fake), a 429 is waited out as told, seeds are
pinned per column, the estimate comes before anything is sent, the shared deployment's limits
hold for the grid as a whole, rows are comparison runs with their own votes, studio runs give
rows, and another owner's grid answers like a missing one."""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest

from services.app_services import build_services
from services.budget import LimitExceeded, LimitKind
from services.comparison import LaneSpec
from services.errors import ChatCanvasError, ErrorKind
from services.grid import (
    GridRowSpec,
    GridService,
    GridSpec,
    RowSource,
    rate_limit_wait,
    studio_variants,
)
from services.images import ImageResult
from services.settings import Limits, Mode, Secret, Settings
from services.studio import BUILTIN_CHAINS, ChainEngine
from services.votes import TIE, VoteOutcome
from tests.conftest import OWNER
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY

GPT = LaneSpec("openai", "gpt-image-2", quality="low")
KARLO = LaneSpec("karlo", "karlo-v2.1")
ROWS = (GridRowSpec("a red fox"), GridRowSpec("a blue fox"))


class CountingHandler:
    """The fake's image handler, counting requests in flight. Each request waits (up to 5 s)
    until ``together`` are in flight or no more will come, so a bound that is not honoured
    shows as more requests at once, whatever the machine's speed."""

    def __init__(self, inner, total: int, together: int = 2) -> None:
        self.inner = inner
        self.total = total
        self.together = together
        self.arrived = 0
        self.now = 0
        self.most = 0
        self.lock = threading.Condition()

    def __call__(self, fake, body):
        with self.lock:
            self.arrived += 1
            self.now += 1
            self.most = max(self.most, self.now)
            self.lock.notify_all()
            self.lock.wait_for(
                lambda: self.now >= self.together or self.arrived >= self.total, timeout=5
            )
        try:
            return self.inner(fake, body)
        finally:
            with self.lock:
                self.now -= 1


@pytest.fixture
def fakes(image_servers):
    images, openai_fake, karlo_fake = image_servers
    images.calls.clear()
    images.set_fault(None)
    openai_fake.clear_faults()
    openai_fake.requests.clear()
    openai_fake.image_handler = images
    karlo_fake.calls.clear()
    karlo_fake.set_fault(None)
    return image_servers


def make_settings(fakes, tmp_path, **changes) -> Settings:
    _, openai_fake, karlo_fake = fakes
    base = Settings(
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=openai_fake.base_url,
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
        karlo_base_url=karlo_fake.base_url,
        database_url=f"sqlite:///{tmp_path}/g.db",
    )
    return replace(base, **changes)


@pytest.fixture
def services(fakes, tmp_path, catalog):
    return build_services(make_settings(fakes, tmp_path), OWNER, catalog=catalog)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def grids(services, sleeps) -> GridService:
    """The owner's grid service, its waits recorded instead of slept, its seeds repeatable."""
    return replace_waits(services.grids, sleeps)


def replace_waits(service: GridService, sleeps: list[float]) -> GridService:
    service.sleep = sleeps.append
    service.rng = random.Random(7)
    return service


def image_requests(openai_fake) -> list:
    return [r for r in openai_fake.requests if r.path.endswith("/images/generations")]


# -- running ----------------------------------------------------------------------------------


def test_a_grid_runs_every_cell_and_stores_each_row_as_a_comparison(grids, services, fakes):
    seen: list[tuple[int, int]] = []
    started: list[str] = []
    result = grids.run(
        GridSpec(ROWS, (GPT, KARLO)),
        on_started=started.append,
        on_cell=lambda r, c, outcome: seen.append((r, c)),
    )
    grid = result.grid
    assert started == [grid.id] and sorted(seen) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [row["prompt"] for row in grid.rows] == ["a red fox", "a blue fox"]
    assert [lane["provider"] for lane in grid.lanes] == ["openai", "karlo"]
    for r, run in enumerate(grid.runs):
        assert run is not None and run.prompt == ROWS[r].prompt
        assert [(lane.provider, lane.ok) for lane in run.lanes] == [
            ("openai", True),
            ("karlo", True),
        ]
        assert all(lane.latency_ms is not None for lane in run.lanes)  # per-cell latency
        assert run.lanes[0].cost_usd is not None  # per-cell cost
    assert services.images.count() == 4
    assert services.grids.get(grid.id) == grid  # reopened from its id


def test_cells_run_at_most_concurrency_at_once(grids, fakes):
    images, openai_fake, _ = fakes
    counting = CountingHandler(images, total=6)
    openai_fake.image_handler = counting
    rows = tuple(GridRowSpec(f"fox number {n}") for n in range(3))
    result = grids.run(GridSpec(rows, (GPT, replace(GPT, quality="medium")), concurrency=2))
    assert counting.arrived == 6 and counting.most == 2
    assert all(lane.ok for run in result.grid.runs for lane in run.lanes)
    assert result.grid.concurrency == 2


def test_the_setting_bounds_the_cells_when_the_grid_names_no_bound(fakes, tmp_path, catalog):
    images, openai_fake, _ = fakes
    settings = make_settings(fakes, tmp_path, grid_concurrency=1)
    service = replace_waits(build_services(settings, OWNER, catalog=catalog).grids, [])
    counting = CountingHandler(images, total=3, together=1)
    openai_fake.image_handler = counting
    rows = tuple(GridRowSpec(f"fox {n}") for n in range(3))
    service.run(GridSpec(rows, (GPT,)))
    assert counting.arrived == 3 and counting.most == 1


def test_a_429_is_waited_out_as_told_then_the_cell_is_tried_again(grids, fakes, sleeps):
    _, openai_fake, _ = fakes
    openai_fake.set_fault("rate_limit", endpoint="images", times=1)  # Retry-After: 1
    result = grids.run(GridSpec((GridRowSpec("a red fox"),), (GPT,)))
    assert sleeps == [1.0]
    assert len(image_requests(openai_fake)) == 2
    assert result.grid.runs[0].lanes[0].ok


def test_a_429_that_keeps_coming_ends_as_the_cells_error(grids, fakes, sleeps):
    _, openai_fake, _ = fakes
    openai_fake.set_fault("rate_limit", endpoint="images")
    result = grids.run(GridSpec((GridRowSpec("a red fox"),), (GPT,)))
    assert sleeps == [1.0, 1.0, 1.0]
    lane = result.grid.runs[0].lanes[0]
    assert lane.error_kind == str(ErrorKind.RATE_LIMIT) and not lane.ok


def test_the_wait_a_429_asks_for():
    told = ChatCanvasError(ErrorKind.RATE_LIMIT, "slow down", retry_after=3.0)
    unsaid = ChatCanvasError(ErrorKind.RATE_LIMIT, "slow down")
    assert rate_limit_wait(told, 0) == 3.0
    assert [rate_limit_wait(unsaid, n) for n in range(4)] == [2.0, 4.0, 8.0, None]
    too_long = ChatCanvasError(ErrorKind.RATE_LIMIT, "tomorrow", retry_after=3600)
    assert rate_limit_wait(too_long, 0) is None
    assert rate_limit_wait(ChatCanvasError(ErrorKind.BAD_REQUEST, "no"), 0) is None
    assert rate_limit_wait(ImageResult("openai", "m", (), {}), 0) is None


def test_one_seed_per_column_the_same_in_every_row(grids, fakes):
    _, _, karlo_fake = fakes
    result = grids.run(GridSpec(ROWS, (GPT, KARLO, replace(KARLO, seeds=(42,)))))
    bodies = [call.body for call in karlo_fake.t2i_calls()]
    pinned = {body["seed"][0] for body in bodies if body["seed"] != [42]}
    assert len(pinned) == 1  # one seed for the Karlo column, both rows
    assert sum(body["seed"] == [42] for body in bodies) == 2  # a chosen seed is kept
    runs = result.grid.runs
    assert runs[0].lanes[1].seeds == runs[1].lanes[1].seeds == (pinned.pop(),)
    assert result.grid.lanes[0]["seeds"] is None  # GPT Image takes no seed


def test_a_cell_the_database_refuses_is_handed_back(services, sleeps):
    from sqlalchemy.exc import OperationalError

    from services.storage.grids import GridStore
    from services.storage.images import ImageStore

    class RefusingStore(ImageStore):
        def save_lane(self, run_id, index, request, outcome) -> None:
            if index == 1:
                raise OperationalError("INSERT", {}, Exception("disk I/O error"))
            super().save_lane(run_id, index, request, outcome)

    db = services.images.db
    grids = GridStore(db, OWNER, RefusingStore(db, OWNER))
    service = replace_waits(GridService(grids, services.comparisons), sleeps)
    result = service.run(GridSpec(ROWS, (GPT, KARLO)))
    assert sorted(result.unsaved) == [(0, 1), (1, 1)]
    assert all(isinstance(lane.outcome, ImageResult) for lane in result.unsaved.values())
    assert [[lane.index for lane in run.lanes] for run in result.grid.runs] == [[0], [0]]


# -- before running ---------------------------------------------------------------------------


def test_the_estimate_is_the_budgets_per_cell_and_asks_above_the_threshold(grids, services):
    spec = GridSpec(ROWS, (GPT, KARLO))
    estimate = grids.estimate(spec)
    one = services.budget.image_estimate("openai", grids.requests(spec)[0][0]).usd
    assert estimate.cells[(0, 1)] == estimate.cells[(1, 1)] == 0.0  # Karlo: free quota
    assert estimate.cells[(0, 0)] == pytest.approx(one) and one > 0
    assert estimate.usd == pytest.approx(sum(estimate.cells.values()))
    assert not estimate.unpriced
    assert estimate.threshold == 0.50 and not estimate.needs_confirmation
    big = GridSpec(ROWS, (replace(GPT, quality="high", count=4),))
    assert grids.estimate(big).needs_confirmation


def test_a_model_without_a_price_is_counted_at_the_highest(grids, services, catalog):
    unknown = LaneSpec("openai", "gpt-image-unpriced", quality="low")
    estimate = grids.estimate(GridSpec(ROWS[:1], (unknown,)))
    assert estimate.unpriced and estimate.usd > 0


def shared(fakes, tmp_path, catalog, limits: Limits):
    settings = make_settings(
        fakes,
        tmp_path,
        mode=Mode.SHARED,
        limits=limits,
        sources={"OPENAI_API_KEY": "secrets", "KAKAO_REST_API_KEY": "secrets"},
    )
    return build_services(settings, OWNER, catalog=catalog)


@pytest.mark.parametrize(
    ("limits", "kind"),
    [
        (Limits(max_lanes=1), LimitKind.LANES),
        (Limits(max_images_per_lane=1), LimitKind.IMAGES_PER_LANE),
        (Limits(karlo_monthly_images=3), LimitKind.KARLO_MONTHLY),
        (Limits(daily_budget_usd=0.015), LimitKind.DAILY_BUDGET),
    ],
)
def test_the_shared_limits_hold_before_any_cell_is_sent(fakes, tmp_path, catalog, limits, kind):
    images, _, karlo_fake = fakes
    services = shared(fakes, tmp_path, catalog, limits)
    one = services.budget.image_estimate(
        "openai", services.grids.requests(GridSpec(ROWS[:1], (GPT,)))[0][0]
    ).usd
    assert one < 0.015 < 4 * one  # each row fits the budget, the grid does not
    karlo_two = replace(KARLO, count=2)
    rows = (*ROWS, GridRowSpec("a green fox"), GridRowSpec("a pink fox"))
    lanes = (GPT, karlo_two) if kind is not LimitKind.DAILY_BUDGET else (GPT,)
    lanes = (GPT, KARLO, KARLO) if kind is LimitKind.KARLO_MONTHLY else lanes
    spec = GridSpec(rows[:2] if kind is LimitKind.KARLO_MONTHLY else rows, lanes)
    started: list[str] = []
    with pytest.raises(LimitExceeded) as refused:
        services.grids.run(spec, on_started=started.append)
    assert refused.value.limit is kind
    assert started == [] and images.calls == [] and karlo_fake.calls == []
    assert services.grids.recent() == []


# -- votes, studio rows, owners ---------------------------------------------------------------


def test_each_row_has_its_own_vote(grids, services):
    grid = grids.run(GridSpec(ROWS, (GPT, KARLO))).grid
    voted = grids.vote(grid.id, 1, VoteOutcome.winner(1))
    assert voted.runs[0].outcome is None and voted.runs[1].outcome == VoteOutcome.winner(1)
    grids.vote(grid.id, 0, TIE)
    assert [run.outcome for run in grids.get(grid.id).runs] == [TIE, VoteOutcome.winner(1)]
    assert len(services.images.votes()) == 2  # the leaderboard counts grid rows
    with pytest.raises(KeyError):
        grids.vote(grid.id, 5, TIE)


def test_a_studio_run_gives_its_idea_steps_and_final_prompt_as_rows(fakes, catalog):
    from services.chat import ChatService
    from tests.fakes.openai_server import FakeOpenAI
    from tests.fakes.tutorial_model import IDEA, KARLO_PROMPT, scripted

    with FakeOpenAI(reply=scripted) as server:
        settings = Settings(openai_api_key=Secret(FAKE_KEY), openai_base_url=server.base_url)
        engine = ChainEngine(ChatService(settings, catalog, max_retries=0))
        run = engine.new_run(IDEA, BUILTIN_CHAINS["karlo"])
        for step in engine.run(run):
            step.drain()
    rows = studio_variants(run)
    assert rows[0] == GridRowSpec(IDEA, RowSource.IDEA, studio_run_id=run.id)
    steps = [row for row in rows if row.source is RowSource.STEP]
    assert len(steps) == len(run.steps) and [row.step for row in steps] == list(range(len(steps)))
    assert steps[0].label == run.template.steps[0].name
    assert rows[-1].source is RowSource.FINAL and rows[-1].prompt == KARLO_PROMPT
    assert rows[-1].negative_prompt == "blurry, text, watermark"


def test_another_owners_grid_answers_like_a_missing_one(fakes, tmp_path, catalog, grids):
    grid = grids.run(GridSpec(ROWS, (GPT,))).grid
    other = build_services(make_settings(fakes, tmp_path), "owner-b", catalog=catalog)
    assert other.grids.get(grid.id) is None and other.grids.get("no-such-grid") is None
    assert other.grids.recent() == []
    for missing in (grid.id, "no-such-grid"):
        with pytest.raises(KeyError):
            other.grids.vote(missing, 0, TIE)
        with pytest.raises(KeyError):
            other.grids.grids.start_row(missing, 2, "stolen row")
    assert grids.get(grid.id) == grid  # untouched
    assert [g.id for g in grids.recent()] == [grid.id]


def test_the_grid_settings_are_the_deployers():
    from services.settings import resolve_settings

    found = resolve_settings(environ={"GRID_CONCURRENCY": "3", "GRID_CONFIRM_USD": "2.5"})
    assert (found.grid_concurrency, found.grid_confirm_usd) == (3, 2.5)
    fallback = resolve_settings(
        sidebar={"GRID_CONCURRENCY": "50"}, environ={"GRID_CONFIRM_USD": "lots"}
    )
    assert (fallback.grid_concurrency, fallback.grid_confirm_usd) == (2, 0.50)
