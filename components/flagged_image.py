"""An image the provider flagged as possibly unsafe (Karlo's NSFW check) is shown blurred,
with one click to see it; the choice holds for this browser session."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from services.images.thumbnails import blurred_preview


def _reveal(key: str) -> None:
    st.session_state.setdefault(K.FLAGGED_SHOWN, set()).add(key)


def hidden(flagged: bool | None, key: str) -> bool:
    """The image named ``key`` is flagged and the person has not asked to see it."""
    return bool(flagged) and key not in st.session_state.get(K.FLAGGED_SHOWN, set())


def guarded_image(
    ctx: AppContext,
    data: bytes,
    *,
    flagged: bool | None,
    key: str,
    caption: str | None = None,
    alt: str | None = None,
) -> None:
    """``data`` as an image; blurred behind a "Show image" button while ``flagged`` and the
    person has not asked to see it (``key`` names this image on this page; ``alt`` is what a
    screen reader says of it)."""
    if not hidden(flagged, key):
        st.image(data, caption=caption, width="stretch", alt=alt)
        return
    t = ctx.t
    preview = blurred_preview(data)
    if preview is not None:
        st.image(preview, caption=t("images.flagged.hidden"), width="stretch", alt=alt)
    else:
        st.caption(t("images.flagged.hidden"))
    st.button(
        t("images.flagged.show"),
        key=f"flagged_show_{key}",
        icon=":material/visibility:",
        on_click=_reveal,
        args=(key,),
    )
