"""earlier versions of a reply: hidden_replies (regenerate keeps the reply it replaced)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:51:49.848622
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hidden_replies",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("answers_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    with op.batch_alter_table("hidden_replies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hidden_replies_answers_id"), ["answers_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hidden_replies_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hidden_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hidden_replies_owner_id"))
        batch_op.drop_index(batch_op.f("ix_hidden_replies_answers_id"))

    op.drop_table("hidden_replies")
