"""Storage: one SQLAlchemy 2 database (SQLite file by default, any URL via DATABASE_URL)."""

from services.storage.conversations import (
    Conversation,
    ConversationStore,
    ConversationTotals,
    MessageStatus,
    StoredMessage,
)
from services.storage.db import Database, open_database

__all__ = [
    "Conversation",
    "ConversationStore",
    "ConversationTotals",
    "Database",
    "MessageStatus",
    "StoredMessage",
    "open_database",
]
