"""A comparison on screen while it runs: the lanes the editors describe are handed to the
comparison service (services/comparison.py), which runs and stores them; this module draws
one column per lane and each lane's images or error as it finishes."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import streamlit as st

from components import state as K
from components.context import AppContext
from components.image_card import from_outcome, image_card
from components.lane_form import lane_from_widgets
from components.lane_live import LiveSlot, live_drawer, live_slot
from components.local_lane import cancel_button
from services.comparison import ComparisonSpec, LaneSpec, same_seed_lanes
from services.images import PROVIDERS
from services.images.base import LaneOutcome
from services.markdown_safety import escape_markdown
from services.storage.images import CompareRun
from services.storage.lane_keeper import UnsavedLane

# Where the lanes draw their results (app_pages/compare.py wraps them in this container).
RESULTS_KEY = "compare_results"
# On a phone the results start screens below the Generate button: bring them into view as the
# lanes start, and keep them there while they grow (images arriving, the rerun that ends the
# run) until the visitor scrolls, touches or types, or 20 s have passed. A single scroll at
# the start can fall short: the page may not yet be tall enough to put the results on top.
SCROLL_TO_RESULTS = f"""<script>
(() => {{
  const find = () => document.querySelector(".st-key-{RESULTS_KEY}");
  const results = find();
  if (!results) return;
  const show = () => find()?.scrollIntoView({{block: "start"}});
  const watch = new ResizeObserver(show);
  const events = ["wheel", "touchstart", "keydown", "mousedown"];
  const stop = () => {{
    watch.disconnect();
    events.forEach((name) => removeEventListener(name, stop));
  }};
  show();
  watch.observe(results.closest('[data-testid="stMainBlockContainer"]') || document.body);
  events.forEach((name) => addEventListener(name, stop, {{passive: true}}));
  setTimeout(stop, 20000);
}})();
</script>"""
UNSAVED_RUNS_KEPT = 4  # runs whose refused images stay downloadable (bounds session memory)


def lane_title(
    ctx: AppContext,
    index: int,
    lane: dict,
    *,
    position: int | None = None,
    revealed: bool = False,
) -> str:
    """'Lane 1 · Kakao Karlo · karlo-v2.1'; with ``position`` (a blind run), the letter of
    the column it is shown in: 'Lane A' before the vote, 'Lane A was Kakao Karlo ·
    karlo-v2.1' once ``revealed``."""
    t = ctx.t
    provider = t(f"images.providers.{lane['provider']}")
    model = escape_markdown(lane["model"])
    if position is not None:
        letter = t("compare.blind_lane", letter=chr(ord("A") + position))
        if revealed:
            return t("compare.blind_revealed", letter=letter, provider=provider, model=model)
        return letter
    return f"{t('images.lane', n=index + 1)} · {provider} · {model}"


def outcome_label(ctx: AppContext, run: CompareRun) -> str:
    """A voted run's verdict: the winning lane's full title ('Lane B (Kakao Karlo ·
    karlo-v2.1)' in a blind run), or "Tie" / "Both bad"."""
    vote = run.outcome
    lane = next((lane for lane in run.lanes if vote and lane.index == vote.lane), None)
    if vote is None or lane is None:
        return ctx.t(f"images.vote.{vote.kind}") if vote else ""
    if run.blind:
        t = ctx.t
        order = display_order(run.id, max(lane.index for lane in run.lanes) + 1, blind=True)
        letter = t("compare.blind_lane", letter=chr(ord("A") + order.index(lane.index)))
        provider = t(f"images.providers.{lane.provider}")
        model = escape_markdown(lane.model)
        return t("compare.blind_pick", letter=letter, provider=provider, model=model)
    return lane_title(ctx, lane.index, {"provider": lane.provider, "model": lane.model})


def blind_reveal(ctx: AppContext, run: CompareRun) -> str:
    """After the vote on a blind run, which letter was which model, one line each."""
    lanes = {lane.index: lane for lane in run.lanes}
    order = display_order(run.id, max(lanes, default=-1) + 1, blind=True)
    lines = [f"**{ctx.t('compare.blind_reveal')}**"]
    for position, index in enumerate(order):
        if index not in lanes:
            continue
        lane = {"provider": lanes[index].provider, "model": lanes[index].model}
        lines.append("- " + lane_title(ctx, index, lane, position=position, revealed=True))
    return "\n".join(lines)


def lane_key(run_id: str, index: int) -> str:
    """The name of a comparison lane's card on a page (the same while it runs and stored)."""
    return f"{run_id}_{index}"


def display_order(run_id: str, count: int, *, blind: bool) -> list[int]:
    """Lane indexes in the order their columns are shown: shuffled (the same way for the
    same run) while blind, so 'Lane A' is not simply the first lane configured."""
    order = list(range(count))
    if blind:
        random.Random(run_id).shuffle(order)
    return order


def comparison_spec(
    ctx: AppContext,
    lanes: list[dict],
    *,
    prompt: str,
    negative_prompt: str,
    english_prompt: str | None,
    blind: bool,
    studio_run_id: str | None = None,
    same_seeds_as: CompareRun | None = None,
) -> ComparisonSpec:
    """What the lane editors describe; with ``same_seeds_as``, each lane replays the seeds
    of that stored run's lane (a same-seed re-run)."""
    specs = tuple(lane_from_widgets(ctx, lane) for lane in lanes)
    if same_seeds_as is not None:
        specs = same_seed_lanes(specs, same_seeds_as)
    return ComparisonSpec(
        prompt,
        specs,
        negative_prompt=negative_prompt,
        english_prompt=english_prompt,
        blind=blind,
        studio_run_id=studio_run_id,
    )


def show_comparison(
    ctx: AppContext, spec: ComparisonSpec, *, on_stored: Callable[[str], None] | None = None
) -> CompareRun:
    """Run ``spec`` through the comparison service and draw it: one column per lane (key
    ``compare_lane_<i>``) with its progress (a streaming lane's partial images), then its
    images or its error as it ends.
    ``on_stored(run_id)`` is told the run's id before the lanes start. Raises LimitExceeded
    (nothing stored, nothing sent)."""
    blind = spec.blind
    titles: dict[int, str] = {}
    slots: dict[int, object] = {}
    live: dict[int, LiveSlot] = {}  # where each running lane shows its progress
    started_as: list[str] = []

    def started(run_id: str) -> None:
        started_as.append(run_id)
        if on_stored is not None:
            on_stored(run_id)
        order = display_order(run_id, len(spec.lanes), blind=blind)
        drawn = _lane_slots(ctx, spec.lanes, order, blind, run_id)
        titles.update(drawn[0])
        slots.update(drawn[1])
        live.update(drawn[2])
        st.html(SCROLL_TO_RESULTS, unsafe_allow_javascript=True)

    def show(index: int, outcome: LaneOutcome) -> None:
        with slots[index].container():
            card = from_outcome(outcome)
            key = lane_key(started_as[0], index)
            image_card(ctx, titles[index], card, key=key, hide_details=blind)

    result = ctx.comparisons.run(
        spec, on_started=started, on_lane=show, on_progress=live_drawer(ctx, live, blind=blind)
    )
    _hold_unsaved(result.run.id, result.unsaved)
    return result.run


def _lane_slots(
    ctx: AppContext, lanes: tuple[LaneSpec, ...], order: list[int], blind: bool, run_id: str
) -> tuple[dict[int, str], dict[int, object], dict[int, LiveSlot]]:
    """One column per lane in display order, each showing its title and its progress until
    its result replaces it (with Cancel for a lane that runs on this machine); returns the
    titles, the replaceable slots and where each lane draws its progress, by lane index."""
    titles: dict[int, str] = {}
    slots: dict[int, object] = {}
    live: dict[int, LiveSlot] = {}
    for position, (column, index) in enumerate(zip(st.columns(len(lanes)), order, strict=True)):
        lane = {"provider": lanes[index].provider, "model": lanes[index].model}
        titles[index] = lane_title(ctx, index, lane, position=position if blind else None)
        with column, st.container(key=f"compare_lane_{index}", border=True):
            slots[index] = st.empty()
            with slots[index].container():
                st.markdown(f"**{titles[index]}**")
                live[index] = live_slot(ctx)
                if PROVIDERS[lanes[index].provider].runs_here:
                    cancel_button(ctx, run_id, index)
    return titles, slots, live


def _hold_unsaved(run_id: str, unsaved: Mapping[int, UnsavedLane]) -> None:
    """Keep the images the store refused downloadable for this session (last few runs)."""
    if unsaved:
        held = st.session_state.setdefault(K.COMPARE_UNSAVED, {})
        held[run_id] = dict(unsaved)
        for old in list(held)[:-UNSAVED_RUNS_KEPT]:
            del held[old]


def unsaved_lanes(run_id: str) -> dict[int, UnsavedLane]:
    """Lanes of ``run_id`` the store refused in this session, by lane index."""
    return st.session_state.get(K.COMPARE_UNSAVED, {}).get(run_id, {})
