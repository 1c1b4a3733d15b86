"""The per-rerun application context that app.py builds and pages read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from components import state as K
from services.budget import Budget
from services.catalog import Catalog, LiveModel
from services.chat import ChatService
from services.chat_turns import ChatTurns
from services.i18n import Translator
from services.settings import Settings
from services.shares import ShareService
from services.storage import ConversationStore, Database


@dataclass
class AppContext:
    settings: Settings
    t: Translator
    catalog: Catalog
    db: Database
    conversations: ConversationStore
    chat: ChatService
    turns: ChatTurns
    today: date
    budget: Budget
    shares: ShareService

    def live_models(self) -> list[LiveModel] | None:
        """The models the current key/base URL listed, if the connection was tested."""
        return st.session_state.get(K.LIVE_MODELS, {}).get(connection_fingerprint(self.settings))


def connection_fingerprint(settings: Settings) -> tuple[str, str]:
    """Identifies a (base URL, key) pair without keeping the key itself as a dict key."""
    key = settings.openai_api_key.reveal() if settings.openai_api_key else ""
    return (settings.openai_base_url or "", str(hash(key)))


def app_context() -> AppContext:
    """The context app.py set for this rerun."""
    return st.session_state[K.APP_CONTEXT]
