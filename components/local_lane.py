"""What a lane on the local engine adds to the Compare page: the model's licence and what is
missing to run it (the lane form), its place in the queue and step while it runs, Cancel, and
"Run Karlo locally" on a Karlo API lane that Kakao refused for good. The engine, its queue and
threads live in services/images/local_*.py; this module only draws and collects clicks."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import state as K
from components.context import AppContext
from services.errors import ChatCanvasError
from services.images.lane_watch import LaneProgress
from services.images.local_models import PROVIDER
from services.markdown_safety import escape_markdown
from services.storage.image_tables import StoredLane
from services.storage.images import CompareRun
from services.wording import error_text, image_error_text, lane_progress_text

CANCEL_WAIT = 10.0  # seconds a Cancel click waits for the lane to be stored as cancelled


def local_lane_notes(ctx: AppContext, lane: dict) -> None:
    """Under a local lane's model: its licence, what is missing (with the command that
    installs or downloads it), and a warning when there is no GPU."""
    t = ctx.t
    status = ctx.image_provider(PROVIDER).status(lane["model"])
    if status.licence:
        st.caption(t("images.local.licence", licence=status.licence))
    if status.missing is not None:
        st.warning(
            image_error_text(status.missing, t, quote=escape_markdown), icon=":material/download:"
        )
    elif status.on_cpu:
        st.caption(":material/warning: " + t("images.local.cpu_warning"))


def progress_drawer(
    ctx: AppContext, slots: dict[int, object]
) -> Callable[[int, LaneProgress], None]:
    """An ``on_progress`` callback drawing each lane's progress bar into ``slots[index]``."""

    def draw(index: int, progress: LaneProgress) -> None:
        if index in slots:
            slots[index].progress(progress.fraction, text=lane_progress_text(progress, ctx.t))

    return draw


def cancel_button(ctx: AppContext, run_id: str, index: int) -> None:
    """Cancel for a lane running here; the click stops it and waits briefly until it is stored."""
    st.button(
        ctx.t("images.local.cancel"),
        key=f"local_cancel_{run_id}_{index}",
        icon=":material/stop_circle:",
        help=ctx.t("images.local.cancel_help"),
        on_click=ctx.comparisons.cancel_lane,
        args=(run_id, index),
        kwargs={"wait": CANCEL_WAIT},
    )


def karlo_here_button(ctx: AppContext, run: CompareRun, lane: StoredLane) -> None:
    """On a Karlo API lane that Kakao refused for good, when Karlo's weights are here."""
    if not ctx.comparisons.karlo_here_offered(lane):
        return
    st.button(
        ctx.t("images.local.run_karlo_locally"),
        key=f"karlo_here_{run.id}_{lane.index}",
        icon=":material/computer:",
        help=ctx.t("images.local.run_karlo_locally_help"),
        on_click=st.session_state.__setitem__,
        args=(K.COMPARE_KARLO_HERE, run.id),
    )


def run_karlo_here_if_asked(ctx: AppContext, run: CompareRun) -> CompareRun:
    """When "Run Karlo locally" was clicked for ``run``: run that lane with a progress bar and
    a Cancel button, and return the run with it stored."""
    if st.session_state.get(K.COMPARE_KARLO_HERE) != run.id:
        return run
    del st.session_state[K.COMPARE_KARLO_HERE]
    index = max((lane.index for lane in run.lanes), default=-1) + 1
    with st.container(border=True):
        st.markdown(f"**{ctx.t('images.local.run_karlo_locally')}**")
        bar = st.empty()
        bar.progress(0, text=ctx.t("images.generating"))
        cancel_button(ctx, run.id, index)
        try:
            return ctx.comparisons.run_karlo_here(
                run.id, on_progress=progress_drawer(ctx, {index: bar})
            )
        except ChatCanvasError as err:  # the English prompt could not be made, or a limit
            bar.error(error_text(err, ctx.t, quote=escape_markdown), icon=":material/error:")
            return run
