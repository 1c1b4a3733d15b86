"""The conversations' tables, and the statements of a chat turn's path built on them once
(see :mod:`services.storage.conversations`, which reads and writes through them). Every row
carries an owner id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.db import Base, utcnow
from services.storage.hidden_replies import HIDDEN


class MessageStatus(StrEnum):
    """How a message ended; stored as its text."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # the stream was cut, or is still being written
    STOPPED = "stopped"  # the user stopped the reply
    ERROR = "error"  # a user message that was never answered


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    # model ids are typed by the user or sent by a provider: no length is theirs to keep
    model: Mapped[str | None] = mapped_column(Text, nullable=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_conversations_owner_updated", "owner_id", "updated_at"),)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.COMPLETE.value)
    model: Mapped[str | None] = mapped_column(Text, nullable=True)
    finish_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # as sent
    error_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The statements of a chat turn's path, built once and run on a connection, not a Session.
# SQLAlchemy then computes each one's cache key once, not on every call, and no Session's
# bookkeeping runs around them: with building the statement, that was most of the CPU of
# these small queries (a message stored: 0.92 ms of CPU, now 0.24; the newest messages read:
# 0.51, now 0.17; see docs/architecture-notes.md). Values are bound at execution.
OWN_CONVERSATION = (
    ConversationRow.id == bindparam("cid"),
    ConversationRow.owner_id == bindparam("owner"),
)
ADD_CONVERSATION = insert(ConversationRow)
# the SET clause: the fields given at execution
UPDATE_CONVERSATION = update(ConversationRow).where(*OWN_CONVERSATION)
OWN_CONVERSATION_ROW = select(ConversationRow).where(*OWN_CONVERSATION)
NEWEST_CONVERSATIONS = (
    select(ConversationRow)
    .where(ConversationRow.owner_id == bindparam("owner"))
    .order_by(ConversationRow.updated_at.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
TOUCH_CONVERSATION = (
    update(ConversationRow).where(*OWN_CONVERSATION).values(updated_at=bindparam("now"))
)
ADD_MESSAGE = insert(MessageRow)  # its id: inserted_primary_key (no RETURNING: SQLite < 3.35)
# the SET clause: the fields given at execution
UPDATE_MESSAGE = update(MessageRow).where(
    MessageRow.id == bindparam("mid"), MessageRow.owner_id == bindparam("owner")
)
IN_CONVERSATION = (
    MessageRow.conversation_id == bindparam("cid"),
    MessageRow.owner_id == bindparam("owner"),
)
SHOWN_MESSAGES = select(MessageRow).where(*IN_CONVERSATION, MessageRow.id.not_in(HIDDEN))
ALL_MESSAGES = SHOWN_MESSAGES.order_by(MessageRow.id)
NEWEST_MESSAGES = SHOWN_MESSAGES.order_by(MessageRow.id.desc()).limit(bindparam("last"))
TOTALS = select(
    func.count(MessageRow.id).filter(MessageRow.id.not_in(HIDDEN)),
    func.coalesce(func.sum(MessageRow.prompt_tokens), 0),
    func.coalesce(func.sum(MessageRow.completion_tokens), 0),
    func.coalesce(func.sum(MessageRow.cost_usd), 0.0),
    func.count(MessageRow.id).filter(
        MessageRow.completion_tokens.is_not(None), MessageRow.cost_usd.is_(None)
    ),
).where(*IN_CONVERSATION)
