"""The action "Send the revised prompt to the other lanes" (services/revised_prompt.py): a
button on a stored Compare lane's card and in the gallery's image detail, the Compare page's
run of the new comparison (after the safety check, like Generate), and the note above a
comparison made that way."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.compare_run import RESULTS_KEY, show_comparison
from components.context import AppContext
from components.errors import show_error
from components.moderation_panel import cleared, held_panel, resumed
from services.errors import ChatCanvasError
from services.revised_prompt import PromptSource, revised_prompt_offered, revised_prompt_spec
from services.storage.images import CompareRun, ImageStore, StoredImage, StoredLane

COMPARE_PAGE = "app_pages/compare.py"
WHERE = "revised"  # the safety check's place


def ask_to_send(image_id: str) -> None:
    """Ask the Compare page to send this image's revised prompt on, and go there (the card
    is also drawn by the studio's "Generate here"; from Compare this is a rerun)."""
    st.session_state[K.COMPARE_SEND_REVISED] = {"image": image_id, "go": True}
    st.session_state.pop(K.GALLERY_OPEN, None)  # a gallery detail dialog stays closed
    st.session_state.pop(K.GALLERY_CONFIRM, None)
    st.switch_page(COMPARE_PAGE)


def send_buttons(ctx: AppContext, store: ImageStore, run: CompareRun, lane: StoredLane) -> None:
    """On a stored lane's card: one button per image with a revised prompt, when the run has
    other lanes to send it to."""
    t = ctx.t
    for n, image_id in enumerate(lane.image_ids, start=1):
        image = store.get_image(image_id)
        if image is None or not revised_prompt_offered(run, image):
            continue
        if st.button(
            t("revised.send_nth", n=n) if len(lane.image_ids) > 1 else t("revised.send"),
            key=f"revised_send_{image_id}",
            help=t("revised.send_help"),
            icon=":material/forward:",
        ):
            ask_to_send(image_id)


def send_from_gallery(ctx: AppContext, store: ImageStore, image: StoredImage) -> None:
    """In the gallery's image detail: the same action (the Compare page runs it)."""
    run = store.get_run(image.run_id) if image.run_id else None
    if run is None or not revised_prompt_offered(run, image):
        return
    if st.button(
        ctx.t("revised.send"),
        key="gallery_send_revised",
        help=ctx.t("revised.send_help"),
        icon=":material/forward:",
    ):
        ask_to_send(image.id)


def send_revised_if_asked(ctx: AppContext, chat_model: str) -> None:
    """On the Compare page: run the comparison a send button asked for (after the safety
    check, when it is on), at the place of the results, and open it; or draw the check that
    holds it. ``chat_model`` translates for Karlo when the revised prompt is not English."""
    asked = st.session_state.get(K.COMPARE_SEND_REVISED)
    if not asked:
        return
    if not (asked.pop("go", False) or resumed(WHERE)):
        held_panel(ctx, WHERE)
        return
    try:
        spec = revised_prompt_spec(ctx.comparisons, asked["image"], chat_model=chat_model)
    except (KeyError, ValueError):
        st.session_state.pop(K.COMPARE_SEND_REVISED, None)
        st.warning(ctx.t("revised.gone"), icon=":material/warning:")
        return
    except ChatCanvasError as err:  # the translation for Karlo failed: nothing was sent
        show_error(err, ctx.t)
        return
    studio = ctx.chains.get_run(spec.studio_run_id) if spec.studio_run_id else None
    if not cleared(ctx, spec, WHERE, also=(studio.idea,) if studio else ()):
        return
    st.session_state.pop(K.COMPARE_SEND_REVISED, None)
    try:
        with st.container(key=RESULTS_KEY):
            show_comparison(ctx, spec, on_stored=_open_when_stored)
    except ChatCanvasError as err:  # a spending limit: nothing was sent
        show_error(err, ctx.t)
    else:
        st.rerun()


def _open_when_stored(run_id: str) -> None:
    # the URL names the new run; the page then fills its prompt boxes from it (shown_run)
    st.query_params["run"] = run_id


def prompt_source_note(ctx: AppContext, run: CompareRun) -> None:
    """Above a comparison whose prompt was another image's revised prompt: where it came
    from, with a link to that comparison (its lanes record it in their params)."""
    source = next(
        (found for lane in run.lanes if (found := PromptSource.from_params(lane.params))), None
    )
    if source is None:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(ctx.t("revised.from", n=source.lane_index + 1))
        st.page_link(
            COMPARE_PAGE,
            label=ctx.t("revised.open_source"),
            icon=":material/history:",
            query_params={"run": source.run_id},
        )
