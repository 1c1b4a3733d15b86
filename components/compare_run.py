"""Run a comparison: every lane at once, each drawn in its own container as it finishes,
then the whole run stored (images, lineage, costs) for votes and the gallery."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.context import AppContext
from components.image_card import from_outcome, image_card
from components.lane_form import lane_request
from services.images import ImageRequest, make_provider, run_lanes
from services.images.base import LaneOutcome
from services.storage.images import CompareRun, ImageStore


def lane_title(ctx: AppContext, index: int, lane: dict, *, blind: bool) -> str:
    """'Lane 1 · Kakao Karlo · karlo-v2.1', or just 'Lane A' while a blind run is unvoted."""
    if blind:
        return ctx.t("compare.blind_lane", letter=chr(ord("A") + index))
    provider = ctx.t(f"images.providers.{lane['provider']}")
    return f"{ctx.t('images.lane', n=index + 1)} · {provider} · {lane['model']}"


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
    lanes start, so a page interrupted mid-run can still show what was made."""
    t = ctx.t
    requests: list[ImageRequest] = []
    for lane in lanes:
        sent = karlo_prompt if lane["provider"] == "karlo" and karlo_prompt else prompt
        requests.append(lane_request(ctx, lane, sent, negative_prompt))
    slots = []
    columns = st.columns(len(lanes))
    for i, lane in enumerate(lanes):
        with columns[i], st.container(key=f"compare_lane_{i}", border=True):
            slot = st.empty()
            with slot.container():
                st.markdown(f"**{lane_title(ctx, i, lane, blind=blind)}**")
                st.progress(0, text=t("images.generating"))
            slots.append(slot)

    def show(index: int, outcome: LaneOutcome) -> None:
        with slots[index].container():
            image_card(
                ctx, lane_title(ctx, index, lanes[index], blind=blind), from_outcome(outcome)
            )

    store = ImageStore(ctx.db, ctx.settings.owner_id)
    run_id = store.start_run(
        prompt, negative_prompt=negative_prompt, blind=blind, studio_run_id=studio_run_id
    )
    if on_stored is not None:
        on_stored(run_id)
    run_lanes(
        [
            (make_provider(lane["provider"], ctx.settings), request)
            for lane, request in zip(lanes, requests, strict=True)
        ],
        on_done=show,
        keep=lambda i, outcome: store.save_lane(run_id, i, requests[i], outcome),
    )
    found = store.get_run(run_id)
    assert found is not None
    return found
