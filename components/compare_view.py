"""A stored comparison on screen: each lane's card, the vote, re-run with the same seeds."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.compare_run import (
    blind_reveal,
    display_order,
    lane_key,
    lane_title,
    outcome_label,
    unsaved_lanes,
)
from components.context import AppContext, app_context
from components.image_card import from_outcome, from_stored, image_card
from components.image_edit import edit_panel
from components.lane_form import field_key
from components.local_lane import karlo_here_button, run_karlo_here_if_asked
from components.moderation_panel import image_checks
from components.revised_prompt_send import prompt_source_note, send_buttons
from services.errors import ChatCanvasError
from services.gallery_export import png_with_lineage
from services.images.base import sniff_mime
from services.storage.images import CompareRun, ImageStore, StoredLane
from services.storage.lane_keeper import UnsavedLane
from services.votes import BOTH_BAD, TIE, VoteOutcome


def rerun_with_same_seeds(run_id: str) -> None:
    """Button callback: put each lane's first stored seed back in its seed field, and run
    again with every image's seed of ``run_id`` (the page reads them from the stored run)."""
    ctx = app_context()
    run = ctx.images.get_run(run_id)
    lanes = st.session_state[K.COMPARE_LANES]
    for stored, lane in zip(run.lanes if run else (), lanes, strict=False):
        if stored.seeds:
            st.session_state[field_key(lane, "seed")] = stored.seeds[0]
    st.session_state[K.COMPARE_AUTORUN] = run_id


def show_run(
    ctx: AppContext, store: ImageStore, run: CompareRun, *, same_seeds: bool = False
) -> None:
    """A stored run: lane cards, then the vote (blind labels hidden until it is cast).
    ``same_seeds`` offers to run the Compare page's lanes again with the stored seeds."""
    t = ctx.t
    run = run_karlo_here_if_asked(ctx, run)
    hidden = run.blind and run.outcome is None
    lanes = {lane.index: lane for lane in run.lanes}
    unsaved = unsaved_lanes(run.id)
    indexes = sorted(set(lanes) | set(unsaved))
    # a blind run keeps its shuffled columns after the vote, each now saying what it was
    order = [indexes[i] for i in display_order(run.id, len(indexes), blind=run.blind)]
    if not order:  # interrupted before any lane ended
        return
    prompt_source_note(ctx, run)
    titles: dict[int, str] = {}
    for position, (column, index) in enumerate(zip(st.columns(len(order)), order, strict=True)):
        lane = lanes.get(index)
        provider, model = (lane.provider, lane.model) if lane else _unsaved_names(unsaved[index])
        titles[index] = lane_title(
            ctx,
            index,
            {"provider": provider, "model": model},
            position=position if run.blind else None,
            revealed=not hidden,
        )
        key = lane_key(run.id, index)
        with column, st.container(key=f"compare_lane_{index}", border=True):
            if lane is not None:
                card = from_stored(store, lane)
                image_card(ctx, titles[index], card, key=key, hide_details=hidden)
                if not hidden:  # a file name or the gallery would tell the lanes apart
                    lane_actions(ctx, store, lane)
                    send_buttons(ctx, store, run, lane)
                    karlo_here_button(ctx, run, lane)
                    image_checks(ctx, store, lane)
                    for image_id in lane.image_ids:
                        edit_panel(ctx, image_id, place="compare")
            else:
                card = from_outcome(unsaved[index].outcome)
                image_card(ctx, titles[index], card, key=key, hide_details=hidden)
                unsaved_downloads(ctx, run.id, unsaved[index])
    _vote(ctx, store, run, [lanes[i] for i in order if i in lanes], titles)
    if same_seeds and any(lane.seeds for lane in run.lanes):
        st.button(
            t("compare.same_seeds"),
            key="compare_same_seeds",
            on_click=rerun_with_same_seeds,
            args=(run.id,),
            icon=":material/replay:",
        )


def _vote(
    ctx: AppContext,
    store: ImageStore,
    run: CompareRun,
    shown: list[StoredLane],
    titles: dict[int, str],
) -> None:
    """The vote buttons (blind labels while hidden), or the vote cast and, for a blind run,
    which lane was which."""
    t = ctx.t
    hidden = run.blind and run.outcome is None
    voteable = [lane for lane in shown if lane.ok]
    if run.outcome is None and len(voteable) >= 2:
        st.markdown(f"**{t('images.vote.question')}**")
        options = [
            (
                VoteOutcome.winner(lane.index),
                titles[lane.index] if hidden else t("images.vote.lane", n=lane.index + 1),
            )
            for lane in voteable
        ]
        options += [(TIE, t("images.vote.tie")), (BOTH_BAD, t("images.vote.both_bad"))]
        cols = st.columns(len(options))
        for col, (outcome, label) in zip(cols, options, strict=True):
            if col.button(label, key=f"compare_vote_{outcome}", width="stretch"):
                store.record_vote(run.id, outcome)
                st.toast(t("images.vote.recorded"))
                st.rerun()
    elif run.outcome is not None:
        st.success(t("compare.voted", outcome=outcome_label(ctx, run)))
        if run.blind:
            st.info(blind_reveal(ctx, run), icon=":material/visibility:")


def lane_actions(ctx: AppContext, store: ImageStore, lane: StoredLane) -> None:
    """Each stored image of a lane: download it as a PNG carrying its lineage, or open it in
    the gallery's detail view."""
    t = ctx.t
    for n, image_id in enumerate(lane.image_ids, start=1):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.download_button(
                t("compare.download_nth", n=n)
                if len(lane.image_ids) > 1
                else t("compare.download_single"),
                data=lambda image_id=image_id: png_with_lineage(store, image_id),
                file_name=f"chatcanvas-{lane.provider}-{image_id[:8]}.png",
                mime="image/png",
                key=f"compare_download_{image_id}",
                icon=":material/download:",
                on_click="ignore",
            )
            st.page_link(
                "app_pages/gallery.py",
                label=t("compare.open_in_gallery"),
                icon=":material/photo_library:",
                query_params={"image": image_id},
            )


def _unsaved_names(lane: UnsavedLane) -> tuple[str, str]:
    return lane.outcome.provider, lane.model


def unsaved_downloads(ctx: AppContext, run_id: str, lane: UnsavedLane) -> None:
    """Say that the lane's images were not stored, and offer each for download."""
    if isinstance(lane.outcome, ChatCanvasError):
        return  # an error costs nothing to lose; its card already explains it
    st.warning(ctx.t("images.errors.not_stored", reason=lane.reason), icon=":material/warning:")
    for n, image in enumerate(lane.outcome.images, start=1):
        mime = sniff_mime(image.data) or image.mime_type
        st.download_button(
            ctx.t("images.download_image", n=n),
            image.data,
            file_name=f"lane{lane.index + 1}_{n}.{mime.rsplit('/', 1)[-1]}",
            mime=mime,
            key=f"compare_unsaved_{run_id}_{lane.index}_{n}",
            icon=":material/download:",
        )
