"""The table of earlier versions of a reply (see reply_versions.py): a regenerated reply is
kept here as hidden, with the user message it answers, instead of being deleted."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.db import Base


class HiddenReplyRow(Base):
    __tablename__ = "hidden_replies"
    # deleting the message (edit and resend, deleting the conversation) forgets it here too
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    answers_id: Mapped[int] = mapped_column(Integer, index=True)  # the user message


# the ids of every hidden reply: transcripts, what the model is sent and exports leave them out
HIDDEN = select(HiddenReplyRow.message_id)
