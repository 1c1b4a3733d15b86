"""Sidebar pieces shown on every page: language switch and the connection panel."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import app_context, connection_fingerprint
from components.errors import show_error
from services.errors import MIN_SECRET_CHARS, ChatCanvasError
from services.i18n import LANGUAGES, Translator, language_from_locale
from services.settings import Mode, Settings, key_too_short

LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
LANG_PARAM = "lang"  # ?lang=ko
# Korean wraps between words (eojeol), not between syllables: "프롬프트", never "프롬/프트".
# A word longer than the line still breaks rather than overflowing.
KOREAN_LINE_BREAKS = (
    "<style>.stApp, .stApp * {word-break: keep-all !important; overflow-wrap: break-word;}</style>"
)


def language_switch() -> Translator:
    """The UI language: the one in the URL (``?lang=ko``), else the user's choice, else the
    browser's locale, else English. Once chosen (or opened from a link that names it), the
    URL keeps it on every page, so a reload, a bookmark or a shared link opens in it."""
    in_url = st.query_params.get(LANG_PARAM)
    if K.LANG not in st.session_state:
        st.session_state[K.LANG] = (
            in_url if in_url in LANGUAGES else language_from_locale(st.context.locale)
        )
        st.session_state[K.LANG_IN_URL] = in_url is not None  # a wrong one is corrected
    lang = st.sidebar.radio(
        "Language / 언어",
        LANGUAGES,
        format_func=LANGUAGE_NAMES.get,
        key=K.LANG,
        horizontal=True,
        on_change=_remember_language,
    )
    # Each page of st.navigation starts with a bare URL: put the language back
    if st.session_state.get(K.LANG_IN_URL) and in_url != lang:
        st.query_params[LANG_PARAM] = lang
    if lang == "ko":
        st.html(KOREAN_LINE_BREAKS)
    return Translator(lang)


def _remember_language() -> None:
    st.session_state[K.LANG_IN_URL] = True


def connection_panel() -> None:
    """Keys for this browser session (masked), where each key comes from, Test connection."""
    ctx = app_context()
    t, settings = ctx.t, ctx.settings
    with st.sidebar.expander(t("settings.connection"), expanded=settings.openai_api_key is None):
        st.text_input(
            t("settings.openai_key"),
            type="password",
            key=K.SIDEBAR_OPENAI_KEY,
            help=t("settings.openai_key_help"),
        )
        if settings.allow_custom_base_url:  # a shared deployment allows it only when told to
            st.text_input(
                t("settings.base_url"),
                key=K.SIDEBAR_OPENAI_BASE_URL,
                help=t("settings.base_url_help"),
                placeholder="https://api.openai.com/v1",
            )
        st.text_input(
            t("settings.kakao_key"),
            type="password",
            key=K.SIDEBAR_KAKAO_KEY,
            help=t("settings.kakao_key_help"),
        )
        for key in (K.SIDEBAR_OPENAI_KEY, K.SIDEBAR_KAKAO_KEY):
            if key_too_short(st.session_state.get(key)):
                st.error(t("settings.key_too_short", min=MIN_SECRET_CHARS), icon=":material/key:")
        if settings.openai_api_key:
            source = t(f"settings.source.{settings.sources.get('OPENAI_API_KEY', 'environment')}")
            st.caption(
                t("settings.key_from", masked=settings.openai_api_key.masked(), source=source)
            )
            st.caption(base_url_source(settings, t))
        else:
            st.caption(t("settings.no_key"))
        ignored = settings.ignored.get("OPENAI_BASE_URL")
        if ignored == "sidebar" and settings.allow_custom_base_url:
            st.caption(t("settings.base_url_ignored_sidebar"))
        elif ignored and ignored != "sidebar" and settings.mode is Mode.LOCAL:
            st.caption(t("settings.base_url_ignored", source=t(f"settings.source.{ignored}")))
        if st.button(t("settings.test_connection"), key="test_connection", width="stretch"):
            refresh_models()
        live = ctx.live_models()
        error = connection_error()
        if error is not None:
            show_error(error, t)
        elif live is not None:
            st.success(t("settings.connected", count=len(live)))


def base_url_source(settings: Settings, t: Translator) -> str:
    """Where the base URL came from; its value only to whoever set it (a shared deployment's
    own URL may name an internal host, and visitors need not see it)."""
    source = settings.sources.get("OPENAI_BASE_URL")
    if not settings.openai_base_url or source is None:
        return t("settings.base_url_default")
    if source == "sidebar" or settings.mode is Mode.LOCAL:
        return t(
            "settings.base_url_from",
            url=settings.openai_base_url,
            source=t(f"settings.source.{source}"),
        )
    return t("settings.base_url_deployer", source=t(f"settings.source.{source}"))


def refresh_models() -> None:
    """List the models the key can use; remember them (or the error) for this session."""
    ctx = app_context()
    fingerprint = connection_fingerprint(ctx.settings)
    errors = st.session_state.setdefault(K.CONNECTION_ERROR, {})
    errors.pop(fingerprint, None)
    try:
        models = ctx.chat.list_models()
    except ChatCanvasError as err:
        errors[fingerprint] = err
        return
    st.session_state.setdefault(K.LIVE_MODELS, {})[fingerprint] = models


def connection_error() -> ChatCanvasError | None:
    """The error of the last model listing for the current key and base URL, if any."""
    fingerprint = connection_fingerprint(app_context().settings)
    return st.session_state.get(K.CONNECTION_ERROR, {}).get(fingerprint)


def ensure_models_listed() -> None:
    """List models once per (key, base URL) in a session so the picker shows live data."""
    ctx = app_context()
    if not ctx.settings.openai_api_key or ctx.live_models() is not None:
        return
    if connection_error() is None:
        refresh_models()
