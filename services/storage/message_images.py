"""Images attached to a user's chat message, stored with it.

One row per image, in the order attached, with a small WebP thumbnail for the transcript; the
full image is in the blob store (services/storage/blobs.py), read only to send it or export
it. Every read and write is scoped to the owner; deleting the message (edit and resend,
deleting the conversation) deletes its images: the rows by cascade, the blobs through
:meth:`MessageImageStore.deleting`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.chat_images import ChatImage
from services.images.thumbnails import make_thumbnail
from services.storage.blobs import CHAT, blob_key, forget_blobs, put_blobs, read_blob
from services.storage.db import Base, Database, utcnow


class MessageImageRow(Base):
    __tablename__ = "message_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(Text())
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(Text())  # the bytes, in the blob store
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def _of_messages(*columns):
    """The owner's images of the messages ``ids`` (bound at execution), with ``columns``, by
    message and in order. Built once, as a chat turn reads them (see conversation_tables.py)."""
    row = MessageImageRow
    return (
        select(row.message_id, *columns)
        .where(
            row.owner_id == bindparam("owner"), row.message_id.in_(bindparam("ids", expanding=True))
        )
        .order_by(row.message_id, row.position)
    )


_IMAGES = _of_messages(
    MessageImageRow.mime, MessageImageRow.blob_key, MessageImageRow.width, MessageImageRow.height
)
_THUMBNAILS = _of_messages(
    MessageImageRow.position,
    MessageImageRow.thumbnail,
    MessageImageRow.width,
    MessageImageRow.height,
)


@dataclass(frozen=True)
class MessageThumbnail:
    """What the transcript shows of an attached image."""

    message_id: int
    position: int
    thumbnail: bytes | None  # WebP; None when none could be made (the image is still sent)
    width: int
    height: int


class MessageImageStore:
    """The images attached to one owner's chat messages."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id
        self.blobs = db.blobs

    def add(self, message_id: int, images: Sequence[ChatImage]) -> None:
        """Keep ``images`` (already checked) with the message, in this order."""
        rows = []
        for position, image in enumerate(images):
            thumb, _, _ = make_thumbnail(image.data)
            rows.append(
                MessageImageRow(
                    owner_id=self.owner_id,
                    message_id=message_id,
                    position=position,
                    mime=image.mime,
                    width=image.width,
                    height=image.height,
                    blob_key=blob_key(CHAT, self.owner_id, uuid.uuid4().hex, image.mime),
                    thumbnail=thumb,
                )
            )
        puts = [(r.blob_key, i.data, i.mime) for r, i in zip(rows, images, strict=True)]
        with put_blobs(self.blobs, puts), self.db.session() as s, s.begin():
            s.add_all(rows)

    def images(self, message_ids: Iterable[int]) -> dict[int, list[ChatImage]]:
        """The full images of these messages (only the owner's), by message id, in order,
        read from the blob store (an image whose file is gone is left out)."""
        found = self._by_message(
            message_ids,
            _IMAGES,
            lambda _id, mime, key, width, height: (mime, read_blob(self.blobs, key), width, height),
        )
        return {
            message_id: [ChatImage(*image) for image in images if image[1] is not None]
            for message_id, images in found.items()
        }

    @contextmanager
    def deleting(self, *where) -> Iterator[None]:
        """Around a transaction that deletes the messages ``where`` selects (conditions on
        ``messages``): the blobs of their images are deleted once it has committed."""
        from services.storage.conversations import MessageRow

        doomed = select(MessageRow.id).where(MessageRow.owner_id == self.owner_id, *where)
        with self.db.session() as s:
            keys = list(
                s.scalars(
                    select(MessageImageRow.blob_key).where(
                        MessageImageRow.owner_id == self.owner_id,
                        MessageImageRow.message_id.in_(doomed),
                    )
                )
            )
        yield
        forget_blobs(self.blobs, keys)

    def thumbnails(self, message_ids: Iterable[int]) -> dict[int, list[MessageThumbnail]]:
        """The thumbnails of these messages (only the owner's), by message id, in order;
        the full images are not read."""
        return self._by_message(message_ids, _THUMBNAILS, MessageThumbnail)

    def _by_message(self, message_ids: Iterable[int], stmt, build) -> dict[int, list]:
        """``build(message_id, *columns)`` for each row of ``stmt`` (an ``_of_messages``) for
        these messages (only the owner's images), grouped by message id, in order."""
        ids = list(message_ids)
        if not ids:
            return {}
        found: dict[int, list] = {}
        with self.db.engine.connect() as c:
            for message_id, *values in c.execute(stmt, {"owner": self.owner_id, "ids": ids}):
                found.setdefault(message_id, []).append(build(message_id, *values))
        return found
