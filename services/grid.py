"""Prompt-by-engine grids: rows are prompt variants (typed, or taken from a studio run: the
idea, a step's output, the final prompt), columns are comparison lanes. Each row is stored
as an ordinary comparison run (``services.storage.grids``), so its cells, images and vote
are what the Compare page keeps; a cell is one lane of that run.

:class:`GridService` estimates a grid's cost before it runs (the budget's own estimates,
unknown prices at the catalog's highest), checks the shared deployment's limits before any
paid call, pins one seed per column where the engine takes seeds (every row of a column gets
the same), runs the cells with bounded concurrency, waits as told on a 429 before trying a
cell again, and keeps each cell as it ends. The web page and the terminal app only draw.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from services.budget import Budget, MeteredProvider
from services.comparison import ComparisonService, ComparisonSpec, LaneSpec, build_request
from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageProvider, ImageRequest, LaneOutcome, run_lanes
from services.storage.grids import GridStore, GridSummary, StoredGrid
from services.storage.lane_keeper import LaneKeeper, UnsavedLane
from services.studio.state import ChainRun, StepStatus
from services.votes import VoteOutcome

MAX_RATE_LIMIT_RETRIES = 3  # a cell told to wait is tried again at most this often
MAX_WAIT_SECONDS = 60.0  # a longer Retry-After ends the cell with the 429's message
BACKOFF_SECONDS = 2.0  # a 429 without Retry-After: 2 s, 4 s, 8 s
SEED_RANGE = 2**31  # what every seeded engine takes (Karlo: up to 2**32 - 1)


class RowSource(StrEnum):
    """Where a row's prompt came from."""

    TYPED = "typed"
    IDEA = "idea"  # a studio run's idea
    STEP = "step"  # an intermediate step's output
    FINAL = "final"  # a studio run's final prompt


@dataclass(frozen=True)
class GridRowSpec:
    """One prompt variant. ``english_prompt``: what English-only engines (Karlo) send instead;
    ``step``: the step's index for a STEP row, ``label``: its step name."""

    prompt: str
    source: RowSource = RowSource.TYPED
    label: str = ""
    negative_prompt: str = ""
    english_prompt: str | None = None
    studio_run_id: str | None = None
    step: int | None = None

    def comparison(self, lanes: tuple[LaneSpec, ...]) -> ComparisonSpec:
        """This row as the comparison run it is stored as."""
        return ComparisonSpec(
            self.prompt,
            lanes,
            negative_prompt=self.negative_prompt,
            english_prompt=self.english_prompt,
            studio_run_id=self.studio_run_id,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> GridRowSpec:
        """A row as :meth:`to_json` wrote it (a stored grid's, or the page's working copy)."""
        step = data.get("step")
        english = data.get("english_prompt")
        studio = data.get("studio_run_id")
        return cls(
            str(data.get("prompt") or ""),
            RowSource(str(data.get("source") or RowSource.TYPED)),
            str(data.get("label") or ""),
            str(data.get("negative_prompt") or ""),
            str(english) if english else None,
            str(studio) if studio else None,
            int(step) if isinstance(step, int) else None,
        )

    def to_json(self) -> dict:
        return {
            "prompt": self.prompt,
            "source": str(self.source),
            "label": self.label,
            "negative_prompt": self.negative_prompt,
            "english_prompt": self.english_prompt,
            "studio_run_id": self.studio_run_id,
            "step": self.step,
        }


@dataclass(frozen=True)
class GridSpec:
    """A whole grid. ``concurrency``: cells running at once (None: the setting)."""

    rows: tuple[GridRowSpec, ...]
    lanes: tuple[LaneSpec, ...]
    concurrency: int | None = None
    studio_run_id: str | None = None


@dataclass(frozen=True)
class GridEstimate:
    """What a grid may cost before it runs: per cell (row, column) and in total. ``unpriced``:
    some model's price is unknown and was counted at the catalog's highest."""

    cells: Mapping[tuple[int, int], float]
    usd: float
    unpriced: bool
    threshold: float

    @property
    def needs_confirmation(self) -> bool:
        """Above the threshold (GRID_CONFIRM_USD): the person confirms before it runs."""
        return self.usd > self.threshold


@dataclass(frozen=True)
class GridResult:
    """The stored grid, and the cells the database refused (images held for download)."""

    grid: StoredGrid
    unsaved: Mapping[tuple[int, int], UnsavedLane] = field(
        default_factory=lambda: MappingProxyType({})
    )


def lane_json(lane: LaneSpec) -> dict:
    """A lane spec as the grid's ``lanes`` JSON keeps it (a column's engine and params)."""
    return {
        "provider": lane.provider,
        "model": lane.model,
        "size": lane.size,
        "width": lane.width,
        "height": lane.height,
        "count": lane.count,
        "seeds": list(lane.seeds) if lane.seeds is not None else None,
        "quality": lane.quality,
        "output_format": lane.output_format,
        "extras": dict(lane.extras),
    }


def typed_rows(text: str, negative_prompt: str = "") -> list[GridRowSpec]:
    """One typed row per non-empty line of ``text``, each with ``negative_prompt``."""
    lines = (line.strip() for line in text.splitlines())
    return [GridRowSpec(line, negative_prompt=negative_prompt.strip()) for line in lines if line]


def studio_variants(run: ChainRun) -> list[GridRowSpec]:
    """The prompts a studio run offers as rows: its idea, each finished step's output, and
    its final prompt (with its negative prompt), each naming the run."""
    rows = [GridRowSpec(run.idea, RowSource.IDEA, studio_run_id=run.id)]
    for i, (step, result) in enumerate(zip(run.template.steps, run.steps, strict=True)):
        if result.status == StepStatus.DONE and result.output.strip():
            rows.append(
                GridRowSpec(
                    result.output.strip(),
                    RowSource.STEP,
                    label=step.name,
                    studio_run_id=run.id,
                    step=i,
                )
            )
    if run.final.prompt:
        negative = run.final.negative_prompt or ""
        rows.append(GridRowSpec(run.final.prompt, RowSource.FINAL, "", negative, None, run.id))
    return rows


def moderation_parts(spec: GridSpec) -> tuple[ComparisonSpec, tuple[str, ...]]:
    """What the safety check before paying classifies for a grid (``ComparisonService.check``):
    its first row as a comparison, and ``also`` every other row's prompt and English prompt."""
    first, *rest = spec.rows
    also = tuple(text for row in rest for text in (row.prompt, row.english_prompt or "") if text)
    return first.comparison(spec.lanes), also


class GridService:
    """Runs grids for one owner: their grid store, the comparison service's providers and
    budget. ``sleep`` and ``rng`` are the waits on 429s and the seed picker (tests pass
    their own)."""

    def __init__(
        self,
        grids: GridStore,
        comparisons: ComparisonService,
        *,
        concurrency: int = 2,
        confirm_usd: float = 0.50,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.grids = grids
        self.comparisons = comparisons
        self.concurrency = max(1, concurrency)
        self.confirm_usd = confirm_usd
        self.sleep = sleep
        self.rng = rng or random.Random()

    @property
    def budget(self) -> Budget:
        return self.comparisons.budget

    # -- before running --------------------------------------------------------------------
    def _providers(self, spec: GridSpec) -> list[ImageProvider]:
        return [self.comparisons.provider(lane.provider) for lane in spec.lanes]

    def requests(self, spec: GridSpec) -> list[list[ImageRequest]]:
        """Each cell's request, row by row: the row's prompt, only what the column's model takes."""
        providers = self._providers(spec)
        caps = [p.capabilities(lane.model) for p, lane in zip(providers, spec.lanes, strict=True)]
        return [
            [
                build_request(row.comparison(spec.lanes), lane, c)
                for lane, c in zip(spec.lanes, caps, strict=True)
            ]
            for row in spec.rows
        ]

    def estimate(self, spec: GridSpec) -> GridEstimate:
        """The most the grid may cost, cell by cell (nothing is sent)."""
        cells: dict[tuple[int, int], float] = {}
        unpriced = False
        for r, row in enumerate(self.requests(spec)):
            for c, (lane, request) in enumerate(zip(spec.lanes, row, strict=True)):
                found = self.budget.image_estimate(lane.provider, request)
                cells[(r, c)] = found.usd
                unpriced = unpriced or found.unpriced
        return GridEstimate(
            MappingProxyType(cells), sum(cells.values()), unpriced, self.confirm_usd
        )

    def check(self, spec: GridSpec, requests: Sequence[Sequence[ImageRequest]]) -> None:
        """The shared deployment's limits: each row within the per-run caps (lanes, images
        per lane), every cell together within the Karlo monthly cap and today's budget.
        Raises LimitExceeded; nothing is stored or sent."""
        names = [lane.provider for lane in spec.lanes]
        for row in requests:
            self.budget.check_run_caps(list(zip(names, row, strict=True)))
        cells = [(n, r) for row in requests for n, r in zip(names, row, strict=True)]
        self.budget.check_totals(cells)

    def pinned(self, spec: GridSpec) -> GridSpec:
        """``spec`` with a seed chosen for each column whose engine takes seeds and has none
        set: every row of that column then sends the same seed."""
        providers = self._providers(spec)

        def seeded(lane: LaneSpec, provider: ImageProvider) -> LaneSpec:
            if lane.seeds or not provider.capabilities(lane.model).seeds:
                return lane
            return replace(lane, seeds=(self.rng.randrange(SEED_RANGE),))

        return replace(spec, lanes=tuple(map(seeded, spec.lanes, providers)))

    def with_english(self, spec: GridSpec, *, model: str | None = None) -> GridSpec:
        """Each row with what its English-only columns send (translated when needed: one
        paid chat call per such row). Raises ChatCanvasError when a translation fails."""
        english = self.comparisons.english_prompt

        def row_english(row: GridRowSpec) -> GridRowSpec:
            found = english(row.prompt, spec.lanes, row.english_prompt, model=model)
            return replace(row, english_prompt=found)

        return replace(spec, rows=tuple(map(row_english, spec.rows)))

    # -- running ---------------------------------------------------------------------------
    def run(
        self,
        spec: GridSpec,
        *,
        on_started: Callable[[str], None] | None = None,
        on_cell: Callable[[int, int, LaneOutcome], None] | None = None,
    ) -> GridResult:
        """Run every cell, at most ``concurrency`` at once. Raises LimitExceeded (nothing
        stored, nothing sent) or ValueError for a grid without rows or columns. Then
        ``on_started(grid_id)`` is told the stored grid's id before any cell starts, and
        ``on_cell(row, column, outcome)`` each cell's result or error as it ends, in the
        caller's thread; each cell is stored from its worker thread before that."""
        if not spec.rows or not spec.lanes:
            raise ValueError("a grid needs at least one row and one column")
        spec = self.pinned(spec)
        requests = self.requests(spec)
        self.check(spec, requests)
        providers = [MeteredProvider(p, self.budget) for p in self._providers(spec)]
        concurrency = max(1, spec.concurrency or self.concurrency)
        grid_id = self.grids.create(
            [row.to_json() for row in spec.rows],
            [lane_json(lane) for lane in spec.lanes],
            concurrency=concurrency,
            studio_run_id=spec.studio_run_id,
        )
        if on_started is not None:
            on_started(grid_id)
        keepers = [
            LaneKeeper(self.grids.images, self._start_row(grid_id, r, row), requests[r])
            for r, row in enumerate(spec.rows)
        ]
        with ThreadPoolExecutor(concurrency, thread_name_prefix="grid-cell") as pool:
            cells = {
                pool.submit(self._cell, providers[c], requests[r][c], keepers[r], c): (r, c)
                for r in range(len(spec.rows))
                for c in range(len(spec.lanes))
            }
            for future in as_completed(cells):
                if on_cell is not None:
                    on_cell(*cells[future], future.result())  # _cell never raises
        grid = self.grids.get(grid_id)
        assert grid is not None
        unsaved = {(r, c): lane for r, k in enumerate(keepers) for c, lane in k.unsaved.items()}
        return GridResult(grid, MappingProxyType(unsaved))

    def _start_row(self, grid_id: str, index: int, row: GridRowSpec) -> str:
        return self.grids.start_row(
            grid_id,
            index,
            row.prompt,
            negative_prompt=row.negative_prompt,
            studio_run_id=row.studio_run_id,
        )

    def _cell(
        self,
        provider: ImageProvider,
        request: ImageRequest,
        keep: Callable[[int, LaneOutcome], None],
        column: int,
    ) -> LaneOutcome:
        """One cell: sent, tried again after the wait a 429 asks for, then stored."""
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            outcome = run_lanes([(provider, request)])[0]
            wait = rate_limit_wait(outcome, attempt)
            if wait is None:
                break
            self.sleep(wait)
        keep(column, outcome)
        return outcome

    # -- reading and voting ----------------------------------------------------------------
    def get(self, grid_id: str) -> StoredGrid | None:
        """A stored grid with each row's run, or None (also another owner's)."""
        return self.grids.get(grid_id)

    def recent(self, limit: int = 20) -> list[GridSummary]:
        return self.grids.recent(limit)

    def vote(self, grid_id: str, row: int, outcome: VoteOutcome | None) -> StoredGrid:
        """Record (None: clear) row ``row``'s vote: it is that row's comparison vote, so the
        leaderboard counts it. KeyError for an unknown grid or row (another owner's too)."""
        grid = self.grids.get(grid_id)
        run = grid.run(row) if grid is not None else None
        if grid is None or run is None:
            raise KeyError(grid_id)
        self.grids.images.record_vote(run.id, outcome)
        found = self.grids.get(grid_id)
        assert found is not None
        return found


def rate_limit_wait(outcome: LaneOutcome, attempt: int) -> float | None:
    """Seconds to wait before trying a cell again, or None: not a 429, tried often enough,
    or told to wait longer than a grid should (the 429 is then the cell's error)."""
    if not isinstance(outcome, ChatCanvasError) or outcome.kind is not ErrorKind.RATE_LIMIT:
        return None
    if attempt >= MAX_RATE_LIMIT_RETRIES:
        return None
    told = outcome.retry_after
    wait = told if told is not None else BACKOFF_SECONDS * 2**attempt
    return wait if wait <= MAX_WAIT_SECONDS else None
