"""earlier versions of a reply: hidden_replies (regenerate keeps the reply it replaced); the
cost ledger's history: calls made before usage_events existed, backfilled from the replies and
comparison lanes that recorded them (each owner's calls older than their first usage event,
so nothing is counted twice)

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
REPLY_SECONDS = 600  # services/chat.py CHAT_DEADLINES.stream: the longest a reply streams


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

    # The ledger reads usage_events only (services/ledger.py): bring in what was paid before
    # (one statement, so each NOT EXISTS sees the events as they were, not the ones added).
    # A reply's row is written as its stream opens and its event when it ends, at most
    # REPLY_SECONDS later: a reply with an event of its model that soon is counted already.
    postgres = op.get_bind().dialect.name == "postgresql"
    ended_by = (
        f"m.created_at + interval '{REPLY_SECONDS} seconds'"
        if postgres
        else f"datetime(m.created_at, '+{REPLY_SECONDS} seconds')"
    )
    op.execute(
        f"""
        INSERT INTO usage_events
            (owner_id, created_at, kind, provider, model, cost_usd, estimated, own_key, images)
        SELECT m.owner_id, m.created_at, 'chat', 'openai', COALESCE(m.model, ''),
               COALESCE(m.cost_usd, 0), m.cost_usd IS NULL, false, 0
        FROM messages m
        WHERE m.role = 'assistant'
          AND (m.cost_usd IS NOT NULL OR m.completion_tokens IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM usage_events u
                          WHERE u.owner_id = m.owner_id AND u.created_at <= m.created_at)
          AND NOT EXISTS (SELECT 1 FROM usage_events u
                          WHERE u.owner_id = m.owner_id AND u.kind = 'chat'
                            AND u.model = COALESCE(m.model, '') AND u.created_at <= {ended_by})
        UNION ALL
        SELECT l.owner_id, l.created_at, 'image', SUBSTR(l.provider, 1, 16), l.model,
               COALESCE(l.cost_usd, 0),
               l.cost_is_estimate OR (l.cost_usd IS NULL AND l.provider <> 'karlo'),
               false, l.image_count
        FROM compare_lanes l
        WHERE l.image_count > 0
          AND NOT EXISTS (SELECT 1 FROM usage_events u
                          WHERE u.owner_id = l.owner_id AND u.created_at <= l.created_at)
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("hidden_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hidden_replies_owner_id"))
        batch_op.drop_index(batch_op.f("ix_hidden_replies_answers_id"))

    op.drop_table("hidden_replies")
