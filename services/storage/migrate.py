"""Schema migrations with Alembic (scripts in ``services/storage/migrations``).

Opening a database upgrades it to the newest revision. Several processes may start at once
(a redeploy, two Streamlit workers): the upgrade runs under a lock, so one migrates and the
others then find the schema current. A database made before migrations existed (tables, no
``alembic_version``) is recorded as the first revision, whose schema it has, and then upgraded.

By hand::

    python -m services.storage.migrate revision -m "add users"   # autogenerate the next one
    python -m services.storage.migrate upgrade [--database-url URL]
    python -m services.storage.migrate current [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from services.storage.blobs import BlobStore

from services.storage.image_search import SEARCH_INDEXES, SEARCH_TABLE_PREFIXES

MIGRATIONS = Path(__file__).with_name("migrations")
INITIAL_REVISION = "0001"
BYTES_LEFT_REVISION = "0008"  # image bytes moved from the database to the blob store
# Any constant bigint, the same in every ChatCanvas process: the key of the upgrade's lock.
PG_LOCK_KEY = 0x43686174_43616E76  # b"ChatCanv"
# How long a starting SQLite process waits for another one's upgrade to finish.
SQLITE_LOCK_WAIT_MS = 120_000
SQLITE_BUSY_MS = 5_000  # sqlite3's default, put back after the upgrade


def compare_type(context, _inspected_column, _metadata_column, inspected, metadata):
    """Alembic's type comparison, except that SQLite keeps every string as TEXT whatever its
    declared length, so VARCHAR(n) and TEXT are the same there (PostgreSQL still compares)."""
    sqlite = context.dialect.name == "sqlite"
    both_strings = isinstance(inspected, String) and isinstance(metadata, String)
    return False if sqlite and both_strings else None


def include_object(_object, name, type_, reflected, compare_to) -> bool:
    """What the schema comparison looks at: not the full-text search's tables (SQLite FTS5,
    with their shadow tables) and indexes (PostgreSQL GIN on expressions), which revision
    0009 made by hand and no model describes."""
    if reflected and compare_to is None and name:
        if type_ == "table" and name.startswith(SEARCH_TABLE_PREFIXES):
            return False
        if type_ == "index" and name in SEARCH_INDEXES:
            return False
    return True


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, without an ini file; env.py runs on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process's upgrade can run beside;
    committed when the block ends, rolled back when it raises."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            if sqlite:
                # Outside a transaction (the pragma is ignored inside one). With foreign keys
                # on, the table copies SQLite needs for ALTER would cascade-delete child rows.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
                connection.commit()
                connection.exec_driver_sql("BEGIN EXCLUSIVE")
            else:  # released by the commit or rollback below
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
                connection.commit()


def _made_before_migrations(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "conversations" in tables and "alembic_version" not in tables


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None before any)."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision in ``services/storage/migrations/versions``."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine, revision: str = "head", *, blobs: BlobStore | None = None) -> None:
    """Bring the database to ``revision`` (the newest by default), under a lock that makes
    concurrent starts wait for each other: PostgreSQL's advisory lock, SQLite's exclusive
    transaction. A database from before migrations is stamped as the first revision first.
    ``blobs`` is where a revision that moves image bytes out of the database puts them
    (0008); default: the folder under the data directory of ``engine``'s database."""
    from services.storage.blobs import make_blob_store

    url = engine.url.render_as_string(hide_password=False)
    with migration_connection(engine) as connection:
        config = alembic_config(connection)
        config.attributes["blobs"] = blobs or make_blob_store(None, url)
        if _made_before_migrations(connection):
            command.stamp(config, INITIAL_REVISION)
        before = current_revision(connection)
        command.upgrade(config, revision)
        after = current_revision(connection) or ""
        moved = before is not None and before < BYTES_LEFT_REVISION <= after
    if moved and engine.dialect.name == "sqlite":
        _give_back_space(engine)


def _give_back_space(engine: Engine) -> None:
    """Shrink a SQLite file whose image bytes just left it (VACUUM runs outside a
    transaction; another process holding the file only means it shrinks another time)."""
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM")
    except OperationalError:
        pass


def _next_revision_id() -> str:
    ids = [s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    return f"{max((int(i) for i in ids if i.isdigit()), default=0) + 1:04d}"


def make_revision(message: str, database_url: str | None = None) -> None:
    """Autogenerate the next revision from the difference between the models and a database
    at head (a temporary SQLite file unless ``database_url`` is given). Read it before
    committing: autogenerate cannot tell a rename from a drop and an add."""
    from services.storage.db import create_database_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_database_engine(database_url or f"sqlite:///{tmp}/head.db")
        try:
            upgrade(engine)
            with engine.connect() as connection:
                command.revision(
                    alembic_config(connection),
                    message,
                    autogenerate=True,
                    rev_id=_next_revision_id(),
                )
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> None:
    from services.config_sources import configured_blobs
    from services.settings import DEFAULT_DATABASE_URL
    from services.storage.blobs import make_blob_store
    from services.storage.db import create_database_engine

    parser = argparse.ArgumentParser(prog="python -m services.storage.migrate")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("revision", help="autogenerate the next revision")
    new.add_argument("-m", "--message", required=True)
    new.add_argument("--database-url", help="compare against this database (default: a temp one)")
    for name in ("upgrade", "current"):
        sub = commands.add_parser(name)
        sub.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if args.command == "revision":
        make_revision(args.message, args.database_url)
        return
    url = args.database_url or DEFAULT_DATABASE_URL
    engine = create_database_engine(url)
    try:
        if args.command == "upgrade":
            upgrade(engine, blobs=make_blob_store(configured_blobs(), url))
        with engine.connect() as connection:
            print(current_revision(connection) or "(empty)")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
