"""Grid: prompt variants (rows) against image engines (columns); the estimate before it runs,
a confirmation above the threshold, cells as they finish, a vote per row, exports."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext, app_context
from components.errors import show_error
from components.grid_rows import column_editors, picked_rows, studio_picker
from components.grid_view import run_grid, show_grid
from components.lane_form import default_lanes, lane_from_widgets
from components.moderation_panel import check_toggle, cleared, forget, held_panel, resumed
from components.sidebar import ensure_models_listed
from services.errors import ChatCanvasError
from services.grid import GridSpec, moderation_parts, typed_rows
from services.images import english_only
from services.storage.grids import StoredGrid
from services.wording import format_cost


def open_grid(grid_id: str | None) -> None:
    """Make ``grid_id`` the grid on screen; its id lives in the URL (``?grid=``), so a
    reload or a shared address reopens it."""
    if grid_id:
        st.session_state[K.GRID_LAST] = grid_id
        st.query_params["grid"] = grid_id
    else:
        st.session_state.pop(K.GRID_LAST, None)
        st.query_params.pop("grid", None)


def shown_grid(ctx: AppContext) -> StoredGrid | None:
    """The grid named in the URL, else the last one run in this session. Another owner's
    id answers like a missing one."""
    wanted = st.query_params.get("grid") or st.session_state.get(K.GRID_LAST)
    if not wanted:
        return None
    found = ctx.grids.get(wanted)
    if found is None:
        st.warning(ctx.t("grid.not_found"), icon=":material/warning:")
    open_grid(found.id if found else None)
    return found


def recent_grids(ctx: AppContext) -> None:
    """Links to this owner's latest grids."""
    recent = ctx.grids.recent(limit=8)
    if not recent:
        return
    with st.expander(ctx.t("grid.recent"), icon=":material/history:"):
        for summary in recent:
            prompt = summary.first_prompt[:60]
            st.page_link(
                "app_pages/grid.py",
                label=ctx.t(
                    "grid.recent_item", rows=summary.rows, columns=summary.columns, prompt=prompt
                ),
                query_params={"grid": summary.id},
            )


ctx = app_context()
t = ctx.t
ensure_models_listed()
lanes: list[dict] = st.session_state.setdefault(K.GRID_LANES, default_lanes(ctx))
shown = shown_grid(ctx)

st.subheader(t("grid.title"))
st.caption(t("grid.intro"))
recent_grids(ctx)

st.markdown(f"**{t('grid.rows')}**")
typed = st.text_area(
    t("grid.typed"),
    key=K.GRID_TYPED,
    height=100,
    help=t("grid.typed_help"),
    on_change=forget,
    args=("grid",),
)
negative = st.text_input(
    t("images.params.negative_prompt"), key=K.GRID_NEGATIVE, on_change=forget, args=("grid",)
)
picked = picked_rows(ctx)
studio_picker(ctx)

st.markdown(f"**{t('grid.columns')}**")
column_editors(ctx, lanes)
if any(english_only(lane["provider"]) for lane in lanes):
    st.caption(t("grid.karlo_note"))

rows = (*typed_rows(typed, negative), *picked)
studio_ids = {row.studio_run_id for row in rows if row.studio_run_id}
spec = GridSpec(
    rows,
    tuple(lane_from_widgets(ctx, lane) for lane in lanes),
    studio_run_id=studio_ids.pop() if len(studio_ids) == 1 else None,
)
estimate = ctx.grids.estimate(spec) if rows else None
confirmed = True
if estimate is not None:
    cost = format_cost(estimate.usd, t)
    st.caption(
        t("grid.estimate", rows=len(rows), columns=len(lanes), cells=len(estimate.cells), cost=cost)
        + (f"  \n{t('grid.unpriced')}" if estimate.unpriced else "")
    )
    st.caption(t("grid.concurrency", n=ctx.grids.concurrency))
    if estimate.needs_confirmation:
        st.warning(
            t("grid.confirm_needed", threshold=format_cost(estimate.threshold, t)),
            icon=":material/payments:",
        )
        confirmed = st.checkbox(t("grid.confirm", cost=cost), key=K.GRID_CONFIRMED)
left, right = st.columns([1, 2], vertical_alignment="center")
check_toggle(ctx, left)
clicked = right.button(
    t("grid.run"),
    key="grid_run",
    type="primary",
    icon=":material/grid_view:",
    disabled=not confirmed,
    width="stretch",
)

if clicked and not rows:
    st.warning(t("grid.need_rows"))
elif (clicked or resumed("grid")) and rows:
    try:
        ready = ctx.grids.with_english(spec)
        first, also = moderation_parts(ready)
        if cleared(ctx, first, "grid", also=also):
            with st.container(key="grid_results"):
                run_grid(ctx, ready, on_stored=open_grid)
            st.session_state.pop(K.GRID_CONFIRMED, None)
            st.rerun()
    except ChatCanvasError as err:  # a spending limit or a failed translation: nothing sent
        show_error(err, t)
elif held_panel(ctx, "grid"):  # the safety check held the last Run, until the person chooses
    pass
elif shown is not None:
    with st.container(key="grid_results"):
        show_grid(ctx, shown)
