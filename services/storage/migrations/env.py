"""Alembic's entry: migrations run on the connection that ``services.storage.migrate`` hands
over (it holds the lock that keeps two starting processes from migrating at once)."""

from __future__ import annotations

from alembic import context

from services.storage.db import Base, _register_tables
from services.storage.migrate import compare_type, include_object

_register_tables()

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=compare_type,
    include_object=include_object,
    # SQLite cannot ALTER most things: such changes are made by copying the table
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
