"""full-text search of the gallery and an index for its pages: on SQLite, FTS5 tables over
each image's prompts and each studio run's idea, step outputs and final prompt, kept in step
by triggers and filled from the rows already there; on PostgreSQL, GIN indexes on the
tsvector of the same texts. images gets ix_images_owner_page (owner, newest first, then
lane and position, the id and the studio run), which holds all a gallery page's search needs
of a row, in place of ix_images_owner_created (its first two columns)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The texts searched, as SQL over a row ``{r}`` (NEW, OLD or the table itself). The
# PostgreSQL expressions must stay exactly those of services/storage/image_search.py.
IMAGE_TEXT = "{r}.prompt || ' ' || {r}.negative_prompt || ' ' || COALESCE({r}.revised_prompt, '')"
STEP_OUTPUTS = (
    "COALESCE((SELECT group_concat(json_extract(step.value, '$.output'), ' ')"
    " FROM json_each(CASE WHEN json_valid({r}.steps) THEN {r}.steps ELSE '[]' END) AS step"
    " WHERE step.type = 'object'), '')"
)
RUN_TEXT = (
    "{r}.idea || ' ' || {r}.final_prompt || ' ' || COALESCE({r}.negative_prompt, '') || ' ' || "
    + STEP_OUTPUTS
)
IMAGE_VECTOR = (
    "to_tsvector('simple'::regconfig, prompt || ' ' || negative_prompt"
    " || ' ' || COALESCE(revised_prompt, ''))"
)
STUDIO_VECTOR = (
    "(to_tsvector('simple'::regconfig, idea || ' ' || final_prompt"
    " || ' ' || COALESCE(negative_prompt, ''))"
    " || jsonb_to_tsvector('simple'::regconfig,"
    " jsonb_path_query_array((steps)::jsonb, '$[*].output'), '[\"string\"]'))"
)

# (search table, key table, its key column, the table searched, its text, its text columns)
SQLITE_INDEXES = (
    ("image_search", "image_search_keys", "image_id", "images", IMAGE_TEXT,
     "prompt, negative_prompt, revised_prompt"),
    ("studio_run_search", "studio_run_search_keys", "run_id", "studio_runs", RUN_TEXT,
     "idea, steps, final_prompt, negative_prompt"),
)  # fmt: skip


def _sqlite_search(search: str, keys: str, key: str, source: str, body: str, cols: str) -> None:
    """A search table over ``source``, three triggers keeping it in step, and every row
    already there indexed. The FTS rowid is a key table's integer id for the row's text id."""
    new = body.format(r="NEW")
    lookup = f"(SELECT id FROM {keys} WHERE {key} = {{id}}.id)"
    statements = (
        f"CREATE TABLE {keys} (id INTEGER PRIMARY KEY, {key} VARCHAR(64) NOT NULL UNIQUE)",
        f"CREATE VIRTUAL TABLE {search} USING fts5(body, tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {search}_insert AFTER INSERT ON {source} BEGIN"
        f" INSERT INTO {keys} ({key}) VALUES (NEW.id);"
        f" INSERT INTO {search} (rowid, body) VALUES ({lookup.format(id='NEW')}, {new});"
        " END",
        f"CREATE TRIGGER {search}_delete AFTER DELETE ON {source} BEGIN"
        f" DELETE FROM {search} WHERE rowid = {lookup.format(id='OLD')};"
        f" DELETE FROM {keys} WHERE {key} = OLD.id;"
        " END",
        f"CREATE TRIGGER {search}_update AFTER UPDATE OF id, {cols} ON {source} BEGIN"
        f" UPDATE {keys} SET {key} = NEW.id WHERE {key} = OLD.id;"
        f" UPDATE {search} SET body = {new} WHERE rowid = {lookup.format(id='NEW')};"
        " END",
        f"INSERT INTO {keys} ({key}) SELECT id FROM {source} ORDER BY created_at",
        f"INSERT INTO {search} (rowid, body) SELECT {keys}.id, {body.format(r=source)}"
        f" FROM {source} JOIN {keys} ON {keys}.{key} = {source}.id",
    )
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_owner_created")
        batch_op.create_index(
            "ix_images_owner_page",
            [
                "owner_id",
                sa.text("created_at DESC"),
                "lane_index",
                "position",
                "id",
                "studio_run_id",
            ],
            unique=False,
        )
    if op.get_bind().dialect.name == "sqlite":
        for spec in SQLITE_INDEXES:
            _sqlite_search(*spec)
    else:
        op.execute(f"CREATE INDEX ix_images_search ON images USING gin (({IMAGE_VECTOR}))")
        op.execute(
            f"CREATE INDEX ix_studio_runs_search ON studio_runs USING gin (({STUDIO_VECTOR}))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for search, keys, *_ in SQLITE_INDEXES:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {search}_{event}")
            op.execute(f"DROP TABLE {search}")
            op.execute(f"DROP TABLE {keys}")
    else:
        op.execute("DROP INDEX ix_studio_runs_search")
        op.execute("DROP INDEX ix_images_search")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_owner_page")
        batch_op.create_index("ix_images_owner_created", ["owner_id", "created_at"], unique=False)
