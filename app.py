"""ChatCanvas router: page config, settings from the edge, sidebar, st.navigation over app_pages/."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import streamlit as st
from dotenv import dotenv_values

from components import state as K
from components.context import AppContext
from components.errors import show_error
from components.sidebar import connection_panel, language_switch
from services.catalog import load_catalog
from services.chat import ChatService
from services.chat_turns import ChatTurns
from services.errors import ChatCanvasError, ErrorKind, scrub
from services.settings import Mode, resolve_settings
from services.storage import ConversationStore, open_database

ROOT = Path(__file__).resolve().parent
SETTING_NAMES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "KAKAO_REST_API_KEY",
    "KARLO_BASE_URL",
    "DATABASE_URL",
    "ALLOW_CUSTOM_BASE_URL",
    "DAILY_BUDGET_USD",
    "MAX_LANES",
    "MAX_IMAGES_PER_LANE",
    "KARLO_MONTHLY_IMAGES",
    "ALLOWED_EMAILS",
    "ALLOWED_DOMAINS",
    "ADMIN_EMAILS",
)

st.set_page_config(page_title="ChatCanvas", page_icon="🎨", layout="wide")


def read_secrets() -> dict[str, object]:
    """st.secrets when a secrets.toml exists (Community Cloud), else nothing."""
    try:
        return {name: st.secrets[name] for name in SETTING_NAMES if name in st.secrets}
    except Exception:  # no secrets file: Streamlit raises on first access
        return {}


def auth_configured() -> bool:
    """Shared mode: the secrets hold an ``[auth]`` section for Streamlit's st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file
        return False


def read_environment() -> dict[str, str]:
    """The process environment over the values of .env (the environment wins)."""
    dotenv = {} if os.environ.get("CHATCANVAS_SKIP_DOTENV") else dotenv_values(ROOT / ".env")
    merged = {k: v for k, v in dotenv.items() if v is not None}
    merged.update({k: v for k, v in os.environ.items() if k in SETTING_NAMES})
    return merged


t = language_switch()
settings = resolve_settings(
    sidebar={
        "OPENAI_API_KEY": st.session_state.get(K.SIDEBAR_OPENAI_KEY),
        "OPENAI_BASE_URL": st.session_state.get(K.SIDEBAR_OPENAI_BASE_URL),
        "KAKAO_REST_API_KEY": st.session_state.get(K.SIDEBAR_KAKAO_KEY),
    },
    secrets=read_secrets(),
    environ=read_environment(),
    mode=Mode.SHARED if auth_configured() else Mode.LOCAL,
)
catalog = load_catalog()
try:
    db = open_database(settings.database_url)
except Exception as exc:  # a wrong DATABASE_URL, a database server that is down
    show_error(ChatCanvasError(ErrorKind.DATABASE, scrub(str(exc), settings.secrets())), t)
    st.text(settings.masked_database_url)  # plain text, never the password
    st.stop()
conversations = ConversationStore(db, settings.owner_id)
chat = ChatService(settings, catalog)
st.session_state[K.APP_CONTEXT] = AppContext(
    settings=settings,
    t=t,
    catalog=catalog,
    db=db,
    conversations=conversations,
    chat=chat,
    turns=ChatTurns(conversations, chat),
    today=date.today(),
)

pages = [
    # Chat is served at "/" and, through a hidden alias page, at "/chat".
    st.Page(
        "app_pages/chat.py",
        title=t("common.nav.chat"),
        icon=":material/chat:",
        url_path="home",
        default=True,
    ),
    st.Page(
        "app_pages/chat_alias.py", title=t("common.nav.chat"), url_path="chat", visibility="hidden"
    ),
    st.Page(
        "app_pages/studio.py",
        title=t("common.nav.studio"),
        icon=":material/auto_awesome:",
        url_path="studio",
    ),
    st.Page(
        "app_pages/compare.py",
        title=t("common.nav.compare"),
        icon=":material/compare:",
        url_path="compare",
    ),
    st.Page(
        "app_pages/gallery.py",
        title=t("common.nav.gallery"),
        icon=":material/photo_library:",
        url_path="gallery",
    ),
]
page = st.navigation(pages)
connection_panel()
page.run()
