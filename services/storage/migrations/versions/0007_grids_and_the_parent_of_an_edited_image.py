"""grids of comparisons and the parent of an edited image: compare_grids holds a prompt-by-engine
grid (its rows' labels and sources, its lanes, its concurrency); each of its rows is a
compare run with grid_id and grid_row; images.parent_image_id names the image an edit was
made from

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 08:27:23.159878
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compare_grids",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("lanes", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("studio_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("compare_grids", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compare_grids_owner_created", ["owner_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_compare_grids_owner_id"), ["owner_id"], unique=False)

    with op.batch_alter_table("compare_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grid_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("grid_row", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_compare_runs_grid_id"), ["grid_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_compare_runs_grid_id", "compare_grids", ["grid_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_image_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_images_parent_image_id"), ["parent_image_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_images_parent_image_id"))
        batch_op.drop_column("parent_image_id")

    with op.batch_alter_table("compare_runs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_compare_runs_grid_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_compare_runs_grid_id"))
        batch_op.drop_column("grid_row")
        batch_op.drop_column("grid_id")

    with op.batch_alter_table("compare_grids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compare_grids_owner_id"))
        batch_op.drop_index("ix_compare_grids_owner_created")

    op.drop_table("compare_grids")
