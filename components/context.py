"""The per-rerun application context that app.py builds and pages read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import streamlit as st

from components import state as K
from services.app_services import Services
from services.budget import Budget
from services.catalog import Catalog, LiveModel
from services.chat import ChatService
from services.chat_turns import ChatTurns
from services.comparison import ComparisonService
from services.grid import GridService
from services.i18n import Translator
from services.identity import SignedInUser
from services.images import ImageProvider
from services.ledger import CostLedger
from services.settings import Settings
from services.shares import ShareService
from services.speech import SpeechService
from services.storage import ConversationStore
from services.storage.chains import ChainStore
from services.storage.images import ImageStore
from services.studio import ChainEngine


@dataclass
class AppContext:
    settings: Settings  # owner_id is the signed-in user's (or "local")
    t: Translator
    catalog: Catalog
    services: Services  # built by app.py for this run's owner; pages never build stores
    today: date
    user: SignedInUser | None = None  # None in local mode
    is_admin: bool = False
    # redraws the sidebar's budget line in place (set by app.py once it is drawn)
    redraw_budget: Callable[[], None] = lambda: None

    @property
    def budget(self) -> Budget:
        return self.services.budget

    @property
    def shares(self) -> ShareService:
        return self.services.shares

    @property
    def conversations(self) -> ConversationStore:
        return self.services.conversations

    @property
    def chains(self) -> ChainStore:
        return self.services.chains

    @property
    def images(self) -> ImageStore:
        return self.services.images

    @property
    def comparisons(self) -> ComparisonService:
        return self.services.comparisons

    @property
    def grids(self) -> GridService:
        return self.services.grids

    @property
    def ledger(self) -> CostLedger:
        return self.services.ledger

    @property
    def chat(self) -> ChatService:
        return self.services.chat

    @property
    def turns(self) -> ChatTurns:
        return self.services.turns

    @property
    def speech(self) -> SpeechService:
        return self.services.speech

    @property
    def chain_engine(self) -> ChainEngine:
        return self.services.chain_engine

    def image_provider(self, name: str) -> ImageProvider:
        return self.services.image_provider(name)

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
