"""The gallery's text search: the database's full-text index over each image's prompts and
the studio run it came from (the idea, every step's output, the final prompt).

- SQLite: FTS5 tables (``unicode61``) kept in step by triggers that revision 0009 made;
  their rowids are held in key tables, since the images' own rowids may change (VACUUM).
- PostgreSQL: GIN indexes on ``to_tsvector('simple', ...)`` of the same texts, always in step.

A query is split into words the way both index them (letters and digits; everything else
separates), and each word matches as a prefix, so "화성" finds 화성에서 and 화성의 (Korean
particles are written onto the word). Every word must match, in the image's prompts or in its
studio run. The user's text never reaches FTS or tsquery syntax: only those words do, quoted.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, false, func, literal_column, or_, select, table
from sqlalchemy import column as sql_column
from sqlalchemy.orm import aliased

from services.storage.chains import StudioRunRow
from services.storage.image_tables import ImageRow

# what the schema comparison leaves alone: the SQLite search tables (FTS5 makes shadow
# tables named after them) and the PostgreSQL expression indexes, none of them models
SEARCH_TABLE_PREFIXES = ("image_search", "studio_run_search")
SEARCH_INDEXES = ("ix_images_search", "ix_studio_runs_search")

MAX_WORDS = 8  # a pasted paragraph searches its first words, not a query per word
MAX_WORD_CHARS = 64
_WORD = re.compile(r"[^\W_]+")

# PostgreSQL: exactly the expressions of revision 0009's indexes (the planner uses an index
# only for the same expression), over the columns of ``{t}``
IMAGE_VECTOR = (
    "to_tsvector('simple'::regconfig, {t}.prompt || ' ' || {t}.negative_prompt"
    " || ' ' || COALESCE({t}.revised_prompt, ''))"
)
STUDIO_VECTOR = (
    "(to_tsvector('simple'::regconfig, {t}.idea || ' ' || {t}.final_prompt"
    " || ' ' || COALESCE({t}.negative_prompt, ''))"
    " || jsonb_to_tsvector('simple'::regconfig,"
    " jsonb_path_query_array(({t}.steps)::jsonb, '$[*].output'), '[\"string\"]'))"
)

_image_keys = table("image_search_keys", sql_column("id"), sql_column("image_id"))
_image_text = table("image_search", sql_column("rowid"))
_run_keys = table("studio_run_search_keys", sql_column("id"), sql_column("run_id"))
_run_text = table("studio_run_search", sql_column("rowid"))


def search_words(text: str | None) -> list[str]:
    """The words of a query, each once, in order (at most MAX_WORDS)."""
    words = dict.fromkeys(w[:MAX_WORD_CHARS] for w in _WORD.findall((text or "").lower()))
    return list(words)[:MAX_WORDS]


def _sqlite_matches(owner_id: str, word: str) -> ColumnElement[bool]:
    phrase = f'"{word}"*'  # a word holds no quote; the quotes make FTS5 read it as text only
    images = select(_image_keys.c.image_id).where(
        _image_keys.c.id.in_(
            select(_image_text.c.rowid).where(literal_column("image_search").op("MATCH")(phrase))
        )
    )
    runs = select(_run_keys.c.run_id).where(
        _run_keys.c.id.in_(
            select(_run_text.c.rowid).where(literal_column("studio_run_search").op("MATCH")(phrase))
        )
    )
    owned_runs = select(StudioRunRow.id).where(
        StudioRunRow.owner_id == owner_id, StudioRunRow.id.in_(runs)
    )
    # "+": no index for these two terms, so SQLite walks ix_images_owner_page (which holds
    # both columns) instead of reading the row of every match (thousands for a common word)
    image_id, run_id = literal_column("+images.id"), literal_column("+images.studio_run_id")
    return or_(image_id.in_(images), run_id.in_(owned_runs))


def _postgres_matches(owner_id: str, word: str) -> ColumnElement[bool]:
    query = func.to_tsquery(literal_column("'simple'"), f"'{word}':*")  # a bound parameter
    found = aliased(ImageRow, name="found")
    images = select(found.id).where(
        found.owner_id == owner_id,
        literal_column(IMAGE_VECTOR.format(t="found")).op("@@")(query),
    )
    runs = select(StudioRunRow.id).where(
        StudioRunRow.owner_id == owner_id,
        literal_column(STUDIO_VECTOR.format(t="studio_runs")).op("@@")(query),
    )
    return or_(ImageRow.id.in_(images), ImageRow.studio_run_id.in_(runs))


def text_matches(dialect: str, owner_id: str, text: str) -> ColumnElement[bool]:
    """The condition on ``images`` rows that their texts match ``text`` (every word, as a
    prefix, in the image's prompts or its studio run of the same owner). Text without a
    word matches nothing."""
    words = search_words(text)
    if not words:
        return false()
    matches = _postgres_matches if dialect == "postgresql" else _sqlite_matches
    condition = matches(owner_id, words[0])
    for word in words[1:]:
        condition = condition & matches(owner_id, word)
    return condition
