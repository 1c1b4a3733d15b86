"""read-aloud audio per message: message_audio keeps the speech made for a reply (per model,
voice and speed), so playing it again costs nothing; deleted with its message

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:11:54.274034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_audio",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("voice", sa.Text(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("mime", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "model", "voice", "speed"),
    )
    with op.batch_alter_table("message_audio", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_audio_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_audio_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_audio", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_audio_owner_id"))
        batch_op.drop_index(batch_op.f("ix_message_audio_message_id"))

    op.drop_table("message_audio")
