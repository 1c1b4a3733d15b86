"""A grid's rows and columns while they are being defined: rows taken from a studio run
(its idea, a step's output, its final prompt), and the column editors (the Compare page's
lane form, one per column)."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from components.lane_form import lane_form, new_lane
from services.grid import GridRowSpec, RowSource, studio_variants
from services.markdown_safety import escape_markdown
from services.studio.templates import label as step_label

PICKER_RUNS = 20  # the latest studio runs the picker offers


def variant_label(ctx: AppContext, row: GridRowSpec) -> str:
    """'Studio step: Expand — a fox on Mars…' for the picker and the list of picked rows."""
    name = step_label(row.label, ctx.t) if row.source is RowSource.STEP else ""
    origin = ctx.t(f"grid.source.{row.source}", name=name)
    prompt = row.prompt if len(row.prompt) <= 80 else row.prompt[:79] + "…"
    return f"{origin} — {prompt}"


def studio_picker(ctx: AppContext) -> None:
    """Pick a studio run and some of its prompts; Add rows appends them to the grid."""
    t = ctx.t
    with st.expander(t("grid.from_studio"), icon=":material/auto_awesome:"):
        runs = ctx.chains.list_runs(limit=PICKER_RUNS)
        if not runs:
            st.caption(t("grid.no_studio_runs"))
            return
        ideas = {run.id: run.idea for run in runs}
        run_id = st.selectbox(
            t("grid.studio_run"),
            list(ideas),
            format_func=lambda i: ideas[i] if len(ideas[i]) <= 80 else ideas[i][:79] + "…",
            key=K.GRID_STUDIO_RUN,
        )
        run = ctx.chains.get_run(run_id) if run_id else None
        variants = studio_variants(run) if run else []
        chosen = st.multiselect(
            t("grid.variants"),
            list(range(len(variants))),
            format_func=lambda i: variant_label(ctx, variants[i]),
            key=K.GRID_STUDIO_CHOICES,
        )
        if st.button(t("grid.add_rows"), key="grid_add_rows", disabled=not chosen):
            picked = st.session_state.setdefault(K.GRID_PICKED, [])
            picked.extend(variants[i].to_json() for i in chosen)
            st.session_state.pop(K.GRID_STUDIO_CHOICES, None)
            st.rerun()


def picked_rows(ctx: AppContext) -> list[GridRowSpec]:
    """The rows taken from studio runs, each with a Remove button; returns them."""
    picked: list[dict] = st.session_state.setdefault(K.GRID_PICKED, [])
    rows = [GridRowSpec.from_json(data) for data in picked]
    for i, row in enumerate(rows):
        with st.container(horizontal=True, vertical_alignment="center", key=f"grid_picked_{i}"):
            st.markdown(escape_markdown(variant_label(ctx, row)), width="stretch")
            if st.button(
                "", key=f"grid_unpick_{i}", icon=":material/close:", help=ctx.t("grid.remove_row")
            ):
                picked.pop(i)
                st.rerun()
    return rows


def column_editors(ctx: AppContext, lanes: list[dict]) -> None:
    """One lane form per column, with Remove; Add a column below (within MAX_LANES)."""
    t = ctx.t
    max_lanes = ctx.budget.max_lanes()
    for i, (column, lane) in enumerate(zip(st.columns(len(lanes)), lanes, strict=True)):
        with column, st.container(border=True, key=f"grid_column_{i}"):
            st.markdown(f"**{t('grid.column', n=i + 1)}**")
            lane_form(ctx, lane)
            if st.button(
                "",
                key=f"grid_remove_{lane['id']}",
                icon=":material/delete:",
                disabled=len(lanes) <= 1,
                help=t("grid.remove_column"),
            ):
                lanes.pop(i)
                st.rerun()
    if st.button(
        t("grid.add_column"),
        key="grid_add_column",
        icon=":material/add:",
        disabled=max_lanes is not None and len(lanes) >= max_lanes,
        help=t("budget.max_lanes_help", allowed=max_lanes) if max_lanes else None,
    ):
        lanes.append(new_lane(ctx))
        st.rerun()
