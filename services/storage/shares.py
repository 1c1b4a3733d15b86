"""Share links: read-only links to one conversation, studio run or comparison.

Only the SHA-256 of a link's token is stored, so a copy of the database does not hold live
links; the owner sees the token once, when the link is made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.db import Base, utcnow


class ShareLinkRow(Base):
    __tablename__ = "share_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # conversation | studio_run | comparison
    target_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
