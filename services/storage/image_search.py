"""The gallery's text search: the database's full-text index over each image's prompts and
the studio run it came from (the idea, every step's output, the final prompt).

- SQLite: FTS5 tables (``unicode61``) kept in step by triggers that revision 0009 made;
  their rowids are held in key tables, since the images' own rowids may change (VACUUM).
  The key tables also hold each row's owner and, for images, the page order and the studio
  run, so a filtered page and its count read the matches alone: never the owner's whole
  gallery (a middle page of 14,000 matches among 100,000 images sorts those 14,000 keys).
- PostgreSQL: GIN indexes on ``to_tsvector('simple', ...)`` of the same texts, always in step;
  the matched rows are read with their page order, and only the page's rows are read again.

A query is split into words the way both index them (letters and digits; everything else
separates), and each word matches as a prefix, so "화성" finds 화성에서 and 화성의 (Korean
particles are written onto the word). Every word must match, in the image's prompts or in its
studio run. The user's text never reaches FTS or tsquery syntax: only those words do, quoted.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Subquery,
    false,
    func,
    intersect,
    literal_column,
    select,
    table,
    union,
    union_all,
)
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

# SQLite: the images' key table holds each image's owner, page order and studio run (revision
# 0009), so a filtered page is found from the matches alone
SEARCH_KEYS = table(
    "image_search_keys",
    sql_column("id", Integer()),
    sql_column("image_id", String()),
    sql_column("owner_id", String()),
    sql_column("created_at", DateTime()),
    sql_column("lane_index", Integer()),
    sql_column("position", Integer()),
    sql_column("studio_run_id", String()),
)
_image_text = table("image_search", sql_column("rowid"))
_run_keys = table(
    "studio_run_search_keys", sql_column("id"), sql_column("run_id"), sql_column("owner_id")
)
_run_text = table("studio_run_search", sql_column("rowid"))


def search_words(text: str | None) -> list[str]:
    """The words of a query, each once, in order (at most MAX_WORDS)."""
    words = dict.fromkeys(w[:MAX_WORD_CHARS] for w in _WORD.findall((text or "").lower()))
    return list(words)[:MAX_WORDS]


def _sqlite_matches(owner_id: str, word: str) -> ColumnElement[bool]:
    """The condition on SEARCH_KEYS rows: the image's texts or its studio run's match."""
    phrase = f'"{word}"*'  # a word holds no quote; the quotes make FTS5 read it as text only
    in_text = select(_image_text.c.rowid).where(literal_column("image_search").op("MATCH")(phrase))
    owned_runs = select(_run_keys.c.run_id).where(
        _run_keys.c.id.in_(
            select(_run_text.c.rowid).where(literal_column("studio_run_search").op("MATCH")(phrase))
        ),
        _run_keys.c.owner_id == owner_id,
    )
    in_runs = select(SEARCH_KEYS.c.id).where(SEARCH_KEYS.c.studio_run_id.in_(owned_runs))
    # the FTS rowids are the key table's ids: integers, each looked up by primary key
    return SEARCH_KEYS.c.id.in_(union_all(in_text, in_runs))


def search_page(ordered_keys: Select, limit: int, offset: int) -> Select:
    """SQLite: the image ids of one page of SEARCH_KEYS ids in page order. The matches' keys
    are sorted whole, then the page taken from them (SQLite's sort under a LIMIT with a deep
    OFFSET is slower), then only the page's image ids are read."""
    ordered = ordered_keys.cte("ordered").prefix_with("MATERIALIZED")
    page = select(ordered.c.id).limit(limit).offset(offset)
    return select(SEARCH_KEYS.c.image_id).where(SEARCH_KEYS.c.id.in_(page))


def _postgres_matches(owner_id: str, word: str) -> Select:
    """The owner's images whose texts or studio run match ``word``: each one's id (as
    ``image_id``), owner and page order, read with the match (no second visit to the row)."""
    query = func.to_tsquery(literal_column("'simple'"), f"'{word}':*")  # a bound parameter
    found, of_run = aliased(ImageRow, name="found"), aliased(ImageRow, name="of_run")
    runs = select(StudioRunRow.id).where(
        StudioRunRow.owner_id == owner_id,
        literal_column(STUDIO_VECTOR.format(t="studio_runs")).op("@@")(query),
    )
    in_text, in_runs = (
        select(row.id.label("image_id"), row.owner_id, row.created_at, row.lane_index, row.position)
        for row in (found, of_run)
    )
    in_text = in_text.where(
        found.owner_id == owner_id,
        literal_column(IMAGE_VECTOR.format(t="found")).op("@@")(query),
    )
    in_runs = in_runs.where(of_run.owner_id == owner_id, of_run.studio_run_id.in_(runs))
    return union(in_text, in_runs)


def postgres_matches(owner_id: str, text: str) -> Subquery:
    """PostgreSQL: the owner's images matching ``text`` (as :func:`text_matches` says), with
    their page order, found from the matches alone (both GIN indexes, then
    images.studio_run_id): a page and its count never test every image of the owner."""
    sets = [_postgres_matches(owner_id, word) for word in search_words(text)]
    if not sets:  # text without a word matches nothing
        i = ImageRow
        nothing = select(i.id.label("image_id"), i.owner_id, i.created_at, i.lane_index, i.position)
        return nothing.where(false()).subquery("matched")
    return (intersect(*sets) if len(sets) > 1 else sets[0]).subquery("matched")


def text_matches(owner_id: str, text: str) -> ColumnElement[bool]:
    """SQLite: the condition on SEARCH_KEYS rows that an image's texts match ``text`` (every
    word, as a prefix, in the image's prompts or its studio run of the same owner). Text
    without a word matches nothing."""
    words = search_words(text)
    if not words:
        return false()
    condition = _sqlite_matches(owner_id, words[0])
    for word in words[1:]:
        condition = condition & _sqlite_matches(owner_id, word)
    return condition
