"""A grid on screen: while it runs (each cell drawn as it ends) and stored (each row's cells,
its vote, the exports). The grid service runs and stores it; this module only draws."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import state as K
from components.compare_run import lane_title, outcome_label
from components.compare_view import unsaved_downloads
from components.context import AppContext
from components.image_card import from_outcome, from_stored, image_card
from services.grid import GridSpec
from services.grid_export import contact_sheet, grid_zip
from services.images.base import LaneOutcome
from services.markdown_safety import escape_markdown
from services.storage.grids import StoredGrid
from services.studio.templates import label as step_label
from services.votes import BOTH_BAD, TIE, VoteOutcome
from services.wording import format_cost

UNSAVED_GRIDS_KEPT = 2  # grids whose refused cells stay downloadable (bounds session memory)


def row_title(ctx: AppContext, index: int, row: dict) -> str:
    """'Row 1 · Studio step: Expand' and the prompt, quoted for Markdown."""
    t = ctx.t
    source = row.get("source") or "typed"
    name = step_label(str(row.get("label") or ""), t)
    origin = t(f"grid.source.{source}", name=escape_markdown(name))
    prompt = escape_markdown(str(row.get("prompt") or ""))
    return f"**{t('grid.row', n=index + 1)}** · {origin}  \n{prompt}"


def _column_title(ctx: AppContext, index: int, lane: dict) -> str:
    return lane_title(ctx, index, {"provider": lane["provider"], "model": lane["model"]})


def run_grid(ctx: AppContext, spec: GridSpec, *, on_stored: Callable[[str], None]) -> StoredGrid:
    """Run ``spec`` through the grid service and draw it as it fills: a row of columns per
    prompt, each cell a progress bar until its result or error replaces it. ``on_stored`` is
    told the grid's id before the cells start. Raises LimitExceeded (nothing sent)."""
    slots: dict[tuple[int, int], object] = {}
    lanes = [{"provider": lane.provider, "model": lane.model} for lane in spec.lanes]

    def started(grid_id: str) -> None:
        on_stored(grid_id)
        for r, row in enumerate(spec.rows):
            st.markdown(row_title(ctx, r, row.to_json()))
            for c, column in enumerate(st.columns(len(lanes))):
                with column, st.container(key=f"grid_cell_{r}_{c}", border=True):
                    slots[(r, c)] = st.empty()
                    with slots[(r, c)].container():
                        st.markdown(f"**{_column_title(ctx, c, lanes[c])}**")
                        st.progress(0, text=ctx.t("images.generating"))

    def show(r: int, c: int, outcome: LaneOutcome) -> None:
        with slots[(r, c)].container():
            card = from_outcome(outcome)
            image_card(ctx, _column_title(ctx, c, lanes[c]), card, key=f"grid_{r}_{c}")

    result = ctx.grids.run(spec, on_started=started, on_cell=show)
    if result.unsaved:
        held = st.session_state.setdefault(K.GRID_UNSAVED, {})
        held[result.grid.id] = dict(result.unsaved)
        for old in list(held)[:-UNSAVED_GRIDS_KEPT]:
            del held[old]
    return result.grid


def show_grid(ctx: AppContext, grid: StoredGrid) -> None:
    """A stored grid: each row's title, its cells (images, latency, cost), its vote; then
    the exports."""
    t = ctx.t
    unsaved = st.session_state.get(K.GRID_UNSAVED, {}).get(grid.id, {})
    total = sum(lane.cost_usd or 0.0 for run in grid.runs if run for lane in run.lanes)
    st.caption(f"{grid.created_at:%Y-%m-%d %H:%M} UTC · {format_cost(total, t)}")
    for r, row in enumerate(grid.rows):
        run = grid.run(r)
        stored = {lane.index: lane for lane in run.lanes} if run else {}
        with st.container(key=f"grid_row_{r}", border=True):
            st.markdown(row_title(ctx, r, row))
            for c, column in enumerate(st.columns(len(grid.lanes))):
                title = _column_title(ctx, c, grid.lanes[c])
                with column, st.container(key=f"grid_cell_{r}_{c}"):
                    if c in stored:
                        card = from_stored(ctx.images, stored[c])
                        image_card(ctx, title, card, key=f"grid_{r}_{c}")
                    elif (r, c) in unsaved and run is not None:
                        card = from_outcome(unsaved[(r, c)].outcome)
                        image_card(ctx, title, card, key=f"grid_{r}_{c}")
                        unsaved_downloads(ctx, run.id, unsaved[(r, c)])
                    else:
                        st.markdown(f"**{title}**")
                        st.caption("…")
            if run is not None:
                _row_vote(ctx, grid, r)
    exports(ctx, grid)


def _row_vote(ctx: AppContext, grid: StoredGrid, r: int) -> None:
    """The row's vote buttons (a column, a tie, all bad), or the vote cast."""
    t = ctx.t
    run = grid.run(r)
    assert run is not None
    voteable = [lane for lane in run.lanes if lane.ok]
    if run.outcome is not None:
        st.success(t("grid.voted", n=r + 1, outcome=outcome_label(ctx, run)))
        return
    if len(voteable) < 2:
        return
    st.markdown(t("grid.vote_question"))
    options = [
        (VoteOutcome.winner(lane.index), t("grid.column", n=lane.index + 1)) for lane in voteable
    ]
    options += [(TIE, t("images.vote.tie")), (BOTH_BAD, t("images.vote.both_bad"))]
    row = st.container(horizontal=True, key=f"grid_vote_{r}")
    for outcome, label in options:
        if row.button(label, key=f"grid_vote_{r}_{outcome}"):
            ctx.grids.vote(grid.id, r, outcome)
            st.toast(t("images.vote.recorded"))
            st.rerun()


def exports(ctx: AppContext, grid: StoredGrid) -> None:
    """The contact sheet and the ZIP, made when asked for."""
    t = ctx.t
    with st.container(horizontal=True):
        st.download_button(
            t("grid.export_sheet"),
            data=lambda: contact_sheet(ctx.images, grid, ctx.t),
            file_name=f"chatcanvas-grid-{grid.id[:8]}.png",
            mime="image/png",
            key="grid_export_sheet",
            icon=":material/grid_on:",
            on_click="ignore",
        )
        st.download_button(
            t("grid.export_zip"),
            data=lambda: grid_zip(ctx.images, grid, ctx.t),
            file_name=f"chatcanvas-grid-{grid.id[:8]}.zip",
            mime="application/zip",
            key="grid_export_zip",
            icon=":material/folder_zip:",
            on_click="ignore",
        )
