"""Edit a stored image (issue #11.4), on a Compare lane's card and in the gallery's detail:
an instruction, an optional mask and more reference images go to the edit service; the
result is shown beside its parent. The lineage lines say what an image was derived from and
list its edits.

Nothing typed or uploaded is lost on failure: the widgets keep their values (keys per
image), the error is drawn under them until the next try. The safety check of the
instruction is the Compare one (``moderation_panel``), held and approved per image."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from components.flagged_image import hidden
from components.gallery_labels import shorten
from components.moderation_panel import edit_cleared, held_panel, resumed
from services.errors import ChatCanvasError
from services.image_edits import EditAsk, edit_error_text
from services.images.thumbnails import blurred_preview
from services.markdown_safety import escape_markdown
from services.storage.image_tables import ImageThumb

REFERENCE_TYPES = ["png", "jpg", "jpeg", "webp", "gif"]


def _slot(image_id: str) -> dict:
    """This image's edit state: the last result's ids or the last error (small)."""
    return st.session_state.setdefault(K.IMAGE_EDITS, {}).setdefault(image_id, {})


def _where(image_id: str) -> str:
    return f"edit_{image_id}"


def edit_panel(ctx: AppContext, image_id: str, *, place: str) -> None:
    """The "Edit this image" expander under ``image_id``; ``place`` keeps its widgets apart
    from the same image's elsewhere on the page."""
    t = ctx.t
    key = f"image_edit_{place}_{image_id}"
    slot = _slot(image_id)
    with st.expander(
        t("edits.action"),
        icon=":material/edit:",
        expanded=bool(slot),
        key=f"{key}_open",  # kept open across reruns (an upload, the dialog redrawn)
        on_change="rerun",
    ):
        instruction = st.text_area(
            t("edits.instruction"),
            key=f"{key}_instruction",
            placeholder=t("edits.instruction_placeholder"),
        )
        mask = st.file_uploader(
            t("edits.mask"), type=["png"], key=f"{key}_mask", help=t("edits.mask_help")
        )
        if mask is not None:  # said by the server: the upload has arrived
            st.caption(t("edits.with_mask", name=escape_markdown(mask.name)))
        references = st.file_uploader(
            t("edits.references"),
            type=REFERENCE_TYPES,
            accept_multiple_files=True,
            key=f"{key}_references",
            help=t("edits.references_help"),
        )
        clicked = st.button(
            t("edits.run"), key=f"{key}_run", type="primary", icon=":material/auto_fix_high:"
        )
        if clicked or resumed(_where(image_id)):
            _run(ctx, image_id, instruction, mask, references or [])
        else:
            held_panel(ctx, _where(image_id))  # a flagged instruction waits for a choice
        if "error" in slot:
            st.error(
                edit_error_text(slot["error"], t, quote=escape_markdown), icon=":material/error:"
            )
            st.caption(t("edits.kept"))
        elif slot.get("made"):
            _beside_parent(ctx, image_id, slot["made"])


def _run(ctx: AppContext, image_id: str, instruction: str, mask, references) -> None:
    t = ctx.t
    slot = _slot(image_id)
    slot.pop("error", None)
    if not instruction.strip():
        st.warning(t("edits.empty"), icon=":material/edit:")
        return
    if not edit_cleared(ctx, _where(image_id), instruction):
        return  # held: the panel says why and offers to proceed
    ask = EditAsk(
        image_id,
        instruction,
        mask=mask.getvalue() if mask is not None else None,
        references=tuple((f.name, f.getvalue()) for f in references),
    )
    try:
        with st.spinner(t("edits.running")):
            saved = ctx.services.image_edits().edit(ask)
    except ChatCanvasError as err:
        slot["error"] = err
        return
    slot["made"] = list(saved.image_ids)
    st.toast(t("edits.made"), icon=":material/check:")


def _beside_parent(ctx: AppContext, parent_id: str, made: list[str]) -> None:
    t = ctx.t
    edits = ctx.services.image_edits()
    parent = edits.edits.thumb(parent_id)
    shown = [thumb for i in made if (thumb := edits.edits.thumb(i)) is not None]
    if parent is None or not shown:
        return
    columns = st.columns(1 + len(shown))
    _thumb(columns[0], parent, t("edits.parent"))
    for column, thumb in zip(columns[1:], shown, strict=True):
        _thumb(column, thumb, t("edits.result"))
        column.page_link(
            "app_pages/gallery.py",
            label=t("edits.open"),
            icon=":material/photo_library:",
            query_params={"image": thumb.id},
        )


def _thumb(place, thumb: ImageThumb, caption: str | None = None, width="stretch") -> None:
    """A stored image's thumbnail, blurred while flagged as the gallery's tiles are."""
    if not thumb.thumbnail:
        return
    shown = thumb.thumbnail
    if hidden(thumb.nsfw, f"gallery_{thumb.id}"):
        shown = blurred_preview(thumb.thumbnail) or b""
    place.image(shown, caption=caption, width=width, alt=shorten(thumb.prompt, 120))


def lineage_lines(ctx: AppContext, image_id: str) -> None:
    """In the gallery's detail: "derived from" (or "the parent is gone") and the edits made
    from this image, each a button that opens it."""
    t = ctx.t
    lineage = ctx.services.image_edits().lineage(image_id)
    if lineage.parent is not None:
        st.markdown(f"**{t('edits.derived_from')}**")
        _thumb_button(lineage.parent, "parent")
    elif lineage.parent_gone:
        st.caption(t("edits.parent_gone"))
    if lineage.edits:
        st.markdown(f"**{t('edits.edits_title')}** ({len(lineage.edits)})")
        with st.container(horizontal=True):
            for thumb in lineage.edits:
                _thumb_button(thumb, "child")


def _thumb_button(thumb: ImageThumb, role: str) -> None:
    with st.container(width=120):
        _thumb(st, thumb, width=96)
        label = escape_markdown(thumb.prompt[:40]) or thumb.id[:8]
        if st.button(label, key=f"image_edit_lineage_{role}_{thumb.id}"):
            st.session_state[K.GALLERY_OPEN] = thumb.id
            st.rerun()  # the whole page: the dialog opens on that image
