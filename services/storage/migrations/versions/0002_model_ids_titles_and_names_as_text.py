"""Model ids, titles, template names and finish reasons as TEXT.

A model id typed by the user (or a finish reason sent by a provider) longer than its VARCHAR
made PostgreSQL refuse the row. SQLite ignores declared lengths, so nothing changes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 23:35:41
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, column, old length, nullable)
WIDENED = (
    ("chain_templates", "name", 200, False),
    ("chain_templates", "default_model", 100, True),
    ("compare_lanes", "model", 100, False),
    ("conversations", "title", 200, False),
    ("conversations", "model", 100, True),
    ("images", "model", 100, False),
    ("messages", "model", 100, True),
    ("messages", "finish_reason", 32, True),
    ("studio_runs", "model", 100, False),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():  # its VARCHAR(n) is TEXT already; copying every table would gain nothing
        return
    for table, column, length, nullable in WIDENED:
        op.alter_column(
            table,
            column,
            existing_type=sa.String(length),
            type_=sa.Text(),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    if _sqlite():
        return
    for table, column, length, nullable in WIDENED:
        op.alter_column(
            table,
            column,
            existing_type=sa.Text(),
            type_=sa.String(length),
            existing_nullable=nullable,
        )
