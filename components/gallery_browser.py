"""The gallery's image browser: filters, a page of thumbnails, selection and paging.

Only the current page's thumbnails are read (LIMIT/OFFSET in SQL) and only ids are kept in
session state; full image bytes are read one image at a time by the detail view and the
downloads, when asked for.
"""

from __future__ import annotations

import math
from datetime import date

import streamlit as st

from components import state as K
from components.context import AppContext
from components.flagged_image import hidden
from components.gallery_labels import plain, provider_label, shorten
from services.gallery_export import export_zip
from services.i18n import Translator
from services.images import PROVIDERS
from services.images.thumbnails import blurred_preview
from services.storage.images import ImageStore, ImageThumb

PAGE_SIZE = 24
# provider, model, text, dates, clear: the date range needs ~240 px for its placeholder
DATE_ROOMY_COLUMNS = [1.8, 1.8, 2.2, 3.3, 1.3]
COLUMNS = 4
PAGE_PARAM = "page"  # the page number lives in the URL, so reload and bookmarks keep it
PERSIST = "session"  # filters survive a look at another tab or page


# -- paging ----------------------------------------------------------------------------------
def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def current_page(pages: int) -> int:
    """The page named in the URL, within 1..pages."""
    try:
        page = int(st.query_params.get(PAGE_PARAM, 1))
    except ValueError:
        page = 1
    return min(max(page, 1), pages)


def go_to_page(page: int) -> None:
    if page > 1:
        st.query_params[PAGE_PARAM] = str(page)
    elif PAGE_PARAM in st.query_params:
        del st.query_params[PAGE_PARAM]
    st.session_state.pop(K.GALLERY_CONFIRM, None)


def pager(ctx: AppContext, page: int, pages: int) -> None:
    """Previous / page n of m / next."""
    if pages <= 1:
        return
    t = ctx.t
    left, middle, right = st.columns([1, 2, 1], vertical_alignment="center")
    left.button(
        t("gallery.page.previous"),
        key="gallery_prev",
        icon=":material/chevron_left:",
        disabled=page <= 1,
        on_click=go_to_page,
        args=(page - 1,),
        width="stretch",
    )
    middle.markdown(
        t("gallery.page.of", page=page, pages=pages), text_alignment="center", width="stretch"
    )
    right.button(
        t("gallery.page.next"),
        key="gallery_next",
        icon=":material/chevron_right:",
        disabled=page >= pages,
        on_click=go_to_page,
        args=(page + 1,),
        width="stretch",
    )


# -- filters ---------------------------------------------------------------------------------
def _filters_changed() -> None:
    go_to_page(1)


def _provider_changed() -> None:
    st.session_state[K.GALLERY_MODEL] = None
    go_to_page(1)


def _clear_filters() -> None:
    st.session_state[K.GALLERY_PROVIDER] = None
    st.session_state[K.GALLERY_MODEL] = None
    st.session_state[K.GALLERY_TEXT] = ""
    st.session_state[K.GALLERY_DATES] = ()
    go_to_page(1)


def _model_choices(ctx: AppContext, provider: str | None) -> list[str]:
    names = [provider] if provider else list(PROVIDERS)
    return [m for name in names for m in ctx.image_provider(name).models()]


def gallery_filters(ctx: AppContext) -> dict:
    """Provider, model, prompt text and dates; returns the store's filter arguments."""
    t = ctx.t
    provider_col, model_col, text_col, dates_col, clear_col = st.columns(
        DATE_ROOMY_COLUMNS, vertical_alignment="bottom"
    )
    provider = provider_col.selectbox(
        t("images.gallery.filter_provider"),
        list(PROVIDERS),
        index=None,
        format_func=lambda p: provider_label(p, t),
        placeholder=t("gallery.filter.all_providers"),
        key=K.GALLERY_PROVIDER,
        persist_state=PERSIST,
        on_change=_provider_changed,
    )
    model = model_col.selectbox(
        t("images.gallery.filter_model"),
        _model_choices(ctx, provider),
        index=None,
        placeholder=t("gallery.filter.all_models"),
        key=K.GALLERY_MODEL,
        persist_state=PERSIST,
        accept_new_options=True,
        help=t("gallery.filter.model_help"),
        on_change=_filters_changed,
    )
    text = text_col.text_input(
        t("images.gallery.filter_text"),
        key=K.GALLERY_TEXT,
        persist_state=PERSIST,
        placeholder=t("gallery.filter.text_placeholder"),
        on_change=_filters_changed,
    )
    dates = dates_col.date_input(
        t("images.gallery.filter_dates"),
        value=(),
        max_value=ctx.today,
        key=K.GALLERY_DATES,
        persist_state=PERSIST,
        format="YYYY-MM-DD",
        on_change=_filters_changed,
    )
    clear_col.button(
        t("gallery.filter.clear"),
        key="gallery_clear_filters",
        icon=":material/filter_alt_off:",
        on_click=_clear_filters,
        help=t("gallery.filter.clear_help"),
        width="stretch",
    )
    days = [d for d in dates if isinstance(d, date)] if isinstance(dates, tuple | list) else []
    return {
        "provider": provider,
        "model": model,
        "text": text,
        # one date picked (the range not finished yet): that day only
        "since": days[0] if days else None,
        "until": days[-1] if days else None,
    }


# -- selection -------------------------------------------------------------------------------
def selected_ids() -> list[str]:
    return list(st.session_state.get(K.GALLERY_SELECTED, []))


def _set_selected(ids: list[str]) -> None:
    st.session_state[K.GALLERY_SELECTED] = list(dict.fromkeys(ids))


def _toggle(image_id: str) -> None:
    ids = [i for i in selected_ids() if i != image_id]
    if st.session_state.get(K.GALLERY_PICK.format(id=image_id)):
        ids.append(image_id)
    _set_selected(ids)


def _select_page(ids: list[str]) -> None:
    _set_selected([*selected_ids(), *ids])


def _clear_selection() -> None:
    _set_selected([])
    st.session_state.pop(K.GALLERY_CONFIRM, None)


def _ask_confirm(what: str) -> None:
    st.session_state[K.GALLERY_CONFIRM] = what


def _cancel_confirm() -> None:
    st.session_state.pop(K.GALLERY_CONFIRM, None)


def _delete_selected(store: ImageStore, t: Translator) -> None:
    deleted = store.delete(selected_ids())
    _clear_selection()
    st.toast(t("gallery.deleted", count=deleted))


def selection_bar(ctx: AppContext, store: ImageStore, page_ids: list[str], total: int) -> None:
    """Count, select page / clear, and what to do with the ticked images."""
    t = ctx.t
    ids = selected_ids()
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(t("images.gallery.count", count=total))
        if ids:
            st.caption(t("gallery.selection.count", count=len(ids)))
        st.space("stretch")
        if page_ids and not set(page_ids) <= set(ids):
            st.button(
                t("gallery.selection.select_page"),
                key="gallery_select_page",
                icon=":material/select_all:",
                on_click=_select_page,
                args=(page_ids,),
            )
        if ids:
            st.button(
                t("gallery.selection.clear"),
                key="gallery_clear_selection",
                icon=":material/deselect:",
                on_click=_clear_selection,
            )
            chosen = tuple(ids)
            st.download_button(
                t("images.download_zip"),
                data=lambda: export_zip(store, chosen),
                file_name="chatcanvas-images.zip",
                mime="application/zip",
                key="gallery_export_zip",
                icon=":material/folder_zip:",
                on_click="ignore",
            )
            st.button(
                t("gallery.selection.delete"),
                key="gallery_delete_selected",
                icon=":material/delete:",
                on_click=_ask_confirm,
                args=("selection",),
            )
    if ids and st.session_state.get(K.GALLERY_CONFIRM) == "selection":
        with st.container(border=True):
            st.warning(t("images.gallery.delete_confirm", count=len(ids)), icon=":material/delete:")
            with st.container(horizontal=True):
                st.button(
                    t("common.delete"),
                    key="gallery_confirm_delete_selected",
                    type="primary",
                    on_click=_delete_selected,
                    args=(store, t),
                )
                st.button(t("common.cancel"), key="gallery_cancel_delete", on_click=_cancel_confirm)


# -- the grid --------------------------------------------------------------------------------
def _open(image_id: str) -> None:
    st.session_state[K.GALLERY_OPEN] = image_id
    st.session_state.pop(K.GALLERY_CONFIRM, None)


def _tile(ctx: AppContext, thumb: ImageThumb, ticked: bool) -> None:
    """One image: a square thumbnail that opens the detail when clicked, the model on one
    line, two lines of the prompt, and its checkbox; every tile the same height."""
    t = ctx.t
    with st.container(border=True, key=f"gallery_tile_{thumb.id}"):
        with st.container(key=f"gallery_thumb_{thumb.id}"):
            if thumb.thumbnail:
                shown = thumb.thumbnail
                if hidden(thumb.nsfw, f"gallery_{thumb.id}"):  # seen after a click, in detail
                    shown = blurred_preview(thumb.thumbnail) or b""
                st.image(shown, width="stretch", alt=shorten(thumb.prompt, 120))
            else:
                st.caption(t("gallery.tile.no_preview"))
            st.button(  # laid over the picture (TILE_STYLE): the whole thumbnail opens it
                t("gallery.tile.open"),
                key=f"gallery_open_{thumb.id}",
                on_click=_open,
                args=(thumb.id,),
            )
        flag = ":material/warning: " if thumb.nsfw else ""
        st.caption(f"{flag}{provider_label(thumb.provider, t)} · {plain(thumb.model)}")
        with st.container(key=f"gallery_prompt_{thumb.id}"):
            st.markdown(
                plain(shorten(thumb.prompt, 70)),
                help=plain(thumb.prompt) if len(thumb.prompt) > 70 else None,
            )
        pick = K.GALLERY_PICK.format(id=thumb.id)
        st.session_state[pick] = ticked  # the checkbox mirrors the id list
        st.checkbox(t("gallery.tile.select"), key=pick, on_change=_toggle, args=(thumb.id,))


# Tiles of one height: a square picture (cropped to fill), the model on one line with an
# ellipsis, the prompt clamped to two lines; the "Details" button covers the picture.
TILE_STYLE = """<style>
[class*="st-key-gallery_thumb_"] { position: relative; aspect-ratio: 1 / 1; overflow: hidden;
  justify-content: center; }
[class*="st-key-gallery_thumb_"] [data-testid="stImage"] img { aspect-ratio: 1 / 1;
  object-fit: cover; width: 100%; }
[class*="st-key-gallery_open_"] { position: absolute; inset: 0; width: 100%; height: 100%;
  margin: 0; z-index: 1; }
[class*="st-key-gallery_open_"] [data-testid="stButton"] { width: 100%; height: 100%; }
[class*="st-key-gallery_thumb_"] [data-testid="stButton"] button { width: 100%; height: 100%;
  opacity: 0; cursor: zoom-in; }
[class*="st-key-gallery_thumb_"] [data-testid="stButton"] button:focus-visible { opacity: 1;
  background: transparent; color: transparent; outline: 3px solid #4a55c4; }
[class*="st-key-gallery_tile_"] [data-testid="stCaptionContainer"] p { white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; word-break: normal; }
[class*="st-key-gallery_prompt_"] [data-testid="stMarkdownContainer"] p { display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; min-height: 3em;
  line-height: 1.5em; margin: 0; }
</style>"""


def image_grid(ctx: AppContext, thumbs: list[ImageThumb]) -> None:
    """The page's tiles, COLUMNS to a row."""
    ticked = set(selected_ids())
    st.html(TILE_STYLE)
    for start in range(0, len(thumbs), COLUMNS):
        row = st.columns(COLUMNS)
        for column, thumb in zip(row, thumbs[start : start + COLUMNS], strict=False):
            with column:
                _tile(ctx, thumb, thumb.id in ticked)
