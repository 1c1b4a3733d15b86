"""One image in a dialog: the full image, its lineage (request, result, comparison run and vote,
Prompt Studio run), download as PNG with the lineage embedded, and delete."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from components.conversation_list import open_conversation
from components.errors import show_error
from components.flagged_image import guarded_image
from components.gallery_labels import plain, provider_label, shorten, vote_label
from components.image_card import quota_free
from components.image_edit import edit_panel, lineage_lines
from components.prompt_diff_view import revised_prompt_diff
from components.revised_prompt_send import send_from_gallery
from components.times import shown_time
from services.errors import ChatCanvasError
from services.gallery_export import png_with_lineage
from services.storage.images import ImageStore, StoredImage
from services.studio import label
from services.wording import format_cost

CHAT_PAGE = "app_pages/chat.py"


def close_detail() -> None:
    st.session_state.pop(K.GALLERY_OPEN, None)
    st.session_state.pop(K.GALLERY_CONFIRM, None)


def image_detail(ctx: AppContext, store: ImageStore, image_id: str) -> None:
    """Open the detail dialog for ``image_id`` (closing it clears the open id)."""
    dialog = st.dialog(
        ctx.t("gallery.detail.title"),
        width="large",
        icon=":material/image:",
        on_dismiss=close_detail,
    )
    dialog(_detail)(ctx, store, image_id)


def _detail(ctx: AppContext, store: ImageStore, image_id: str) -> None:
    t = ctx.t
    try:
        image = store.get_image(image_id)  # the one place full bytes are read for the screen
    except ChatCanvasError as err:  # the image folder or S3 storage failed
        show_error(err, t)
        return
    if image is None:
        st.info(t("gallery.detail.not_found"))
        return
    picture, lineage = st.columns(2)
    with picture:
        guarded_image(
            ctx,
            image.data,
            flagged=image.nsfw,
            key=f"gallery_{image.id}",
            alt=shorten(image.prompt, 200),
        )
        _actions(ctx, store, image)
        edit_panel(ctx, image.id, place="gallery")
    with lineage:
        _facts(ctx, image)
        lineage_lines(ctx, image.id)
        _request(ctx, image)
        if image.run_id:
            _compare_run(ctx, store, image)
        if image.studio_run_id:
            _studio_run(ctx, image.studio_run_id)


def _facts(ctx: AppContext, image: StoredImage) -> None:
    t = ctx.t
    st.markdown(f"**{provider_label(image.provider, t)}** · {plain(image.model)}")
    cost = format_cost(image.cost_usd, t)
    if image.cost_usd is not None and image.cost_is_estimate:
        cost = t("gallery.detail.estimate", cost=cost)
    elif image.cost_usd is None and quota_free(image.provider):
        cost = t("compare.free_quota")
    rows = [
        (t("gallery.detail.seed"), "—" if image.seed is None else str(image.seed)),
        (
            t("gallery.detail.latency"),
            "—"
            if image.latency_ms is None
            else t("images.latency", seconds=f"{image.latency_ms / 1000:.1f}"),
        ),
        (t("gallery.detail.cost"), cost),
        (
            t("gallery.detail.size"),
            f"{image.width} × {image.height}" if image.width and image.height else "—",
        ),
        (t("gallery.detail.created"), shown_time(image.created_at)),
    ]
    st.markdown("  \n".join(f"**{name}** {value}" for name, value in rows))
    if image.nsfw:
        st.warning(t("images.nsfw_flagged", score=f"{image.nsfw_score or 0:.2f}"))


def _request(ctx: AppContext, image: StoredImage) -> None:
    t = ctx.t
    st.markdown(f"**{t('images.params.prompt')}**")
    st.code(image.prompt, language=None, wrap_lines=True)
    if image.negative_prompt:
        st.markdown(f"**{t('images.params.negative_prompt')}**")
        st.code(image.negative_prompt, language=None, wrap_lines=True)
    if image.revised_prompt:
        revised_prompt_diff(ctx, image.prompt, image.revised_prompt, expanded=True)
    with st.expander(t("images.params_sent"), icon=":material/data_object:"):
        st.json(image.params)


def _compare_run(ctx: AppContext, store: ImageStore, image: StoredImage) -> None:
    t = ctx.t
    run = store.get_run(image.run_id or "")
    if run is None:
        return
    st.markdown(f"**{t('gallery.detail.run_title')}** · {shown_time(run.created_at)}")
    lines = []
    for lane in run.lanes:
        line = t(
            "gallery.detail.lane",
            n=lane.index + 1,
            provider=provider_label(lane.provider, t),
            model=plain(lane.model),
        )
        if lane.error_kind:
            line += f" — {t('gallery.detail.lane_failed')}"
        if lane.index == image.lane_index:
            line = f"**{line}** ({t('gallery.detail.this_image')})"
        lines.append(f"- {line}")
    st.markdown("\n".join(lines))
    verdict = vote_label(run.outcome, t)
    if run.outcome is not None and run.outcome.lane == image.lane_index:
        verdict += f" — {t('gallery.detail.this_image_won')}"
    st.caption(f"{t('gallery.detail.vote')}: {verdict}")
    st.page_link(
        "app_pages/compare.py",
        label=t("gallery.detail.open_comparison"),
        icon=":material/compare:",
        query_params={"run": run.id},
    )


def _studio_run(ctx: AppContext, studio_run_id: str) -> None:
    t = ctx.t
    run = ctx.chains.get_run(studio_run_id)
    with st.expander(t("gallery.detail.studio_title"), icon=":material/auto_awesome:"):
        if run is None:
            st.caption(t("gallery.detail.studio_missing"))
            return
        st.markdown(f"**{t('gallery.detail.idea')}**")
        st.markdown(plain(run.idea))
        for n, (step, result) in enumerate(zip(run.template.steps, run.steps, strict=False), 1):
            st.markdown(f"**{n}. {plain(label(step.name, t))}**")
            st.code(result.output or "—", language=None, wrap_lines=True)
        st.markdown(f"**{t('gallery.detail.final_prompt')}**")
        st.code(run.final_prompt or "—", language=None, wrap_lines=True)
        st.page_link(
            "app_pages/studio.py",
            label=t("gallery.detail.open_studio_run"),
            icon=":material/auto_awesome:",
            query_params={"run": run.id},
        )


def ask_about(image_id: str) -> None:
    """A new chat with this image attached, waiting for the question."""
    close_detail()
    open_conversation(None)
    st.session_state[K.CHAT_ASK_IMAGE] = image_id
    st.switch_page(CHAT_PAGE)


def _ask_delete() -> None:
    st.session_state[K.GALLERY_CONFIRM] = "image"


def _actions(ctx: AppContext, store: ImageStore, image: StoredImage) -> None:
    t = ctx.t
    image_id = image.id
    with st.container(horizontal=True):
        st.download_button(
            t("images.download_png"),
            data=lambda: png_with_lineage(store, image_id),
            file_name=f"chatcanvas-{image.provider}-{image_id[:8]}.png",
            mime="image/png",
            key="gallery_download_png",
            icon=":material/download:",
            on_click="ignore",
        )
        st.button(
            t("gallery.detail.delete"),
            key="gallery_delete_image",
            icon=":material/delete:",
            on_click=_ask_delete,
        )
        if st.button(
            t("gallery.detail.ask"),
            key="gallery_ask_about_image",
            icon=":material/chat:",
            help=t("gallery.detail.ask_help"),
        ):
            ask_about(image_id)
    send_from_gallery(ctx, store, image)
    if st.session_state.get(K.GALLERY_CONFIRM) != "image":
        return
    st.warning(t("gallery.detail.delete_confirm"), icon=":material/delete:")
    with st.container(horizontal=True):
        if st.button(t("common.delete"), key="gallery_confirm_delete_image", type="primary"):
            store.delete([image_id])
            selected = st.session_state.get(K.GALLERY_SELECTED, [])
            st.session_state[K.GALLERY_SELECTED] = [i for i in selected if i != image_id]
            close_detail()
            st.toast(t("gallery.deleted", count=1))
            st.rerun()  # the whole page: the grid loses the tile
        if st.button(t("common.cancel"), key="gallery_cancel_delete_image"):
            st.session_state.pop(K.GALLERY_CONFIRM, None)
            st.rerun(scope="fragment")
