"""Conversations and their messages, with usage and cost. Every row carries an owner id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime
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
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.db import Base, Database, utcnow, within_days
from services.storage.hidden_replies import HIDDEN
from services.storage.message_images import MessageImageStore


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


@dataclass(frozen=True)
class Conversation:
    id: str
    owner_id: str
    title: str
    system_prompt: str
    model: str | None
    params: dict
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: str
    role: str
    content: str
    status: MessageStatus
    model: str | None
    finish_reason: str | None
    error_kind: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: int | None
    created_at: datetime


@dataclass(frozen=True)
class ConversationTotals:
    messages: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    # True when some answered message had no known price: the total is then a lower bound
    cost_incomplete: bool


@dataclass(frozen=True)
class ChatCostDay:
    day: date  # UTC
    cost_usd: float
    messages: int
    # answered messages without a known price: the day's cost is then a lower bound
    unpriced: int


@dataclass(frozen=True)
class ConversationCost:
    id: str
    title: str
    cost_usd: float
    messages: int
    unpriced: int


def _conversation(row: ConversationRow) -> Conversation:
    values = {f.name: getattr(row, f.name) for f in fields(Conversation)}
    return Conversation(**values | {"params": dict(row.params or {})})


def _message(row: MessageRow) -> StoredMessage:
    values = {f.name: getattr(row, f.name) for f in fields(StoredMessage)}
    return StoredMessage(**values | {"status": MessageStatus(row.status)})


# The statements of a chat turn's path, built once and run on a connection, not a Session.
# SQLAlchemy then computes each one's cache key once, not on every call, and no Session's
# bookkeeping runs around them: with building the statement, that was most of the CPU of
# these small queries (a message stored: 0.92 ms of CPU, now 0.22; the newest messages read:
# 0.51, now 0.17; see docs/architecture-notes.md). Values are bound at execution.
_OWN_CONVERSATION = (
    ConversationRow.id == bindparam("cid"),
    ConversationRow.owner_id == bindparam("owner"),
)
_OWN_CONVERSATION_ROW = select(ConversationRow).where(*_OWN_CONVERSATION)
_NEWEST_CONVERSATIONS = (
    select(ConversationRow)
    .where(ConversationRow.owner_id == bindparam("owner"))
    .order_by(ConversationRow.updated_at.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_TOUCH_CONVERSATION = (
    update(ConversationRow).where(*_OWN_CONVERSATION).values(updated_at=bindparam("now"))
)
_ADD_MESSAGE = insert(MessageRow).returning(MessageRow.id)
# the SET clause: the fields given at execution
_UPDATE_MESSAGE = update(MessageRow).where(
    MessageRow.id == bindparam("mid"), MessageRow.owner_id == bindparam("owner")
)
_IN_CONVERSATION = (
    MessageRow.conversation_id == bindparam("cid"),
    MessageRow.owner_id == bindparam("owner"),
)
_SHOWN_MESSAGES = select(MessageRow).where(*_IN_CONVERSATION, MessageRow.id.not_in(HIDDEN))
_ALL_MESSAGES = _SHOWN_MESSAGES.order_by(MessageRow.id)
_NEWEST_MESSAGES = _SHOWN_MESSAGES.order_by(MessageRow.id.desc()).limit(bindparam("last"))
_TOTALS = select(
    func.count(MessageRow.id).filter(MessageRow.id.not_in(HIDDEN)),
    func.coalesce(func.sum(MessageRow.prompt_tokens), 0),
    func.coalesce(func.sum(MessageRow.completion_tokens), 0),
    func.coalesce(func.sum(MessageRow.cost_usd), 0.0),
    func.count(MessageRow.id).filter(
        MessageRow.completion_tokens.is_not(None), MessageRow.cost_usd.is_(None)
    ),
).where(*_IN_CONVERSATION)
# a new message's values before it is given its own (what the table's defaults would set)
_NEW_MESSAGE = {
    "content": "",
    "status": MessageStatus.COMPLETE.value,
    "model": None,
    "finish_reason": None,
    "error_kind": None,
    "prompt_tokens": None,
    "completion_tokens": None,
    "cost_usd": None,
    "latency_ms": None,
}

# what a message update may change (role, conversation and creation time never change)
_FIXED = {"id", "conversation_id", "role", "created_at"}  # set when a message is added
_MESSAGE_FIELDS = {f.name for f in fields(StoredMessage)} - _FIXED


def auto_title(text: str, limit: int = 60) -> str:
    """A title from the first message: its first line, cut at a word near ``limit``."""
    lines = text.strip().splitlines()
    line = " ".join(lines[0].split()) if lines else ""
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] if " " in line[:limit] else line[:limit]
    return cut + "…"


class ConversationStore:
    """All reads and writes of conversations for one owner go through here."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id
        self.attachments = MessageImageStore(db, owner_id)  # images attached to messages

    # -- conversations -------------------------------------------------------------------
    def create(
        self,
        *,
        title: str = "",
        system_prompt: str = "",
        model: str | None = None,
        params: dict | None = None,
    ) -> Conversation:
        row = ConversationRow(
            id=uuid.uuid4().hex,
            owner_id=self.owner_id,
            title=title,
            system_prompt=system_prompt,
            model=model,
            params=params or {},
        )
        with self.db.session() as s, s.begin():
            s.add(row)
        return _conversation(row)

    def get(self, conversation_id: str) -> Conversation | None:
        own = {"cid": conversation_id, "owner": self.owner_id}
        with self.db.engine.connect() as c:
            row = c.execute(_OWN_CONVERSATION_ROW, own).one_or_none()
        return _conversation(row) if row is not None else None

    def list(self, query: str = "", *, limit: int = 50, offset: int = 0) -> list[Conversation]:
        """Newest first; ``query`` matches titles and message text (case-insensitive)."""
        if not query.strip():  # the sidebar's list, and the input's check for a send in place
            bound = {"owner": self.owner_id, "limit": limit, "offset": offset}
            with self.db.engine.connect() as c:
                return [_conversation(r) for r in c.execute(_NEWEST_CONVERSATIONS, bound)]
        stmt = select(ConversationRow).where(ConversationRow.owner_id == self.owner_id)
        if query.strip():
            # % and _ typed by the user are literal characters, not wildcards
            escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            in_messages = select(MessageRow.conversation_id).where(
                MessageRow.owner_id == self.owner_id,
                MessageRow.content.ilike(pattern, escape="\\"),
            )
            stmt = stmt.where(
                or_(
                    ConversationRow.title.ilike(pattern, escape="\\"),
                    ConversationRow.id.in_(in_messages),
                )
            )
        stmt = stmt.order_by(ConversationRow.updated_at.desc()).limit(limit).offset(offset)
        with self.db.session() as s:
            return [_conversation(r) for r in s.scalars(stmt)]

    def update(self, conversation_id: str, **fields: object) -> None:
        """Change title, system_prompt, model or params."""
        allowed = {
            k: v for k, v in fields.items() if k in {"title", "system_prompt", "model", "params"}
        }
        with self.db.session() as s, s.begin():
            s.execute(
                update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id, ConversationRow.owner_id == self.owner_id
                )
                .values(**allowed, updated_at=utcnow())
            )

    def delete(self, conversation_id: str) -> None:
        doomed = MessageRow.conversation_id == conversation_id
        with self.attachments.deleting(doomed), self.db.session() as s, s.begin():
            s.execute(delete(MessageRow).where(doomed, MessageRow.owner_id == self.owner_id))
            s.execute(
                delete(ConversationRow).where(
                    ConversationRow.id == conversation_id, ConversationRow.owner_id == self.owner_id
                )
            )

    def insert(self, conversation: dict, messages: list[dict]) -> Conversation:
        """Create a conversation (title, system_prompt, model, params) with its messages (role,
        content and message fields) in one transaction: all or nothing. The values are stored
        as given: an import checks them first (services/storage/conversation_files.py)."""
        row = ConversationRow(id=uuid.uuid4().hex, owner_id=self.owner_id, **conversation)
        rows = [
            MessageRow(conversation_id=row.id, owner_id=self.owner_id, **message)
            for message in messages
        ]
        with self.db.session() as s, s.begin():
            s.add(row)
            s.flush()
            s.add_all(rows)
        return _conversation(row)

    # -- messages ------------------------------------------------------------------------
    def add_message(
        self, conversation_id: str, role: str, content: str, **fields: object
    ) -> StoredMessage:
        """Append and commit at once, so a crash loses at most the reply in flight. Raises
        KeyError for an unknown conversation, another owner's included."""
        extra = {k: v for k, v in fields.items() if k in _MESSAGE_FIELDS}
        values = _NEW_MESSAGE | {"content": content} | extra
        values |= {"conversation_id": conversation_id, "role": role, "created_at": utcnow()}
        own = {"cid": conversation_id, "owner": self.owner_id}
        with self.db.engine.begin() as c:
            touched = c.execute(_TOUCH_CONVERSATION, own | {"now": values["created_at"]})
            if not touched.rowcount:  # never a row of ours inside someone else's conversation
                raise KeyError(conversation_id)
            message_id = c.scalar(_ADD_MESSAGE, values | {"owner_id": self.owner_id})
        return StoredMessage(id=message_id, **values | {"status": MessageStatus(values["status"])})

    def update_message(self, message_id: int, **fields: object) -> None:
        values = {k: v for k, v in fields.items() if k in _MESSAGE_FIELDS}
        if values:  # a reply's writer saves it as it streams: each save, these fields alone
            with self.db.engine.begin() as c:
                c.execute(_UPDATE_MESSAGE, values | {"mid": message_id, "owner": self.owner_id})

    def delete_messages_from(self, conversation_id: str, message_id: int) -> None:
        """Delete ``message_id`` and everything after it (regenerate, edit and resend)."""
        doomed = (MessageRow.conversation_id == conversation_id, MessageRow.id >= message_id)
        with self.attachments.deleting(*doomed), self.db.session() as s, s.begin():
            s.execute(delete(MessageRow).where(*doomed, MessageRow.owner_id == self.owner_id))

    def messages(self, conversation_id: str, *, last: int | None = None) -> list[StoredMessage]:
        """Messages in order (earlier versions of a reply left out); with ``last``, only the
        newest ``last`` of them."""
        own = {"cid": conversation_id, "owner": self.owner_id}
        if last is None:
            with self.db.engine.connect() as c:
                return [_message(r) for r in c.execute(_ALL_MESSAGES, own)]
        with self.db.engine.connect() as c:
            newest = list(c.execute(_NEWEST_MESSAGES, own | {"last": last}))
        return [_message(r) for r in reversed(newest)]

    def totals(self, conversation_id: str) -> ConversationTotals:
        """Counts and sums computed in the database, not by loading every message; the
        messages shown are counted, the cost of earlier versions of a reply is kept."""
        own = {"cid": conversation_id, "owner": self.owner_id}
        with self.db.engine.connect() as c:
            count, prompt, completion, cost, unpriced = c.execute(_TOTALS, own).one()
        return ConversationTotals(
            int(count), int(prompt), int(completion), float(cost), bool(unpriced)
        )

    def cost_by_day(
        self, since: date | None = None, until: date | None = None
    ) -> list[ChatCostDay]:
        """Chat spending per UTC day (oldest first), summed in the database; ``until``
        includes that day."""
        day = func.date(MessageRow.created_at)
        unpriced = func.count(MessageRow.id).filter(
            MessageRow.completion_tokens.is_not(None), MessageRow.cost_usd.is_(None)
        )
        stmt = self._in_period(
            select(
                day,
                func.coalesce(func.sum(MessageRow.cost_usd), 0.0),
                func.count(MessageRow.id),
                unpriced,
            ),
            since,
            until,
        )
        with self.db.session() as s:
            rows = s.execute(stmt.group_by(day).order_by(day)).all()
        return [
            ChatCostDay(
                d if isinstance(d, date) else date.fromisoformat(str(d)[:10]),
                float(cost),
                int(count),
                int(missing),
            )
            for d, cost, count, missing in rows
        ]

    def most_expensive(
        self, *, limit: int = 10, since: date | None = None, until: date | None = None
    ) -> list[ConversationCost]:
        """The conversations that cost the most over the period (messages in it only; earlier
        versions of a reply cost, the messages shown are counted)."""
        cost = func.coalesce(func.sum(MessageRow.cost_usd), 0.0)
        shown = func.count(MessageRow.id).filter(MessageRow.id.not_in(HIDDEN))
        unpriced = func.count(MessageRow.id).filter(
            MessageRow.completion_tokens.is_not(None), MessageRow.cost_usd.is_(None)
        )
        stmt = self._in_period(
            select(ConversationRow.id, ConversationRow.title, cost, shown, unpriced)
            .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
            .where(ConversationRow.owner_id == self.owner_id),
            since,
            until,
        )
        stmt = (
            stmt.group_by(ConversationRow.id, ConversationRow.title)
            .order_by(cost.desc(), unpriced.desc(), ConversationRow.id)
            .limit(limit)
        )
        with self.db.session() as s:
            rows = s.execute(stmt).all()
        return [ConversationCost(i, title, float(c), int(n), int(u)) for i, title, c, n, u in rows]

    def _in_period(self, stmt, since: date | None, until: date | None):
        stmt = stmt.where(MessageRow.owner_id == self.owner_id)
        return within_days(stmt, MessageRow.created_at, since, until)
