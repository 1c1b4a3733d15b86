"""full-text search of the gallery and an index for its pages: on SQLite, FTS5 tables over
each image's prompts and each studio run's idea, step outputs and final prompt, kept in step
by triggers and filled from the rows already there, with key tables that also hold each
row's owner and (images) its page order and studio run, so a filtered page is found from
the matches alone; on PostgreSQL, GIN indexes on the tsvector of the same texts. images gets
ix_images_owner_page (owner, newest first, then lane and position, the id and the studio
run), from which an unfiltered page's ids are read, in place of ix_images_owner_created
(its first two columns)

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

# The key tables: the FTS rowid is a key table's integer id for a row's text id. They also
# hold the row's owner and, for images, what a filtered gallery page needs (the page order,
# the studio run), so a page is found from the matches alone, never walking the owner's
# whole gallery or reading a row. Each is (key column, source column), kept in step by the
# triggers.
IMAGE_KEYS = (
    ("image_id", "id"),
    ("owner_id", "owner_id"),
    ("created_at", "created_at"),
    ("lane_index", "lane_index"),
    ("position", "position"),
    ("studio_run_id", "studio_run_id"),
)
IMAGE_KEY_TABLE = (
    "image_id VARCHAR(32) NOT NULL UNIQUE, owner_id VARCHAR(64) NOT NULL,"
    " created_at DATETIME NOT NULL, lane_index INTEGER, position INTEGER NOT NULL,"
    " studio_run_id VARCHAR(64)"
)
RUN_KEYS = (("run_id", "id"), ("owner_id", "owner_id"))
RUN_KEY_TABLE = "run_id VARCHAR(64) NOT NULL UNIQUE, owner_id VARCHAR(64) NOT NULL"

# (search table, key table, its keys, their columns, the table searched, its text, the
# source columns whose change updates the keys or the text)
SQLITE_INDEXES = (
    ("image_search", "image_search_keys", IMAGE_KEYS, IMAGE_KEY_TABLE, "images", IMAGE_TEXT,
     "owner_id, created_at, lane_index, position, studio_run_id,"
     " prompt, negative_prompt, revised_prompt"),
    ("studio_run_search", "studio_run_search_keys", RUN_KEYS, RUN_KEY_TABLE, "studio_runs",
     RUN_TEXT, "owner_id, idea, steps, final_prompt, negative_prompt"),
)  # fmt: skip


def _sqlite_search(
    search: str, keys: str, pairs: tuple, table: str, source: str, body: str, cols: str
) -> None:
    """A key table and a search table over ``source``, three triggers keeping them in step,
    and every row already there indexed."""
    new = body.format(r="NEW")
    key = pairs[0][0]
    names = ", ".join(k for k, _ in pairs)
    lookup = f"(SELECT id FROM {keys} WHERE {key} = {{id}}.id)"

    def values(row: str) -> str:
        return ", ".join(f"{row}.{c}" for _, c in pairs)

    assignments = ", ".join(f"{k} = NEW.{c}" for k, c in pairs)
    statements = (
        f"CREATE TABLE {keys} (id INTEGER PRIMARY KEY, {table})",
        f"CREATE VIRTUAL TABLE {search} USING fts5(body, tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {search}_insert AFTER INSERT ON {source} BEGIN"
        f" INSERT INTO {keys} ({names}) VALUES ({values('NEW')});"
        f" INSERT INTO {search} (rowid, body) VALUES ({lookup.format(id='NEW')}, {new});"
        " END",
        f"CREATE TRIGGER {search}_delete AFTER DELETE ON {source} BEGIN"
        f" DELETE FROM {search} WHERE rowid = {lookup.format(id='OLD')};"
        f" DELETE FROM {keys} WHERE {key} = OLD.id;"
        " END",
        f"CREATE TRIGGER {search}_update AFTER UPDATE OF id, {cols} ON {source} BEGIN"
        f" UPDATE {keys} SET {assignments} WHERE {key} = OLD.id;"
        f" UPDATE {search} SET body = {new} WHERE rowid = {lookup.format(id='NEW')};"
        " END",
        f"INSERT INTO {keys} ({names}) SELECT {values(source)} FROM {source} ORDER BY created_at",
        f"INSERT INTO {search} (rowid, body) SELECT {keys}.id, {body.format(r=source)}"
        f" FROM {source} JOIN {keys} ON {keys}.{key} = {source}.id",
    )
    for statement in statements:
        op.execute(statement)
    if source == "images":  # the images of the studio runs a word matched
        op.execute(f"CREATE INDEX ix_{keys}_run ON {keys} (studio_run_id)")


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
