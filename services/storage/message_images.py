"""Images attached to a user's chat message, stored with it.

One row per image, in the order attached, with a small WebP thumbnail for the transcript (the
full image is read only to send it or export it). Every read and write is scoped to the owner;
deleting the message (edit and resend, deleting the conversation) deletes its images.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from services.chat_images import ChatImage
from services.images.thumbnails import make_thumbnail
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
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


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
                    data=image.data,
                    thumbnail=thumb,
                )
            )
        with self.db.session() as s, s.begin():
            s.add_all(rows)

    def images(self, message_ids: Iterable[int]) -> dict[int, list[ChatImage]]:
        """The full images of these messages (only the owner's), by message id, in order."""
        row = MessageImageRow
        return self._by_message(
            message_ids,
            (row.mime, row.data, row.width, row.height),
            lambda _message_id, mime, data, width, height: ChatImage(mime, data, width, height),
        )

    def thumbnails(self, message_ids: Iterable[int]) -> dict[int, list[MessageThumbnail]]:
        """The thumbnails of these messages (only the owner's), by message id, in order;
        the full images are not read."""
        row = MessageImageRow
        return self._by_message(
            message_ids, (row.position, row.thumbnail, row.width, row.height), MessageThumbnail
        )

    def _by_message(self, message_ids: Iterable[int], columns: tuple, build) -> dict[int, list]:
        """``build(message_id, *columns)`` for each of these messages' images (only the
        owner's), grouped by message id, in order."""
        ids = list(message_ids)
        if not ids:
            return {}
        row = MessageImageRow
        stmt = (
            select(row.message_id, *columns)
            .where(row.owner_id == self.owner_id, row.message_id.in_(ids))
            .order_by(row.message_id, row.position)
        )
        found: dict[int, list] = {}
        with self.db.session() as s:
            for message_id, *values in s.execute(stmt):
                found.setdefault(message_id, []).append(build(message_id, *values))
        return found
