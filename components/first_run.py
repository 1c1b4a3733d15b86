"""The first-run panel (no OpenAI key yet: where keys are made, the two ways to add one, the
demo) and the demo banner. Drawn by app.py above every page."""

from __future__ import annotations

import streamlit as st

from components import state as K
from services.i18n import Translator
from services.settings import KEY_PAGES, Mode, Settings

OPENED_BY_URL = ("c", "run")  # a conversation; a comparison or a studio run


def first_run_panel(settings: Settings, t: Translator, *, demo_offered: bool) -> None:
    """A friendly welcome while there is no OpenAI key: links to the OpenAI and Kakao key
    pages, how to add a key for this session (sidebar) or for good (.env, secrets.toml), and,
    when ``demo_offered``, a button that turns this session into the demo."""
    if settings.openai_api_key or settings.demo:
        return
    with st.container(border=True, key="first_run_panel"):
        st.markdown(f"#### :material/waving_hand: {t('welcome.title')}")
        st.markdown(t("welcome.intro"))
        openai, kakao = st.columns(2)
        openai.link_button(
            t("welcome.openai_link"),
            KEY_PAGES["OPENAI_API_KEY"],
            icon=":material/key:",
            type="primary",
            width="stretch",
        )
        kakao.link_button(
            t("welcome.kakao_link"),
            KEY_PAGES["KAKAO_REST_API_KEY"],
            icon=":material/palette:",
            width="stretch",
        )
        st.caption(
            t("welcome.kakao_set" if settings.kakao_rest_api_key else "welcome.kakao_optional")
        )
        st.markdown(f"**{t('welcome.add_title')}**")
        if settings.mode is Mode.LOCAL:
            st.markdown(f"- {t('welcome.add_session')}\n- {t('welcome.add_files')}")
        else:  # a visitor of a shared deployment has no .env of their own
            st.markdown(t("welcome.add_session_shared"))
        if demo_offered:
            st.markdown(t("welcome.demo_offer"))
            st.button(
                t("welcome.try_demo"),
                key="try_demo",
                icon=":material/play_circle:",
                on_click=_switch_demo,
                args=(True,),
            )


def demo_banner(t: Translator, *, leavable: bool) -> None:
    """Says plainly that every answer and image is made up; ``leavable``: the demo was started
    from the first-run panel, so this session may go back."""
    with st.container(key="demo_banner"):
        st.warning(t("welcome.demo_banner"), icon=":material/science:")
        if leavable:
            st.button(
                t("welcome.leave_demo"),
                key="leave_demo",
                icon=":material/logout:",
                on_click=_switch_demo,
                args=(False,),
            )


def _switch_demo(on: bool) -> None:
    """Button callback: this session into or out of the demo. What the URL had open (a
    conversation, a comparison, a studio run) belongs to the other database: it is closed."""
    if on:
        st.session_state[K.DEMO] = True
    else:
        st.session_state.pop(K.DEMO, None)
    for opened in OPENED_BY_URL:
        st.query_params.pop(opened, None)
