"""Sign-in, refusal and the signed-in user's sidebar panel (shared mode only)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAuthError

from components import state as K
from services.i18n import Translator
from services.identity import SignedInUser

# Streamlit's sign-in always comes back to the app's home page, so the address a signed-out
# visitor opened (a share link, a bookmark of /studio?run=...) is kept in the tab's
# sessionStorage, which survives the trip to the provider, and reopened once signed in. Only
# an address of this same site is ever followed (no open redirect).
_DESTINATION_KEY = "chatcanvas.after_sign_in"
_REMEMBER_DESTINATION = f"""<script>
sessionStorage.setItem("{_DESTINATION_KEY}", location.pathname + location.search);
</script>"""
_RETURN_TO_DESTINATION = f"""<script>
(() => {{
  const kept = sessionStorage.getItem("{_DESTINATION_KEY}");
  if (!kept) return;
  sessionStorage.removeItem("{_DESTINATION_KEY}");
  const url = new URL(kept, location.origin);
  if (url.origin === location.origin && url.href !== location.href) location.replace(url.href);
}})();
</script>"""


def sign_in_page(t: Translator, providers: list[str | None]) -> None:
    """The only page an anonymous visitor sees: what signing in is for, and a button per
    configured provider (``None`` is the single provider of a flat ``[auth]`` section)."""
    st.title(t("auth.sign_in_title"))
    st.html(_REMEMBER_DESTINATION, unsafe_allow_javascript=True)
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


def return_to_destination() -> None:
    """Once per session of a signed-in person: reopen the address they opened before signing
    in, if the sign-in page kept one in this tab."""
    if not st.session_state.get(K.SIGN_IN_RETURNED):
        st.session_state[K.SIGN_IN_RETURNED] = True
        st.html(_RETURN_TO_DESTINATION, unsafe_allow_javascript=True)


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
