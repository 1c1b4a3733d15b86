"""image bytes in the blob store: images.data and message_images.data move to the blob store
(services/storage/blobs.py) under a new blob_key column, then the data columns are dropped

Where the bytes go is the store ``services.storage.migrate.upgrade`` hands over in the
configuration's attributes (``blobs``): the app's configured store (an ``[s3]`` section or
``S3_*`` values, else ``BLOB_DIR``, else the folder under the data directory). Each blob is
read back and compared before its row names it, and the columns are dropped only after every
row has a key; all of it runs in the upgrade's one locked transaction, so a failure (storage
unreachable, a full disk) leaves the database as it was, bytes included. Keys are made from
row ids, so a retry writes the same objects again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:33:41.143461
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.storage.blobs import CHAT, GALLERY, BlobStore, blob_error, blob_key, safe_segment

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 50  # rows read at once: a few MB of images, whatever the size of the gallery
# table -> the kind of key, and the key's name for a row id
TABLES = {"images": (GALLERY, "{}"), "message_images": (CHAT, "m{}")}


def _table(name: str, id_type: sa.types.TypeEngine) -> sa.Table:
    return sa.table(
        name,
        sa.column("id", id_type),
        sa.column("owner_id", sa.String()),
        sa.column("mime", sa.Text()),
        sa.column("data", sa.LargeBinary()),
        sa.column("blob_key", sa.Text()),
    )


def _blobs() -> BlobStore:
    return op.get_context().config.attributes["blobs"]


def _move_out(name: str, id_type: sa.types.TypeEngine) -> None:
    """Every row's bytes into the blob store, checked, then its key into the row."""
    kind, pattern = TABLES[name]
    table, bind, blobs = _table(name, id_type), op.get_bind(), _blobs()
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.owner_id, table.c.mime, table.c.data)
            .where(table.c.blob_key.is_(None))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, owner_id, mime, data in rows:
            key = blob_key(kind, owner_id, safe_segment(pattern.format(row_id)), mime)
            blobs.put(key, bytes(data), mime)
            if blobs.get(key) != bytes(data):
                raise blob_error(f"{blobs.location}: an image read back differs from the one put")
            bind.execute(table.update().where(table.c.id == row_id).values(blob_key=key))


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("blob_key", sa.Text(), nullable=True))
    _move_out("images", sa.String())
    _move_out("message_images", sa.Integer())
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("blob_key", existing_type=sa.Text(), nullable=False)
            batch_op.drop_column("data")


def _bring_back(name: str, id_type: sa.types.TypeEngine) -> None:
    table, bind, blobs = _table(name, id_type), op.get_bind(), _blobs()
    for row_id, key in bind.execute(sa.select(table.c.id, table.c.blob_key)).all():
        data = blobs.get(key)
        bind.execute(table.update().where(table.c.id == row_id).values(data=data))


def downgrade() -> None:
    """The bytes back into the database (the blobs stay where they are)."""
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
    _bring_back("images", sa.String())
    _bring_back("message_images", sa.Integer())
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("data", existing_type=sa.LargeBinary(), nullable=False)
            batch_op.drop_column("blob_key")
