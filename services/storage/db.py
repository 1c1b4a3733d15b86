"""Engine, schema base and sessions. One Database per URL per process; its schema is brought
to the newest migration when it is opened (``services.storage.migrate``)."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg.types.string import StrBinaryDumper, StrDumperUnknown
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from services.storage.blobs import BlobConfig, BlobStore


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def within_days(stmt, column, since: date | datetime | None, until: date | datetime | None):
    """``stmt`` limited to rows whose ``column`` falls from ``since`` (a day's start) to
    ``until``: a date includes that whole day, a datetime is an exclusive bound."""
    if since is not None:
        if not isinstance(since, datetime):
            since = datetime.combine(since, time.min)
        stmt = stmt.where(column >= since)
    if until is not None:
        if not isinstance(until, datetime):
            until = datetime.combine(until + timedelta(days=1), time.min)
        stmt = stmt.where(column < until)
    return stmt


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 16 MB of pages per connection (SQLite's default is 2 MB): a search's keys for 100,000
    # images stay in memory from one page to the next (about twice as fast as re-reading)
    cursor.execute("PRAGMA cache_size=-16000")
    cursor.close()


def _register_tables() -> None:
    """Import every module of this package so its tables register on Base (a new table
    module needs no edit here)."""
    import services.storage as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"services.storage.{info.name}")


class _TextWithoutNul(StrDumperUnknown):
    def dump(self, obj: str):
        return super().dump(obj.replace("\x00", ""))


class _BinaryTextWithoutNul(StrBinaryDumper):
    def dump(self, obj: str):
        return super().dump(obj.replace("\x00", ""))


def _postgres_text(dbapi_connection, _record) -> None:
    # PostgreSQL text cannot hold U+0000 (SQLite can): drop it from every string sent, so a
    # pasted control character or a crafted ?c= id is not a crash
    dbapi_connection.adapters.register_dumper(str, _TextWithoutNul)
    dbapi_connection.adapters.register_dumper(str, _BinaryTextWithoutNul)


# A hosted PostgreSQL (Neon, Supabase, RDS...) drops idle connections and caps how many a
# user may hold: check each connection before use, renew it after five minutes, keep few.
SERVER_POOL = {"pool_pre_ping": True, "pool_recycle": 300, "pool_size": 5, "max_overflow": 5}


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite with WAL and foreign keys, a server database with a pool
    fit for a hosted one."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        # hosts hand out postgres:// URLs; the driver installed is psycopg 3, not psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, **SERVER_POOL)
        if parsed.get_driver_name() == "psycopg":
            event.listen(engine, "connect", _postgres_text)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """An engine, a session factory and the blob store that holds its image bytes (``blobs``:
    the data directory's folder unless configured); the schema is migrated to the newest
    revision on first open (``migrate=False`` leaves it as it is, for tools that manage it
    themselves)."""

    def __init__(self, url: str, *, blobs: BlobConfig | None = None, migrate: bool = True) -> None:
        from services.storage.blobs import make_blob_store
        from services.storage.migrate import upgrade

        self.engine: Engine = create_database_engine(url)
        self.blobs: BlobStore = make_blob_store(blobs, url)
        _register_tables()
        if migrate:
            upgrade(self.engine, blobs=self.blobs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()


# cache: one engine (and its connection pool) per database URL and blob store for the process
_databases: dict[tuple[str, BlobConfig | None], Database] = {}
_lock = threading.Lock()


def open_database(url: str, blobs: BlobConfig | None = None) -> Database:
    """The process-wide Database for ``url`` with image bytes in ``blobs`` (default: the data
    directory's folder), its schema upgraded on first use."""
    with _lock:
        db = _databases.get((url, blobs))
        if db is None:
            db = _databases[(url, blobs)] = Database(url, blobs=blobs)
        return db
