"""Alembic's entry: migrations run on the connection that ``services.storage.migrate`` hands
over (it holds the lock that keeps two starting processes from migrating at once)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import String

from services.storage.db import Base, _register_tables

_register_tables()


def _compare_type(context, _inspected_column, _metadata_column, inspected, metadata):
    # SQLite keeps every string as TEXT whatever its declared length, so VARCHAR(n) and TEXT
    # are the same there; PostgreSQL still compares them.
    sqlite = context.dialect.name == "sqlite"
    both_strings = isinstance(inspected, String) and isinstance(metadata, String)
    return False if sqlite and both_strings else None


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=_compare_type,
    # SQLite cannot ALTER most things: such changes are made by copying the table
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
