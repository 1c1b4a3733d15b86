"""Share links: the owner makes a read-only link to a conversation, a studio run or a
comparison; anyone who may open the app and holds the link sees that one item, nothing else.

Tokens are 256 random bits (``secrets.token_urlsafe(32)``); only their SHA-256 is stored.
An unknown token, a revoked one and one whose item was deleted all answer None, the same way.
The shared item is read for the link's owner by this service alone: the viewer's own
stores and owner id are never touched or switched.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update

from services.storage.chains import ChainStore
from services.storage.conversations import ConversationStore
from services.storage.db import Database, utcnow
from services.storage.images import CompareRun, ImageStore, StoredImage
from services.storage.shares import ShareLinkRow
from services.studio import ChainRun

TOKEN_BYTES = 32  # 256 bits, well above the 128 the links must have
MAX_TOKEN_CHARS = 100  # anything longer is not one of ours: answered without a lookup
TITLE_CHARS = 80


class ShareKind(StrEnum):
    CONVERSATION = "conversation"
    STUDIO_RUN = "studio_run"
    COMPARISON = "comparison"


@dataclass(frozen=True)
class ShareLink:
    """One of the owner's links as listed for them (the token itself is not kept)."""

    id: str  # the token's hash: names the link for revoking, cannot be turned into the token
    kind: ShareKind
    target_id: str
    title: str
    created_at: datetime


@dataclass(frozen=True)
class SharedMessage:
    role: str
    content: str
    model: str | None


@dataclass(frozen=True)
class SharedConversation:
    """A conversation's title and messages; not its system prompt or settings."""

    title: str
    messages: tuple[SharedMessage, ...]


@dataclass(frozen=True)
class SharedStudioRun:
    run: ChainRun


@dataclass(frozen=True)
class SharedComparison:
    """A comparison with its lanes and vote; ``get_image`` reads only this run's images."""

    run: CompareRun
    _images: ImageStore = field(repr=False)

    def get_image(self, image_id: str) -> StoredImage | None:
        if not any(image_id in lane.image_ids for lane in self.run.lanes):
            return None
        return self._images.get_image(image_id)


Shared = SharedConversation | SharedStudioRun | SharedComparison


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


class ShareService:
    """One owner's share links, and opening any link by its token."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id

    def create(self, kind: ShareKind, target_id: str) -> str:
        """A new link to the owner's item; returns its token (shown once). Raises LookupError
        when the owner has no such item."""
        kind = ShareKind(kind)
        if self._title(self.owner_id, kind, target_id) is None:
            raise LookupError(f"no {kind} {target_id!r}")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.db.session() as s:
            s.add(
                ShareLinkRow(
                    token_hash=token_hash(token),
                    owner_id=self.owner_id,
                    kind=str(kind),
                    target_id=target_id,
                )
            )
            s.commit()
        return token

    def links(self, kind: ShareKind | None = None) -> list[ShareLink]:
        """The owner's live links (newest first), with the current title of their item;
        links whose item was deleted are left out."""
        stmt = select(ShareLinkRow).where(
            ShareLinkRow.owner_id == self.owner_id, ShareLinkRow.revoked_at.is_(None)
        )
        if kind is not None:
            stmt = stmt.where(ShareLinkRow.kind == str(kind))
        with self.db.session() as s:
            rows = s.scalars(stmt.order_by(ShareLinkRow.created_at.desc())).all()
        links = []
        for row in rows:
            title = self._title(self.owner_id, ShareKind(row.kind), row.target_id)
            if title is not None:
                links.append(
                    ShareLink(
                        row.token_hash, ShareKind(row.kind), row.target_id, title, row.created_at
                    )
                )
        return links

    def revoke(self, link_id: str) -> bool:
        """Revoke one of the owner's links, at once. False when the owner has no such live
        link (another owner's link is left alone)."""
        stmt = (
            update(ShareLinkRow)
            .where(
                ShareLinkRow.token_hash == link_id,
                ShareLinkRow.owner_id == self.owner_id,
                ShareLinkRow.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
        with self.db.session() as s:
            changed = s.execute(stmt).rowcount
            s.commit()
        return bool(changed)

    def open(self, token: str) -> Shared | None:
        """The item a live link points to, read for the link's owner; None for an unknown,
        revoked or malformed token, or an item since deleted (all alike)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        with self.db.session() as s:
            row = s.get(ShareLinkRow, token_hash(token))
        if row is None or row.revoked_at is not None:
            return None
        return self._load(row.owner_id, ShareKind(row.kind), row.target_id)

    # -- the link owner's item, read-only ------------------------------------------------------
    def _load(self, owner: str, kind: ShareKind, target_id: str) -> Shared | None:
        if kind is ShareKind.CONVERSATION:
            store = ConversationStore(self.db, owner)
            conversation = store.get(target_id)
            if conversation is None:
                return None
            messages = tuple(
                SharedMessage(m.role, m.content, m.model)
                for m in store.messages(target_id)
                if m.role in ("user", "assistant") and m.content.strip()
            )
            return SharedConversation(conversation.title, messages)
        if kind is ShareKind.STUDIO_RUN:
            run = ChainStore(self.db, owner).get_run(target_id)
            return SharedStudioRun(run) if run is not None else None
        images = ImageStore(self.db, owner)
        compare_run = images.get_run(target_id)
        return SharedComparison(compare_run, images) if compare_run is not None else None

    def _title(self, owner: str, kind: ShareKind, target_id: str) -> str | None:
        """A short label of the owner's item, None when it does not exist (for them)."""
        if kind is ShareKind.CONVERSATION:
            conversation = ConversationStore(self.db, owner).get(target_id)
            label = (conversation.title or target_id) if conversation else None
        elif kind is ShareKind.STUDIO_RUN:
            run = ChainStore(self.db, owner).get_run(target_id)
            label = run.idea if run else None
        else:
            compare_run = ImageStore(self.db, owner).get_run(target_id)
            label = compare_run.prompt if compare_run else None
        return _short(label) if label is not None else None
