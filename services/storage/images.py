"""Generated images with full lineage, comparison runs and votes, for one owner.

A comparison run has lanes (one provider call each, kept even when it failed or its images
are deleted, so costs, quotas and the leaderboard stay true) and images (bytes, a small
thumbnail for the gallery, and what produced them). Gallery pages read thumbnails only;
full bytes are loaded one image at a time. The tables and records are in ``image_tables``;
Elo is :mod:`services.leaderboard`, PNG/ZIP export :mod:`services.gallery_export`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from services.errors import ChatCanvasError, scrub
from services.images.base import ImageRequest, ImageResult, LaneOutcome
from services.storage.blobs import forget_blobs, put_blobs, read_blob
from services.storage.db import Database, utcnow, within_days
from services.storage.image_search import SEARCH_KEYS, postgres_matches, search_page, text_matches
from services.storage.image_tables import (
    THUMB_COLUMNS,
    CompareLaneRow,
    CompareRun,
    CompareRunRow,
    CostDay,
    ImageRow,
    ImageThumb,
    StoredImage,
    StoredLane,
    image_rows,
    lane_row,
    stored_image,
    stored_lane,
)
from services.votes import VoteOutcome, VoteRecord

__all__ = [
    "CompareLaneRow",
    "CompareRun",
    "CompareRunRow",
    "CostDay",
    "ImageRow",
    "ImageStore",
    "ImageThumb",
    "StoredImage",
    "StoredLane",
]


class ImageStore:
    """All reads and writes of images, runs and votes for one owner go through here."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id
        self.blobs = db.blobs  # where the bytes are: the database keeps keys and thumbnails

    # -- writing ---------------------------------------------------------------------------
    def start_run(
        self,
        prompt: str,
        *,
        negative_prompt: str = "",
        blind: bool = False,
        studio_run_id: str | None = None,
    ) -> str:
        """Store a new run before its lanes start, so each lane can be kept as it ends."""
        run = CompareRunRow(
            id=uuid.uuid4().hex,
            owner_id=self.owner_id,
            prompt=prompt,
            negative_prompt=negative_prompt,
            blind=blind,
            studio_run_id=studio_run_id,
            created_at=utcnow(),
        )
        with self.db.session() as s, s.begin():
            s.add(run)
        return run.id

    def save_lane(
        self, run_id: str, index: int, request: ImageRequest, outcome: LaneOutcome
    ) -> None:
        """Store one lane's result or error, images with thumbnails, in its own transaction
        (safe from the lane's worker thread: an interrupted page loses nothing paid for).
        The bytes go to the blob store first; if the rows cannot be stored, they are removed,
        and a blob store that fails raises ``ChatCanvasError(BLOB_STORE)`` with nothing kept
        (the lane keeper then holds the images for the page, as for a database failure)."""
        with self.db.session() as s:  # committed below; rolled back if anything raises
            run = s.get(CompareRunRow, run_id)
            if run is None or run.owner_id != self.owner_id:
                raise KeyError(run_id)
            if isinstance(outcome, ChatCanvasError):
                s.add(
                    CompareLaneRow(
                        run_id=run.id,
                        owner_id=self.owner_id,
                        lane_index=index,
                        provider=outcome.provider,
                        model=request.model,
                        error_kind=str(outcome.kind),
                        error_detail=scrub(outcome.detail),  # whoever built it
                        created_at=run.created_at,
                    )
                )
                s.commit()
                return
            self.keep_lane(s, run, index, request, outcome)

    def keep_lane(
        self,
        s: Session,
        run: CompareRunRow,
        index: int,
        request: ImageRequest,
        result: ImageResult,
        *,
        parent_image_id: str | None = None,
    ) -> tuple[str, ...]:
        """Commit a lane that made images: its bytes into the blob store first, then its rows
        (``parent_image_id``: an edit's source). A failed commit removes the blobs too."""
        rows = image_rows(run, index, request, result)
        for row in rows:
            row.parent_image_id = parent_image_id
        puts = [(r.blob_key, i.data, r.mime) for r, i in zip(rows, result.images, strict=True)]
        with put_blobs(self.blobs, puts):
            s.add(lane_row(run, index, result))
            s.add_all(rows)
            s.commit()
        return tuple(row.id for row in rows)

    def save_run(
        self,
        prompt: str,
        lanes: Sequence[tuple[ImageRequest, LaneOutcome]],
        *,
        negative_prompt: str = "",
        blind: bool = False,
        studio_run_id: str | None = None,
    ) -> CompareRun:
        """Store a whole run at once: each lane's request and its result or error."""
        run_id = self.start_run(
            prompt, negative_prompt=negative_prompt, blind=blind, studio_run_id=studio_run_id
        )
        for index, (request, outcome) in enumerate(lanes):
            self.save_lane(run_id, index, request, outcome)
        found = self.get_run(run_id)
        assert found is not None
        return found

    def record_vote(self, run_id: str, outcome: VoteOutcome | str | None) -> None:
        """Set (or clear with None) a run's vote (text is parsed: "lane:N", "tie", "both_bad").
        Raises KeyError for an unknown run, ValueError for an outcome it cannot have."""
        run = self.get_run(run_id)
        if run is None:
            raise KeyError(run_id)
        vote = VoteOutcome.parse(outcome) if isinstance(outcome, str) else outcome
        if vote is not None and vote.lane is not None and vote.lane >= len(run.lanes):
            raise ValueError(f"not an outcome of this run: {vote}")
        with self.db.session() as s, s.begin():
            s.execute(
                update(CompareRunRow)
                .where(CompareRunRow.id == run_id, CompareRunRow.owner_id == self.owner_id)
                .values(outcome=str(vote) if vote else None, voted_at=utcnow() if vote else None)
            )

    def set_image_param(self, image_id: str, name: str, value: object) -> bool:
        """Keep ``value`` under ``name`` in one image's JSON params (a later finding about it,
        such as a moderation verdict: no schema change). False for an unknown image or
        another owner's."""
        with self.db.session() as s, s.begin():
            row = s.get(ImageRow, image_id)
            if row is None or row.owner_id != self.owner_id:
                return False
            row.params = {**(row.params or {}), name: value}
            return True

    def delete(self, image_ids: Iterable[str]) -> int:
        """Delete images (their lanes stay, so costs, quota counts and votes keep counting).
        Returns how many were deleted."""
        ids = list(image_ids)
        if not ids:
            return 0
        mine = (ImageRow.id.in_(ids), ImageRow.owner_id == self.owner_id)
        with self.db.session() as s, s.begin():
            keys = list(s.scalars(select(ImageRow.blob_key).where(*mine)))
            result = s.execute(delete(ImageRow).where(*mine))
        forget_blobs(self.blobs, keys)
        return int(result.rowcount or 0)

    # -- reading ---------------------------------------------------------------------------
    def get_run(self, run_id: str) -> CompareRun | None:
        with self.db.session() as s:
            run = s.get(CompareRunRow, run_id)
            if run is None or run.owner_id != self.owner_id:
                return None
            lanes = s.scalars(
                select(CompareLaneRow)
                .where(CompareLaneRow.run_id == run_id, CompareLaneRow.owner_id == self.owner_id)
                .order_by(CompareLaneRow.lane_index)
            ).all()
            image_ids: dict[int, list[str]] = {}
            for image_id, lane_index in s.execute(
                select(ImageRow.id, ImageRow.lane_index)
                .where(ImageRow.run_id == run_id, ImageRow.owner_id == self.owner_id)
                .order_by(ImageRow.lane_index, ImageRow.position)
            ):
                image_ids.setdefault(lane_index, []).append(image_id)
            return CompareRun(
                id=run.id,
                prompt=run.prompt,
                negative_prompt=run.negative_prompt,
                blind=run.blind,
                outcome=VoteOutcome.load(run.outcome),
                created_at=run.created_at,
                voted_at=run.voted_at,
                studio_run_id=run.studio_run_id,
                lanes=tuple(
                    stored_lane(lane, tuple(image_ids.get(lane.lane_index, ()))) for lane in lanes
                ),
            )

    def _matching(
        self,
        what: str,
        provider: str | None,
        model: str | None,
        text: str | None,
        since: date | datetime | None,
        until: date | datetime | None,
    ) -> tuple[Select, tuple]:
        """The matching images' ids (``what``: "id", "count", or "key": SQLite's search key
        ids, cheaper to sort) and their order (time, lane, position). Searched text reads the
        matches alone (SQLite's search keys; PostgreSQL's matched rows), with their order."""
        searched = bool(text and text.strip())
        postgres = self.db.engine.dialect.name == "postgresql"
        source = ImageRow.__table__
        if searched:
            source = postgres_matches(self.owner_id, text or "") if postgres else SEARCH_KEYS
        image_id = source.c.id if source is ImageRow.__table__ else source.c.image_id
        # count(*), not count(id): without text, the narrow owner index alone answers it
        key = source.c.id if source is SEARCH_KEYS else image_id
        picked = {"count": func.count(), "key": key}.get(what, image_id)
        stmt = select(picked).select_from(source).where(source.c.owner_id == self.owner_id)
        if source is SEARCH_KEYS:
            stmt = stmt.where(text_matches(self.owner_id, text or ""))
        if (provider or model) and source is not ImageRow.__table__:
            stmt = stmt.join(ImageRow, ImageRow.id == image_id)
        if provider:
            stmt = stmt.where(ImageRow.provider == provider)
        if model:
            stmt = stmt.where(ImageRow.model == model)
        stmt = within_days(stmt, source.c.created_at, since, until)
        return stmt, (source.c.created_at, source.c.lane_index, source.c.position)

    def list_thumbnails(
        self,
        *,
        limit: int = 24,
        offset: int = 0,
        provider: str | None = None,
        model: str | None = None,
        text: str | None = None,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
    ) -> list[ImageThumb]:
        """A gallery page, newest first, without the full image bytes. ``text`` is searched
        in the full-text index (:func:`~services.storage.image_search.text_matches`: the
        prompts and the studio run, each word as a prefix); a date ``until`` includes that day.
        The page's ids are found first (from ``ix_images_owner_page`` alone, however deep the
        offset, or from the search's matches), then only those rows are read."""
        keys, (at, lane, position) = self._matching("key", provider, model, text, since, until)
        keys = keys.order_by(at.desc(), lane, position)
        page = keys.limit(limit).offset(offset)
        if at.table is SEARCH_KEYS:
            page = search_page(keys, limit, offset)
        page = page.subquery()
        order = (ImageRow.created_at.desc(), ImageRow.lane_index, ImageRow.position)
        stmt = select(*THUMB_COLUMNS).join(page, page.c[0] == ImageRow.id).order_by(*order)
        with self.db.session() as s:
            return [ImageThumb(*row) for row in s.execute(stmt)]

    def count(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        text: str | None = None,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
    ) -> int:
        """How many images match the same filters as :meth:`list_thumbnails`."""
        stmt, _ = self._matching("count", provider, model, text, since, until)
        with self.db.session() as s:
            return int(s.execute(stmt).scalar_one())

    def image_ids(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        text: str | None = None,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
    ) -> list[str]:
        """The ids of every image matching the filters of :meth:`list_thumbnails`, oldest
        first (what an export of the whole gallery reads, one image at a time)."""
        stmt, order = self._matching("id", provider, model, text, since, until)
        with self.db.session() as s:
            return list(s.scalars(stmt.order_by(*order)))

    def get_image(self, image_id: str) -> StoredImage | None:
        """One image with its bytes (from the blob store) and lineage, or None (also for
        another owner's id, and for an image whose file is gone)."""
        with self.db.session() as s:
            row = s.get(ImageRow, image_id)
        if row is None or row.owner_id != self.owner_id:
            return None
        data = read_blob(self.blobs, row.blob_key)
        return None if data is None else stored_image(row, data)

    # -- summaries -------------------------------------------------------------------------
    def votes(self) -> list[VoteRecord]:
        """This owner's voted runs in vote order, each with the lanes that made images (the
        input of :func:`services.leaderboard.leaderboard`)."""
        voted = CompareRunRow.outcome.is_not(None)
        mine = CompareRunRow.owner_id == self.owner_id
        lane = CompareLaneRow
        with self.db.session() as s:
            runs = s.execute(
                select(CompareRunRow.id, CompareRunRow.outcome)
                .where(mine, voted)
                .order_by(CompareRunRow.voted_at, CompareRunRow.created_at)
            ).all()
            lanes: dict[str, dict[int, tuple[str, str]]] = {}
            for run_id, index, provider, model in s.execute(
                select(lane.run_id, lane.lane_index, lane.provider, lane.model).where(
                    lane.owner_id == self.owner_id,
                    lane.image_count > 0,
                    lane.error_kind.is_(None),
                    lane.run_id.in_(select(CompareRunRow.id).where(mine, voted)),
                )
            ):
                lanes.setdefault(run_id, {})[index] = (provider, model)
        return [
            VoteRecord(outcome, lanes.get(run_id, {}))
            for run_id, text in runs
            if (outcome := VoteOutcome.load(text)) is not None
        ]

    def cost_ledger(self, since: date | None = None, until: date | None = None) -> list[CostDay]:
        """Image spending per UTC day (oldest first), from the calls, not the images, so
        deleting an image does not rewrite history."""
        day = func.date(CompareLaneRow.created_at)
        stmt = (
            select(
                day,
                func.coalesce(func.sum(CompareLaneRow.cost_usd), 0.0),
                func.coalesce(func.sum(CompareLaneRow.image_count), 0),
                func.count(CompareLaneRow.id).filter(
                    CompareLaneRow.cost_usd.is_(None), CompareLaneRow.image_count > 0
                ),
                func.count(CompareLaneRow.id).filter(CompareLaneRow.cost_is_estimate.is_(True)),
            )
            .where(CompareLaneRow.owner_id == self.owner_id)
            .group_by(day)
            .order_by(day)
        )
        stmt = within_days(stmt, CompareLaneRow.created_at, since, until)
        with self.db.session() as s:
            rows = s.execute(stmt).all()
        return [
            CostDay(
                day=d if isinstance(d, date) else date.fromisoformat(str(d)[:10]),
                cost_usd=float(cost),
                images=int(images),
                unpriced_calls=int(unpriced),
                has_estimate=bool(estimated),
            )
            for d, cost, images, unpriced, estimated in rows
        ]

    def images_this_month(self, provider: str, today: date | None = None) -> int:
        """``provider``'s images made since the first of this month (UTC), deleted ones
        included: what counts against a monthly quota (Karlo's)."""
        today = today or utcnow().date()
        start = datetime.combine(today.replace(day=1), time.min)
        stmt = select(func.coalesce(func.sum(CompareLaneRow.image_count), 0)).where(
            CompareLaneRow.owner_id == self.owner_id,
            CompareLaneRow.provider == provider,
            CompareLaneRow.created_at >= start,
        )
        with self.db.session() as s:
            return int(s.execute(stmt).scalar_one())
