"""The owner's side of share links: make a read-only link to the item on screen, see the
links of this kind, revoke one (it stops working at once)."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from components.context import AppContext, app_context
from components.times import shown_time
from services.shares import ShareKind

NEW_LINK = "share_new_{kind}_{target}"  # session key: the link just made (shown once)


def share_url(token: str) -> str:
    """The link as a viewer opens it: this server's address, page /shared, the token."""
    current = urlsplit(st.context.url or "")
    base = f"{current.scheme}://{current.netloc}" if current.netloc else ""
    return f"{base}/shared?token={token}"


def create_link(kind: ShareKind, target_id: str) -> None:
    """Button callback: a new link, kept in the session so it is shown (once) to its maker."""
    ctx = app_context()
    token = ctx.shares.create(kind, target_id)
    st.session_state[NEW_LINK.format(kind=kind, target=target_id)] = share_url(token)


def revoke_link(link_id: str, kind: ShareKind, target_id: str) -> None:
    """Button callback: the link stops working at once."""
    app_context().shares.revoke(link_id)
    st.session_state.pop(NEW_LINK.format(kind=kind, target=target_id), None)


def share_panel(ctx: AppContext, kind: ShareKind, target_id: str | None) -> None:
    """A 'Shared links' expander: a button for a new link to ``target_id`` (when there is
    one), the new link once, and the owner's live links of ``kind`` with Revoke."""
    t = ctx.t
    links = ctx.shares.links(kind)
    new_key = NEW_LINK.format(kind=kind, target=target_id)
    # A key of its own: the label counts the links, and a changed label would otherwise make
    # a new, closed panel right after "Share" or "Revoke", hiding the new link.
    with st.expander(
        t("shares.panel", count=len(links)), key=f"share_panel_{kind}", icon=":material/share:"
    ):
        st.caption(t("shares.who_can_open"))
        if target_id is not None:
            st.button(
                t(f"shares.create.{kind}"),
                key=f"share_create_{kind}",
                icon=":material/add_link:",
                on_click=create_link,
                args=(kind, target_id),
            )
        if st.session_state.get(new_key):
            st.code(st.session_state[new_key], language=None, wrap_lines=True)
            st.caption(t("shares.copy_now"))
        if not links:
            st.caption(t("shares.none"))
        for link in links:
            left, right = st.columns([4, 1], vertical_alignment="center")
            when = t("shares.created", when=shown_time(link.created_at))
            left.markdown(f"{link.title}  \n:small[{when}]")
            right.button(
                t("shares.revoke"),
                key=f"share_revoke_{link.id[:16]}",
                icon=":material/link_off:",
                on_click=revoke_link,
                args=(link.id, kind, link.target_id),
            )
