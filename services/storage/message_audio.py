"""Audio made for a message (read aloud), kept so that playing it again costs nothing.

One row per (message, model, voice, speed): a reply read with another voice or speed is made
once more and kept beside the first. Deleting the message (edit and resend, deleting the
conversation) deletes its audio. The bytes stay in the database like the gallery's images.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.db import Base, Database, utcnow


class MessageAudioRow(Base):
    __tablename__ = "message_audio"
    __table_args__ = (UniqueConstraint("message_id", "model", "voice", "speed"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(Text())
    voice: Mapped[str] = mapped_column(Text())
    speed: Mapped[float] = mapped_column(Float)
    mime: Mapped[str] = mapped_column(Text())
    data: Mapped[bytes] = mapped_column(LargeBinary)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class StoredAudio:
    message_id: int
    model: str
    voice: str
    speed: float
    mime: str
    data: bytes
    cost_usd: float | None


class MessageAudioStore:
    """The read-aloud audio of one owner's messages."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id

    def get(self, message_id: int, model: str, voice: str, speed: float) -> StoredAudio | None:
        """The audio made for this message with these settings, if any."""
        row = MessageAudioRow
        stmt = select(row).where(
            row.owner_id == self.owner_id,
            row.message_id == message_id,
            row.model == model,
            row.voice == voice,
            row.speed == speed,
        )
        with self.db.session() as s:
            found = s.execute(stmt).scalars().first()
            return _stored(found) if found is not None else None

    def put(self, audio: StoredAudio) -> StoredAudio:
        """Keep ``audio``; when the same audio was kept meanwhile (two tabs), that one stays."""
        row = MessageAudioRow(
            owner_id=self.owner_id,
            message_id=audio.message_id,
            model=audio.model,
            voice=audio.voice,
            speed=audio.speed,
            mime=audio.mime,
            data=audio.data,
            cost_usd=audio.cost_usd,
        )
        with self.db.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                kept = self.get(audio.message_id, audio.model, audio.voice, audio.speed)
                return kept or audio
        return audio


def _stored(row: MessageAudioRow) -> StoredAudio:
    return StoredAudio(
        message_id=row.message_id,
        model=row.model,
        voice=row.voice,
        speed=row.speed,
        mime=row.mime,
        data=row.data,
        cost_usd=row.cost_usd,
    )
