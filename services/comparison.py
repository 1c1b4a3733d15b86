"""Comparisons: one prompt, several image lanes at once, each lane stored as it ends.

A comparison is described by a :class:`ComparisonSpec` (what to send, lane by lane) and run
by :class:`ComparisonService`: it builds each lane's request from the provider's
capabilities, checks the spending limits for the whole run before anything is stored or
sent, starts the stored run, runs the lanes concurrently, keeps each lane as it finishes and
reports progress through callbacks. The web page and the terminal app only draw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from services.budget import Budget
from services.catalog import Catalog
from services.chat import ChatService
from services.errors import ChatCanvasError, ErrorKind
from services.images import (
    PROVIDERS,
    ImageCapabilities,
    ImageProvider,
    ImageRequest,
    lane_watch,
    local_models,
    run_lanes,
)
from services.images.base import ImageResult, LaneOutcome
from services.images.karlo import karlo_prompt_problems
from services.images.lane_watch import LaneProgress, LaneWatch
from services.images.registry import default_lane_providers, english_only
from services.images.translate import make_karlo_ready
from services.moderation import ModerationService, ModerationVerdict
from services.storage.image_tables import StoredLane
from services.storage.images import CompareRun, ImageStore
from services.storage.lane_keeper import LaneKeeper, UnsavedLane


@dataclass(frozen=True)
class LaneSpec:
    """One lane: a provider, a model and the parameters to send (None: the provider's
    default). ``seeds``: one per image (a single seed with ``count > 1`` is expanded by
    providers that take seeds); parameters the model does not take are left out."""

    provider: str
    model: str
    size: str | None = None  # "WIDTHxHEIGHT" or a provider keyword such as "auto"
    width: int | None = None  # a custom size: width and height win over ``size``
    height: int | None = None
    count: int = 1
    seeds: tuple[int, ...] | None = None
    quality: str | None = None
    output_format: str | None = None
    extras: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def with_seeds(self, seeds: Iterable[int]) -> LaneSpec:
        """The same lane making one image per seed (a same-seed re-run)."""
        kept = tuple(seeds)
        return replace(self, seeds=kept, count=len(kept)) if kept else self


@dataclass(frozen=True)
class ComparisonSpec:
    """A whole comparison. ``english_prompt`` is what English-only engines (Karlo) send
    instead of ``prompt``, when given."""

    prompt: str
    lanes: tuple[LaneSpec, ...]
    negative_prompt: str = ""
    english_prompt: str | None = None
    blind: bool = False
    studio_run_id: str | None = None
    # where the prompt came from, kept in each stored lane's and image's params (no column:
    # e.g. services/revised_prompt.py's "prompt_from")
    lineage: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def prompt_for(self, provider: str) -> str:
        return (
            self.english_prompt if english_only(provider) and self.english_prompt else self.prompt
        )


@dataclass(frozen=True)
class ComparisonResult:
    """The stored run, and the lanes the database refused (images held for download)."""

    run: CompareRun
    unsaved: Mapping[int, UnsavedLane]


def lane_spec(text: str, model: str | None = None, *, catalog: Catalog | None = None) -> LaneSpec:
    """A lane with the provider's defaults from ``"provider"`` or ``"provider:model"``
    (e.g. ``"karlo"``, ``"openai:gpt-image-2"``); ``model`` wins over one in ``text``.
    Raises ValueError for a provider that is not registered."""
    name, _, named_model = text.strip().partition(":")
    entry = PROVIDERS.get(name.strip().lower())
    if entry is None:
        raise ValueError(f"unknown image provider {name!r} (known: {', '.join(PROVIDERS)})")
    chosen = model or named_model.strip() or entry.default_model_for(catalog)
    return LaneSpec(provider=entry.name, model=chosen)


def same_seed_lanes(lanes: Iterable[LaneSpec], run: CompareRun) -> tuple[LaneSpec, ...]:
    """``lanes`` again with the seeds each image of ``run``'s lane of the same index used.
    Seeds only replay on the same engine: a lane whose stored lane had no seeds, or was
    another provider or model (the editors changed since), is left as it is."""
    stored = {lane.index: lane for lane in run.lanes}

    def replayed(i: int, lane: LaneSpec) -> LaneSpec:
        old = stored.get(i)
        same = old is not None and (old.provider, old.model) == (lane.provider, lane.model)
        return lane.with_seeds(old.seeds) if same else lane

    return tuple(replayed(i, lane) for i, lane in enumerate(lanes))


def build_request(spec: ComparisonSpec, lane: LaneSpec, caps: ImageCapabilities) -> ImageRequest:
    """The request ``lane`` sends: the prompt for its provider, and only what its model takes."""
    names = (*caps.extras, *caps.ranges)
    return ImageRequest(
        prompt=spec.prompt_for(lane.provider),
        model=lane.model,
        negative_prompt=spec.negative_prompt if caps.negative_prompt else "",
        size=lane.size,
        width=lane.width,
        height=lane.height,
        count=lane.count,
        seeds=tuple(lane.seeds or ()) if caps.seeds else (),
        quality=lane.quality,
        output_format=lane.output_format,
        extras={k: v for k, v in lane.extras.items() if k in names and v is not None},
    )


def moderation_inputs(spec: ComparisonSpec, also: Sequence[str] = ()) -> tuple[str, ...]:
    """The texts a comparison's safety check classifies: the prompt, the English prompt its
    English-only lanes send, and ``also`` (a studio run's idea), each once, in that order."""
    english = (
        spec.english_prompt if any(english_only(lane.provider) for lane in spec.lanes) else None
    )
    texts = (spec.prompt, english or "", *also)
    return tuple(dict.fromkeys(t.strip() for t in texts if t and t.strip()))


def _noting(
    keep: Callable[[int, LaneOutcome], None], lineage: Mapping[str, object]
) -> Callable[[int, LaneOutcome], None]:
    """``keep`` storing each lane's result with ``lineage`` added to its params."""

    def kept(index: int, outcome: LaneOutcome) -> None:
        if isinstance(outcome, ImageResult):
            outcome = replace(outcome, params={**outcome.params, **lineage})
        keep(index, outcome)

    return kept


class ComparisonService:
    """Runs comparisons for one owner: their image store, their budget, this run's keys."""

    def __init__(
        self,
        store: ImageStore,
        budget: Budget,
        provider: Callable[[str], ImageProvider],
        catalog: Catalog | None = None,
        chat: ChatService | None = None,
        moderation: ModerationService | None = None,
    ) -> None:
        self.store = store
        self.budget = budget
        self.provider = provider
        self.catalog = catalog
        self.chat = chat  # translates prompts for the English-only engines
        self.moderation = moderation  # the safety check before paying

    def check(self, spec: ComparisonSpec, *, also: Sequence[str] = ()) -> ModerationVerdict:
        """The safety check a caller runs before :meth:`run` when it is switched on: the
        moderation model's verdict on :func:`moderation_inputs` (free; nothing is stored or
        sent to an image provider). Raises ChatCanvasError when the check cannot be made:
        the caller says so and lets the person retry or proceed."""
        if self.moderation is None:
            raise ChatCanvasError(ErrorKind.NO_KEY, "no moderation service")
        return self.moderation.check_texts(moderation_inputs(spec, also))

    def lane(self, text: str, model: str | None = None) -> LaneSpec:
        """:func:`lane_spec` with this run's catalog (the default OpenAI image model)."""
        return lane_spec(text, model, catalog=self.catalog)

    def default_lanes(self) -> tuple[LaneSpec, ...]:
        """One lane per default provider with its defaults: GPT Image against Karlo."""
        return tuple(self.lane(name) for name in default_lane_providers())

    def english_prompt(
        self,
        prompt: str,
        lanes: Iterable[LaneSpec],
        given: str | None = None,
        *,
        model: str | None = None,
    ) -> str | None:
        """What the English-only lanes (Karlo) will send: None without such a lane; the
        user's own English (``given``) or else ``prompt`` when the engine takes it as it is;
        otherwise (with a chat service) that text translated and shortened by the chat ``model`` (the catalog's
        default chat model unless named; one paid call). Raises ChatCanvasError when the
        translation fails (no key, a reply that is not English...)."""
        if not any(english_only(lane.provider) for lane in lanes):
            return None
        text = (given or "").strip() or prompt.strip()
        if not karlo_prompt_problems(text) or self.chat is None:
            return text  # without a chat service the lane's own check says what it takes
        chosen = model or (self.catalog.default_chat_model if self.catalog else "")
        return make_karlo_ready(self.chat, chosen, text)

    def with_english(self, spec: ComparisonSpec, *, model: str | None = None) -> ComparisonSpec:
        """``spec`` with the English prompt its English-only lanes send filled in
        (:meth:`english_prompt`; translated when needed)."""
        english = self.english_prompt(spec.prompt, spec.lanes, spec.english_prompt, model=model)
        return replace(spec, english_prompt=english)

    def run(
        self,
        spec: ComparisonSpec,
        *,
        on_started: Callable[[str], None] | None = None,
        on_lane: Callable[[int, LaneOutcome], None] | None = None,
        on_progress: Callable[[int, LaneProgress], None] | None = None,
    ) -> ComparisonResult:
        """Run every lane at once; the wall time is the slowest lane's. Raises LimitExceeded
        (nothing stored, nothing sent) when the run would pass a spending limit. Then
        ``on_started(run_id)`` is told the stored run's id before any lane starts (a caller
        interrupted mid-run can still show what was made), and ``on_lane(index, outcome)``
        each lane's result or error as it ends, in the caller's thread. Each lane is stored
        from its own thread the moment it ends, before ``on_lane``. ``on_progress(index,
        LaneProgress)`` hears, in the caller's thread, each lane's running time every second,
        and from lanes that report more, their news: the local engine its place in the queue
        and each step, a streaming GPT Image lane each partial image. Those two can be stopped
        by :meth:`cancel_lane`."""
        providers = [self.provider(lane.provider) for lane in spec.lanes]
        requests = [
            build_request(spec, lane, provider.capabilities(lane.model))
            for lane, provider in zip(spec.lanes, providers, strict=True)
        ]
        guarded = self.budget.guard_lanes(list(zip(providers, requests, strict=True)))
        run_id = self.store.start_run(
            spec.prompt,
            negative_prompt=spec.negative_prompt,
            blind=spec.blind,
            studio_run_id=spec.studio_run_id,
        )
        if on_started is not None:
            on_started(run_id)
        keeper = LaneKeeper(self.store, run_id, requests)
        keep = _noting(keeper, spec.lineage) if spec.lineage else keeper
        watches = {i: LaneWatch() for i in range(len(providers))}
        lane_watch.register(run_id, watches)
        try:
            run_lanes(guarded, on_done=on_lane, keep=keep, watches=watches, on_progress=on_progress)
        finally:
            lane_watch.unregister(run_id, list(watches))
        found = self.store.get_run(run_id)
        assert found is not None
        return ComparisonResult(found, MappingProxyType(dict(keeper.unsaved)))

    def lane_running(self, run_id: str, index: int) -> bool:
        """Lane ``index`` of this owner's run ``run_id`` still runs here and can be cancelled."""
        return lane_watch.running(run_id, index) is not None and self._owns(run_id)

    def cancel_lane(self, run_id: str, index: int, *, wait: float = 0.0) -> bool:
        """Stop a lane that runs on this machine: it leaves the queue, or stops at its next
        step, and is stored as cancelled; waits up to ``wait`` seconds for that. False when
        there is no such running lane of this owner (finished already, another owner's run,
        a provider that cannot stop)."""
        watch = lane_watch.running(run_id, index)
        if watch is None or not self._owns(run_id):
            return False
        watch.cancel()
        watch.ended.wait(wait)
        return True

    def _owns(self, run_id: str) -> bool:
        return self.store.get_run(run_id) is not None

    def karlo_here_offered(self, lane: StoredLane) -> bool:
        """A stored Karlo API lane that Kakao refused for good (-9, 404) can run again on the
        local engine: its extras are installed and Karlo v1 alpha's weights are here."""
        return (
            lane.provider == "karlo"
            and lane.error_kind == str(ErrorKind.SERVICE_TERMINATED)
            and local_models.torch_available()
            and local_models.has_weights(local_models.KARLO.name)
        )

    def run_karlo_here(
        self,
        run_id: str,
        *,
        on_progress: Callable[[int, LaneProgress], None] | None = None,
    ) -> CompareRun:
        """Add a lane to stored run ``run_id``: Karlo v1 alpha on the local engine, with the
        English prompt the Karlo lanes send (translated when needed). Stored as the run's next
        lane; cancel it with :meth:`cancel_lane` like any lane that runs here."""
        run = self.store.get_run(run_id)
        if run is None:
            raise KeyError(run_id)
        english = self.english_prompt(run.prompt, [self.lane("karlo")])
        lane = LaneSpec("local", local_models.KARLO.name)
        spec = ComparisonSpec(run.prompt, (lane,), english_prompt=english)
        provider = self.provider(lane.provider)
        caps = provider.capabilities(lane.model)
        request = replace(build_request(spec, lane, caps), prompt=english or run.prompt)
        guarded = self.budget.guard_lanes([(provider, request)])
        index = max((stored.index for stored in run.lanes), default=-1) + 1
        watch = LaneWatch()
        lane_watch.register(run_id, {index: watch})
        try:
            run_lanes(
                guarded,
                keep=lambda _, outcome: self.store.save_lane(run_id, index, request, outcome),
                watches={0: watch},
                on_progress=(lambda _, p: on_progress(index, p)) if on_progress else None,
            )
        finally:
            lane_watch.unregister(run_id, [index])
        found = self.store.get_run(run_id)
        assert found is not None
        return found
