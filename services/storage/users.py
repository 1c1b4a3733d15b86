"""The people who signed in to a shared deployment: one row per owner id.

Written on each visit so the admin page can list who uses the deployment. Reruns are frequent
(every widget change), so a visit is written at most once a minute per owner, or at once
when the name or email the provider reports has changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.identity import SignedInUser
from services.storage.db import Base, Database, utcnow

VISIT_WRITE_INTERVAL = timedelta(minutes=1)
ISSUER_MAX = 300
SUBJECT_MAX = 255
EMAIL_MAX = 320
NAME_MAX = 200


class UserRow(Base):
    __tablename__ = "users"
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(ISSUER_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), nullable=True)
    email_verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    name: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)


@dataclass(frozen=True)
class UserRecord:
    owner_id: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool | None  # None: the provider did not say
    name: str | None
    first_seen: datetime
    last_seen: datetime


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


# cache: (database url, owner id) -> (when, email, email_verified, name) this process last wrote
_written: dict[tuple[str, str], tuple[datetime, str | None, bool | None, str | None]] = {}
_written_lock = threading.Lock()


class UserStore:
    """The users table of one database (not owner-scoped: it is the list of owners)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record_visit(self, user: SignedInUser, now: datetime | None = None) -> bool:
        """Note that ``user`` is here: creates the row on the first visit, else refreshes
        last seen, email and name. Returns whether the database was written (at most once
        a minute per owner unless the email or name changed)."""
        now = now or utcnow()
        owner = user.owner_id
        email, name = _clip(user.email, EMAIL_MAX), _clip(user.name, NAME_MAX)
        memo_key = (str(self.db.engine.url), owner)
        with _written_lock:
            last = _written.get(memo_key)
            if (
                last is not None
                and last[1:] == (email, user.email_verified, name)
                and now - last[0] < VISIT_WRITE_INTERVAL
            ):
                return False
            _written[memo_key] = (now, email, user.email_verified, name)
        try:
            self._write(user, owner, email, name, now)
        except IntegrityError:  # another process added this owner's row a moment ago
            return False
        return True

    def _write(
        self, user: SignedInUser, owner: str, email: str | None, name: str | None, now: datetime
    ) -> None:
        with self.db.session() as s, s.begin():
            row = s.get(UserRow, owner)
            if row is None:
                s.add(
                    UserRow(
                        owner_id=owner,
                        issuer=user.issuer[:ISSUER_MAX],
                        subject=user.subject[:SUBJECT_MAX],
                        email=email,
                        email_verified=user.email_verified,
                        name=name,
                        first_seen=now,
                        last_seen=now,
                    )
                )
            else:
                row.email, row.email_verified = email, user.email_verified
                row.name, row.last_seen = name, max(row.last_seen, now)

    def get(self, owner_id: str) -> UserRecord | None:
        """The user with this owner id, if they ever signed in."""
        with self.db.session() as s:
            row = s.get(UserRow, owner_id)
            return _record(row) if row is not None else None

    def all(self) -> list[UserRecord]:
        """Everyone who signed in, most recently seen first."""
        with self.db.session() as s:
            rows = s.scalars(select(UserRow).order_by(UserRow.last_seen.desc())).all()
            return [_record(r) for r in rows]


def _record(row: UserRow) -> UserRecord:
    return UserRecord(
        owner_id=row.owner_id,
        issuer=row.issuer,
        subject=row.subject,
        email=row.email,
        email_verified=row.email_verified,
        name=row.name,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )
