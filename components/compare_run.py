"""Run a comparison: every lane at once, each drawn in its own container as it finishes,
then the whole run stored (images, lineage, costs) for votes and the gallery."""

from __future__ import annotations

import random
from collections.abc import Callable

import streamlit as st

from components import state as K
from components.context import AppContext
from components.image_card import from_outcome, image_card
from components.lane_form import lane_request
from services.images import ImageRequest, run_lanes
from services.images.base import LaneOutcome
from services.markdown_safety import escape_markdown
from services.storage.images import CompareRun
from services.storage.lane_keeper import LaneKeeper, UnsavedLane

UNSAVED_RUNS_KEPT = 4  # runs whose refused images stay downloadable (bounds session memory)


def lane_title(ctx: AppContext, index: int, lane: dict, *, position: int | None = None) -> str:
    """'Lane 1 · Kakao Karlo · karlo-v2.1'; with ``position`` (a blind run not yet voted on),
    only the letter of the column it is shown in: 'Lane A'."""
    if position is not None:
        return ctx.t("compare.blind_lane", letter=chr(ord("A") + position))
    provider = ctx.t(f"images.providers.{lane['provider']}")
    return f"{ctx.t('images.lane', n=index + 1)} · {provider} · {escape_markdown(lane['model'])}"


def outcome_label(ctx: AppContext, run: CompareRun) -> str:
    """A voted run's verdict: the winning lane's full title, or "Tie" / "Both bad"."""
    vote = run.outcome
    lane = next((lane for lane in run.lanes if vote and lane.index == vote.lane), None)
    if vote is None or lane is None:
        return ctx.t(f"images.vote.{vote.kind}") if vote else ""
    return lane_title(ctx, lane.index, {"provider": lane.provider, "model": lane.model})


def display_order(run_id: str, count: int, *, blind: bool) -> list[int]:
    """Lane indexes in the order their columns are shown: shuffled (the same way for the
    same run) while blind, so 'Lane A' is not simply the first lane configured."""
    order = list(range(count))
    if blind:
        random.Random(run_id).shuffle(order)
    return order


def run_comparison(
    ctx: AppContext,
    lanes: list[dict],
    *,
    prompt: str,
    negative_prompt: str,
    karlo_prompt: str | None,
    blind: bool,
    studio_run_id: str | None = None,
    on_stored: Callable[[str], None] | None = None,
) -> CompareRun:
    """Generate with every lane concurrently; the wall time is the slowest lane's. Each lane's
    container (key ``compare_lane_<i>``) shows a spinner, then its images or its error.
    Each lane is stored as it ends; ``on_stored(run_id)`` is told the run's id before the
    lanes start, so a page interrupted mid-run can still show what was made. Raises
    LimitExceeded (nothing stored, nothing sent) when the run would pass a spending limit."""
    requests: list[ImageRequest] = []
    for lane in lanes:
        sent = karlo_prompt if lane["provider"] == "karlo" and karlo_prompt else prompt
        requests.append(lane_request(ctx, lane, sent, negative_prompt))
    # the spending limits are checked for the whole run before anything is stored or sent
    guarded = ctx.budget.guard_lanes(
        [
            (ctx.image_provider(lane["provider"]), request)
            for lane, request in zip(lanes, requests, strict=True)
        ]
    )
    store = ctx.images
    run_id = store.start_run(
        prompt, negative_prompt=negative_prompt, blind=blind, studio_run_id=studio_run_id
    )
    if on_stored is not None:
        on_stored(run_id)
    titles, slots = _lane_slots(ctx, lanes, display_order(run_id, len(lanes), blind=blind), blind)

    def show(index: int, outcome: LaneOutcome) -> None:
        with slots[index].container():
            image_card(ctx, titles[index], from_outcome(outcome), hide_details=blind)

    keeper = LaneKeeper(store, run_id, requests)
    run_lanes(guarded, on_done=show, keep=keeper)
    _hold_unsaved(run_id, keeper)
    found = store.get_run(run_id)
    assert found is not None
    return found


def _lane_slots(
    ctx: AppContext, lanes: list[dict], order: list[int], blind: bool
) -> tuple[dict[int, str], dict[int, object]]:
    """One column per lane in display order, each showing its title and a progress bar until
    its result replaces it; returns the titles and the replaceable slots by lane index."""
    titles: dict[int, str] = {}
    slots: dict[int, object] = {}
    for position, (column, index) in enumerate(zip(st.columns(len(lanes)), order, strict=True)):
        titles[index] = lane_title(ctx, index, lanes[index], position=position if blind else None)
        with column, st.container(key=f"compare_lane_{index}", border=True):
            slots[index] = st.empty()
            with slots[index].container():
                st.markdown(f"**{titles[index]}**")
                st.progress(0, text=ctx.t("images.generating"))
    return titles, slots


def _hold_unsaved(run_id: str, keeper: LaneKeeper) -> None:
    """Keep the images the store refused downloadable for this session (last few runs)."""
    if keeper.unsaved:
        held = st.session_state.setdefault(K.COMPARE_UNSAVED, {})
        held[run_id] = dict(keeper.unsaved)
        for old in list(held)[:-UNSAVED_RUNS_KEPT]:
            del held[old]


def unsaved_lanes(run_id: str) -> dict[int, UnsavedLane]:
    """Lanes of ``run_id`` the store refused in this session, by lane index."""
    return st.session_state.get(K.COMPARE_UNSAVED, {}).get(run_id, {})
