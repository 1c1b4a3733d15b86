"""Sign-in, refusal and the signed-in user's sidebar panel (shared mode only)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAuthError

from services.i18n import Translator
from services.identity import SignedInUser


def sign_in_page(t: Translator, providers: list[str | None]) -> None:
    """The only page an anonymous visitor sees: what signing in is for, and a button per
    configured provider (``None`` is the single provider of a flat ``[auth]`` section)."""
    st.title(t("auth.sign_in_title"))
    st.write(t("auth.sign_in_intro"))
    if st.query_params.get("token"):  # a share link: signing in lands on the home page
        st.info(t("auth.shared_link"), icon=":material/link:")
    for index, provider in enumerate(providers):
        label = t("auth.sign_in_with", provider=provider) if provider else t("auth.sign_in")
        if st.button(
            label,
            key="auth_login" if index == 0 else f"auth_login_{provider}",
            type="primary",
            icon=":material/login:",
        ):
            try:
                st.login(provider)
            except StreamlitAuthError:  # an incomplete [auth] section, or Authlib missing
                st.error(t("auth.misconfigured"), icon=":material/error:")


def refusal_page(t: Translator, user: SignedInUser) -> None:
    """A signed-in person the allow-lists do not name: why, and a way out; nothing else."""
    st.title(t("auth.refused_title"))
    st.write(t("auth.refused_body", who=user.email or user.display_name))
    if user.email and user.trusted_email is None:
        st.caption(t("auth.refused_unverified"))
    sign_out_button(t, key="auth_refused_logout")


def account_panel(t: Translator, user: SignedInUser) -> None:
    """The signed-in user's name and a sign-out button, in the sidebar."""
    with st.sidebar.container(key="account_panel"):
        st.markdown(t("auth.signed_in_as", name=user.display_name))
        if user.email and user.email != user.display_name:
            st.caption(user.email)
        sign_out_button(t, key="auth_logout")


def sign_out_button(t: Translator, *, key: str) -> None:
    if st.button(t("auth.sign_out"), key=key, icon=":material/logout:"):
        st.logout()
