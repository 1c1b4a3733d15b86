"""Conversations and their messages, with usage and cost. Every row carries an owner id."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select

from services.storage.conversation_tables import (
    ADD_CONVERSATION,
    ADD_MESSAGE,
    ALL_MESSAGES,
    NEWEST_CONVERSATIONS,
    NEWEST_MESSAGES,
    OWN_CONVERSATION_ROW,
    TOTALS,
    TOUCH_CONVERSATION,
    UPDATE_CONVERSATION,
    UPDATE_MESSAGE,
    ConversationRow,
    MessageRow,
    MessageStatus,
)
from services.storage.db import Database, utcnow, within_days
from services.storage.hidden_replies import HIDDEN
from services.storage.message_images import MessageImageStore


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


# what a message update may change (role, conversation and creation time never change)
_FIXED = {"id", "conversation_id", "role", "created_at"}  # set when a message is added
_MESSAGE_FIELDS = {f.name for f in fields(StoredMessage)} - _FIXED
# a new message's values before it is given its own: the table's defaults (none per row)
_NEW_MESSAGE = {
    name: column.default.arg if (column := MessageRow.__table__.c[name]).default else None
    for name in _MESSAGE_FIELDS
}


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

    def _own(self, conversation_id: str) -> dict:
        """The bound values of conversation_tables' statements for this owner's conversation."""
        return {"cid": conversation_id, "owner": self.owner_id}

    # -- conversations -------------------------------------------------------------------
    def create(
        self,
        *,
        title: str = "",
        system_prompt: str = "",
        model: str | None = None,
        params: dict | None = None,
    ) -> Conversation:
        now = utcnow()
        conversation = Conversation(
            id=uuid.uuid4().hex,
            owner_id=self.owner_id,
            title=title,
            system_prompt=system_prompt,
            model=model,
            params=dict(params or {}),
            created_at=now,
            updated_at=now,
        )
        with self.db.engine.begin() as c:  # a new conversation's first message: its turn's path
            c.execute(ADD_CONVERSATION, asdict(conversation))
        return conversation

    def get(self, conversation_id: str) -> Conversation | None:
        own = self._own(conversation_id)
        with self.db.engine.connect() as c:
            row = c.execute(OWN_CONVERSATION_ROW, own).one_or_none()
        return _conversation(row) if row is not None else None

    def list(self, query: str = "", *, limit: int = 50, offset: int = 0) -> list[Conversation]:
        """Newest first; ``query`` matches titles and message text (case-insensitive)."""
        if not query.strip():  # the sidebar's list, and the input's check for a send in place
            bound = {"owner": self.owner_id, "limit": limit, "offset": offset}
            with self.db.engine.connect() as c:
                return [_conversation(r) for r in c.execute(NEWEST_CONVERSATIONS, bound)]
        # % and _ typed by the user are literal characters, not wildcards
        escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        in_messages = select(MessageRow.conversation_id).where(
            MessageRow.owner_id == self.owner_id,
            MessageRow.content.ilike(pattern, escape="\\"),
        )
        stmt = select(ConversationRow).where(
            ConversationRow.owner_id == self.owner_id,
            or_(
                ConversationRow.title.ilike(pattern, escape="\\"),
                ConversationRow.id.in_(in_messages),
            ),
        )
        stmt = stmt.order_by(ConversationRow.updated_at.desc()).limit(limit).offset(offset)
        with self.db.session() as s:
            return [_conversation(r) for r in s.scalars(stmt)]

    def update(self, conversation_id: str, **fields: object) -> None:
        """Change title, system_prompt, model or params."""
        allowed = {
            k: v for k, v in fields.items() if k in {"title", "system_prompt", "model", "params"}
        }
        own = self._own(conversation_id)
        with self.db.engine.begin() as c:  # a first message's title: its turn's path
            c.execute(UPDATE_CONVERSATION, allowed | {"updated_at": utcnow()} | own)

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
        own = self._own(conversation_id)
        with self.db.engine.begin() as c:
            touched = c.execute(TOUCH_CONVERSATION, own | {"now": values["created_at"]})
            if not touched.rowcount:  # never a row of ours inside someone else's conversation
                raise KeyError(conversation_id)
            added = c.execute(ADD_MESSAGE, values | {"owner_id": self.owner_id})
        message_id = added.inserted_primary_key[0]
        return StoredMessage(id=message_id, **values | {"status": MessageStatus(values["status"])})

    def update_message(self, message_id: int, **fields: object) -> None:
        values = {k: v for k, v in fields.items() if k in _MESSAGE_FIELDS}
        if values:  # a reply's writer saves it as it streams: each save, these fields alone
            with self.db.engine.begin() as c:
                c.execute(UPDATE_MESSAGE, values | {"mid": message_id, "owner": self.owner_id})

    def delete_messages_from(self, conversation_id: str, message_id: int) -> None:
        """Delete ``message_id`` and everything after it (regenerate, edit and resend)."""
        doomed = (MessageRow.conversation_id == conversation_id, MessageRow.id >= message_id)
        with self.attachments.deleting(*doomed), self.db.session() as s, s.begin():
            s.execute(delete(MessageRow).where(*doomed, MessageRow.owner_id == self.owner_id))

    def messages(self, conversation_id: str, *, last: int | None = None) -> list[StoredMessage]:
        """Messages in order (earlier versions of a reply left out); with ``last``, only the
        newest ``last`` of them."""
        own = self._own(conversation_id)
        if last is None:
            with self.db.engine.connect() as c:
                return [_message(r) for r in c.execute(ALL_MESSAGES, own)]
        with self.db.engine.connect() as c:
            newest = list(c.execute(NEWEST_MESSAGES, own | {"last": last}))
        return [_message(r) for r in reversed(newest)]

    def totals(self, conversation_id: str) -> ConversationTotals:
        """Counts and sums computed in the database, not by loading every message; the
        messages shown are counted, the cost of earlier versions of a reply is kept."""
        own = self._own(conversation_id)
        with self.db.engine.connect() as c:
            count, prompt, completion, cost, unpriced = c.execute(TOTALS, own).one()
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
