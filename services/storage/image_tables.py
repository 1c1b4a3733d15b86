"""The tables of generated images, comparison runs and lanes, and the records the image
store hands out (see :mod:`services.storage.images`). Every row carries an owner id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.images.base import ImageRequest, ImageResult
from services.images.thumbnails import make_thumbnail
from services.storage.blobs import GALLERY, blob_key
from services.storage.db import Base, utcnow
from services.votes import VoteOutcome


class CompareGridRow(Base):
    """A prompt-by-engine grid: each row is a comparison run (``CompareRunRow.grid_id``) of
    one prompt variant against the same lanes, which are the grid's columns."""

    __tablename__ = "compare_grids"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    # one entry per row, in order: what the prompt variant is and where it came from
    # (typed, or a studio run's idea / step / final prompt)
    rows: Mapped[list] = mapped_column(JSON, default=list)
    # the lane specs the columns were run with (provider, model, params), in order
    lanes: Mapped[list] = mapped_column(JSON, default=list)
    concurrency: Mapped[int] = mapped_column(Integer, default=2)
    studio_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_compare_grids_owner_created", "owner_id", "created_at"),)


class CompareRunRow(Base):
    __tablename__ = "compare_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    prompt: Mapped[str] = mapped_column(Text, default="")
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    # VoteOutcome as text (services/votes.py), None: not voted
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    voted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    studio_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the grid this run is a row of, and which row (None: a comparison of its own)
    grid_id: Mapped[str | None] = mapped_column(
        ForeignKey("compare_grids.id", ondelete="CASCADE"), nullable=True, index=True
    )
    grid_row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_compare_runs_owner_created", "owner_id", "created_at"),)


class CompareLaneRow(Base):
    __tablename__ = "compare_lanes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("compare_runs.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    lane_index: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    seeds: Mapped[list] = mapped_column(JSON, default=list)
    usage: Mapped[dict] = mapped_column(JSON, default=dict)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_is_estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    image_count: Mapped[int] = mapped_column(Integer, default=0)
    error_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("run_id", "lane_index", name="uq_compare_lanes_run_lane"),
        Index("ix_compare_lanes_owner_created", "owner_id", "created_at"),
    )


class ImageRow(Base):
    __tablename__ = "images"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("compare_runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    lane_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within its lane
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    prompt: Mapped[str] = mapped_column(Text, default="")
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    revised_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # Karlo: up to 2**32-1
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # where the image's bytes are in the blob store (services/storage/blobs.py)
    blob_key: Mapped[str] = mapped_column(Text)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    thumb_mime: Mapped[str | None] = mapped_column(String(32), nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)  # share of its call
    cost_is_estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    nsfw: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    nsfw_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    studio_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # an edit's source image ("derived from"); kept as an id, not a foreign key, so deleting
    # the parent leaves the edit and its lineage says the parent is gone
    parent_image_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# a gallery page: this owner's images newest first, then by lane and position; with the id
# and the studio run in it, a page's ids are found from the index alone, however deep the
# page and whatever the text search (image_search.py) matched, without reading a row
Index(
    "ix_images_owner_page",
    ImageRow.owner_id,
    ImageRow.created_at.desc(),
    ImageRow.lane_index,
    ImageRow.position,
    ImageRow.id,
    ImageRow.studio_run_id,
)


# -- what the store hands out ----------------------------------------------------------------


@dataclass(frozen=True)
class StoredLane:
    index: int
    provider: str
    model: str
    params: dict
    seeds: tuple[int, ...]
    usage: dict
    latency_ms: int | None
    cost_usd: float | None
    cost_is_estimate: bool
    image_ids: tuple[str, ...]
    error_kind: str | None
    error_detail: str | None

    @property
    def ok(self) -> bool:
        return self.error_kind is None and bool(self.image_ids)


@dataclass(frozen=True)
class CompareRun:
    id: str
    prompt: str
    negative_prompt: str
    blind: bool
    outcome: VoteOutcome | None
    created_at: datetime
    voted_at: datetime | None
    studio_run_id: str | None
    lanes: tuple[StoredLane, ...]


@dataclass(frozen=True)
class ImageThumb:
    """A gallery tile: everything but the full image bytes."""

    id: str
    run_id: str | None
    lane_index: int | None
    provider: str
    model: str
    prompt: str
    seed: int | None
    width: int | None
    height: int | None
    thumbnail: bytes | None
    thumb_mime: str | None
    nsfw: bool | None
    cost_usd: float | None
    created_at: datetime


@dataclass(frozen=True)
class StoredImage:
    id: str
    run_id: str | None
    lane_index: int | None
    provider: str
    model: str
    params: dict
    prompt: str
    negative_prompt: str
    revised_prompt: str | None
    seed: int | None
    mime: str
    width: int | None
    height: int | None
    data: bytes
    latency_ms: int | None
    cost_usd: float | None
    cost_is_estimate: bool
    nsfw: bool | None
    nsfw_score: float | None
    studio_run_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class CostDay:
    day: date
    cost_usd: float
    images: int
    # calls that made images without a known price: the day's cost is then a lower bound
    unpriced_calls: int
    has_estimate: bool


THUMB_COLUMNS = (
    ImageRow.id,
    ImageRow.run_id,
    ImageRow.lane_index,
    ImageRow.provider,
    ImageRow.model,
    ImageRow.prompt,
    ImageRow.seed,
    ImageRow.width,
    ImageRow.height,
    ImageRow.thumbnail,
    ImageRow.thumb_mime,
    ImageRow.nsfw,
    ImageRow.cost_usd,
    ImageRow.created_at,
)


def stored_image(row: ImageRow, data: bytes) -> StoredImage:
    """The record of ``row`` with its bytes, read from the blob store."""
    return StoredImage(
        id=row.id,
        run_id=row.run_id,
        lane_index=row.lane_index,
        provider=row.provider,
        model=row.model,
        params=dict(row.params or {}),
        prompt=row.prompt,
        negative_prompt=row.negative_prompt,
        revised_prompt=row.revised_prompt,
        seed=row.seed,
        mime=row.mime,
        width=row.width,
        height=row.height,
        data=data,
        latency_ms=row.latency_ms,
        cost_usd=row.cost_usd,
        cost_is_estimate=row.cost_is_estimate,
        nsfw=row.nsfw,
        nsfw_score=row.nsfw_score,
        studio_run_id=row.studio_run_id,
        created_at=row.created_at,
    )


def stored_lane(lane: CompareLaneRow, image_ids: tuple[str, ...]) -> StoredLane:
    return StoredLane(
        index=lane.lane_index,
        provider=lane.provider,
        model=lane.model,
        params=dict(lane.params or {}),
        seeds=tuple(lane.seeds or ()),
        usage=dict(lane.usage or {}),
        latency_ms=lane.latency_ms,
        cost_usd=lane.cost_usd,
        cost_is_estimate=lane.cost_is_estimate,
        image_ids=image_ids,
        error_kind=lane.error_kind,
        error_detail=lane.error_detail,
    )


def lane_row(run: CompareRunRow, index: int, result: ImageResult) -> CompareLaneRow:
    """The row of a lane that made images (in ``run``'s owner and time)."""
    return CompareLaneRow(
        run_id=run.id,
        owner_id=run.owner_id,
        lane_index=index,
        provider=result.provider,
        model=result.model,
        params=dict(result.params),
        seeds=list(result.seeds),
        usage=dict(result.usage),
        latency_ms=result.latency_ms,
        cost_usd=result.cost_usd,
        cost_is_estimate=result.cost_is_estimate,
        image_count=len(result.images),
        created_at=run.created_at,
    )


def image_rows(
    run: CompareRunRow, index: int, request: ImageRequest, result: ImageResult
) -> list[ImageRow]:
    """One row per image of a lane, in the lane's order, each with its thumbnail, its share
    of the cost and the key its bytes are to be stored under (the caller puts them)."""
    share = (
        result.cost_usd / len(result.images)
        if result.cost_usd is not None and result.images
        else None
    )
    rows = []
    for position, image in enumerate(result.images):
        thumb, width, height = make_thumbnail(image.data)
        image_id = uuid.uuid4().hex
        rows.append(
            ImageRow(
                id=image_id,
                owner_id=run.owner_id,
                run_id=run.id,
                lane_index=index,
                position=position,
                provider=result.provider,
                model=result.model,
                params=dict(result.params),
                prompt=request.prompt,
                negative_prompt=request.negative_prompt,
                revised_prompt=image.revised_prompt,
                seed=image.seed,
                mime=image.mime_type,
                width=width,
                height=height,
                blob_key=blob_key(GALLERY, run.owner_id, image_id, image.mime_type),
                thumbnail=thumb,
                thumb_mime="image/webp" if thumb else None,
                latency_ms=result.latency_ms,
                cost_usd=share,
                cost_is_estimate=result.cost_is_estimate,
                nsfw=image.nsfw,
                nsfw_score=image.nsfw_score,
                studio_run_id=run.studio_run_id,
                created_at=run.created_at,
            )
        )
    return rows
