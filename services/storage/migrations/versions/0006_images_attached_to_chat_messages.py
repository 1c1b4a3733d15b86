"""images attached to chat messages: message_images keeps each image a user attached to a
message (re-encoded, with a WebP thumbnail for the transcript), owner-scoped; deleted with
its message

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:57:35.486457
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_images",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("mime", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_images_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_images_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_images_owner_id"))
        batch_op.drop_index(batch_op.f("ix_message_images_message_id"))

    op.drop_table("message_images")
