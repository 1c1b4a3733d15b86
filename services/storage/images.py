"""Generated images with full lineage, comparison runs and votes. Every row carries an owner id.

A comparison run has lanes (one provider call each, kept even when it failed or its images
are deleted, so costs, quotas and the leaderboard stay true) and images (bytes, a small
thumbnail for the gallery, and what produced them). Gallery pages read thumbnails only;
full bytes are loaded one image at a time.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PIL import Image, PngImagePlugin
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
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.errors import ChatCanvasError, scrub
from services.images.base import ImageRequest, ImageResult, LaneOutcome, within_pixel_limit
from services.storage.db import Base, Database, utcnow

LINEAGE_FORMAT = "chatcanvas.image.v1"
EXPORT_FORMAT = "chatcanvas.images.v1"
LINEAGE_PNG_KEY = "chatcanvas:lineage"
THUMBNAIL_SIDE = 256
ELO_START = 1000.0
ELO_K = 32.0
_OUTCOME = re.compile(r"^lane:(\d+)$")
_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg", "image/gif": "gif"}


class CompareRunRow(Base):
    __tablename__ = "compare_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    prompt: Mapped[str] = mapped_column(Text, default="")
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    # "lane:N" | "tie" | "both_bad" | None (not voted)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    voted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    studio_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
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
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    thumb_mime: Mapped[str | None] = mapped_column(String(32), nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)  # share of its call
    cost_is_estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    nsfw: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    nsfw_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    studio_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_images_owner_created", "owner_id", "created_at"),)


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
    outcome: str | None
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

    def lineage(self) -> dict:
        """Where this image came from, as JSON-ready data (never a key: params are as sent
        to the provider, and credentials travel in headers)."""
        return {
            "format": LINEAGE_FORMAT,
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "revised_prompt": self.revised_prompt,
            "params": self.params,
            "seed": self.seed,
            "mime_type": self.mime,
            "width": self.width,
            "height": self.height,
            "latency_ms": self.latency_ms,
            "cost_usd": self.cost_usd,
            "cost_is_estimate": self.cost_is_estimate,
            "nsfw": self.nsfw,
            "nsfw_score": self.nsfw_score,
            "run_id": self.run_id,
            "lane_index": self.lane_index,
            "studio_run_id": self.studio_run_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class LeaderboardRow:
    provider: str
    model: str
    wins: int
    losses: int
    ties: int
    both_bad: int
    elo: float

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float | None:
        """Wins over decided-or-tied games; None before the first game."""
        return self.wins / self.games if self.games else None


@dataclass(frozen=True)
class CostDay:
    day: date
    cost_usd: float
    images: int
    # calls that made images without a known price: the day's cost is then a lower bound
    unpriced_calls: int
    has_estimate: bool


# -- helpers ---------------------------------------------------------------------------------


def make_thumbnail(
    data: bytes, side: int = THUMBNAIL_SIDE
) -> tuple[bytes | None, int | None, int | None]:
    """(WebP thumbnail at most ``side`` px, width, height) of an image; Nones when Pillow
    cannot read it or it is beyond the pixel limit (the original is still kept). Decodes at a
    reduced scale where the format allows, and converts only the small result."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if not within_pixel_limit(width, height):
                return None, None, None
            # palette images would be resized by nearest neighbour: convert those first
            if image.mode in ("P", "1"):
                small = image.convert("RGBA" if image.mode == "P" else "L")
            else:
                small = image
            small.thumbnail((side, side), reducing_gap=2.0)  # JPEG draft, then reduce()
            thumb = small.convert("RGBA" if small.mode in ("RGBA", "LA", "PA") else "RGB")
            out = io.BytesIO()
            thumb.save(out, format="WEBP", quality=80)
            return out.getvalue(), width, height
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None, None, None


def read_png_lineage(png: bytes) -> dict | None:
    """The lineage embedded by :meth:`ImageStore.png_with_lineage`, or None."""
    with Image.open(io.BytesIO(png)) as image:
        text = getattr(image, "text", {}) or {}
        raw = text.get(LINEAGE_PNG_KEY)
    return json.loads(raw) if raw else None


def _day_start(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.min)


def _day_end(value: date | datetime) -> datetime:
    """A date ``until`` includes that whole day; a datetime is an exclusive bound."""
    return (
        value
        if isinstance(value, datetime)
        else datetime.combine(value + timedelta(days=1), time.min)
    )


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "image"


def _elo_expected(a: float, b: float) -> float:
    return 1.0 / (1.0 + 10 ** ((b - a) / 400.0))


_THUMB_COLUMNS = (
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


def _stored_image(row: ImageRow) -> StoredImage:
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
        data=row.data,
        latency_ms=row.latency_ms,
        cost_usd=row.cost_usd,
        cost_is_estimate=row.cost_is_estimate,
        nsfw=row.nsfw,
        nsfw_score=row.nsfw_score,
        studio_run_id=row.studio_run_id,
        created_at=row.created_at,
    )


class ImageStore:
    """All reads and writes of images, runs and votes for one owner go through here."""

    def __init__(self, db: Database, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id

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
        (safe from the lane's worker thread: an interrupted page loses nothing paid for)."""
        with self.db.session() as s, s.begin():
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
                return
            s.add(self._lane_row(run, index, outcome))
            s.add_all(self._image_rows(run, index, request, outcome))

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

    def _lane_row(self, run: CompareRunRow, index: int, result: ImageResult) -> CompareLaneRow:
        return CompareLaneRow(
            run_id=run.id,
            owner_id=self.owner_id,
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

    def _image_rows(
        self, run: CompareRunRow, index: int, request: ImageRequest, result: ImageResult
    ) -> list[ImageRow]:
        share = (
            result.cost_usd / len(result.images)
            if result.cost_usd is not None and result.images
            else None
        )
        rows = []
        for position, image in enumerate(result.images):
            thumb, width, height = make_thumbnail(image.data)
            rows.append(
                ImageRow(
                    id=uuid.uuid4().hex,
                    owner_id=self.owner_id,
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
                    data=image.data,
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

    def record_vote(self, run_id: str, outcome: str | None) -> None:
        """Set (or clear with None) a run's vote: "lane:N", "tie" or "both_bad".
        Raises KeyError for an unknown run, ValueError for an outcome it cannot have."""
        run = self.get_run(run_id)
        if run is None:
            raise KeyError(run_id)
        if outcome is not None and outcome not in ("tie", "both_bad"):
            match = _OUTCOME.match(outcome)
            if match is None or int(match.group(1)) >= len(run.lanes):
                raise ValueError(f"not an outcome of this run: {outcome!r}")
        with self.db.session() as s, s.begin():
            s.execute(
                update(CompareRunRow)
                .where(CompareRunRow.id == run_id, CompareRunRow.owner_id == self.owner_id)
                .values(outcome=outcome, voted_at=utcnow() if outcome else None)
            )

    def delete(self, image_ids: Iterable[str]) -> int:
        """Delete images (their lanes stay, so costs, quota counts and votes keep counting).
        Returns how many were deleted."""
        ids = list(image_ids)
        if not ids:
            return 0
        with self.db.session() as s, s.begin():
            result = s.execute(
                delete(ImageRow).where(ImageRow.id.in_(ids), ImageRow.owner_id == self.owner_id)
            )
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
                outcome=run.outcome,
                created_at=run.created_at,
                voted_at=run.voted_at,
                studio_run_id=run.studio_run_id,
                lanes=tuple(
                    StoredLane(
                        index=lane.lane_index,
                        provider=lane.provider,
                        model=lane.model,
                        params=dict(lane.params or {}),
                        seeds=tuple(lane.seeds or ()),
                        usage=dict(lane.usage or {}),
                        latency_ms=lane.latency_ms,
                        cost_usd=lane.cost_usd,
                        cost_is_estimate=lane.cost_is_estimate,
                        image_ids=tuple(image_ids.get(lane.lane_index, ())),
                        error_kind=lane.error_kind,
                        error_detail=lane.error_detail,
                    )
                    for lane in lanes
                ),
            )

    def _filtered(
        self,
        stmt,
        provider: str | None,
        model: str | None,
        text: str | None,
        since: date | datetime | None,
        until: date | datetime | None,
    ):
        stmt = stmt.where(ImageRow.owner_id == self.owner_id)
        if provider:
            stmt = stmt.where(ImageRow.provider == provider)
        if model:
            stmt = stmt.where(ImageRow.model == model)
        if text and text.strip():
            stmt = stmt.where(ImageRow.prompt.icontains(text.strip(), autoescape=True))
        if since is not None:
            stmt = stmt.where(ImageRow.created_at >= _day_start(since))
        if until is not None:
            stmt = stmt.where(ImageRow.created_at < _day_end(until))
        return stmt

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
        """A gallery page, newest first, without the full image bytes. ``text`` matches the
        prompt (case-insensitive); a date ``until`` includes that day."""
        stmt = self._filtered(select(*_THUMB_COLUMNS), provider, model, text, since, until)
        stmt = (
            stmt.order_by(ImageRow.created_at.desc(), ImageRow.lane_index, ImageRow.position)
            .limit(limit)
            .offset(offset)
        )
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
        stmt = self._filtered(select(func.count(ImageRow.id)), provider, model, text, since, until)
        with self.db.session() as s:
            return int(s.execute(stmt).scalar_one())

    def get_image(self, image_id: str) -> StoredImage | None:
        """One image with its bytes and lineage, or None (also for another owner's id)."""
        with self.db.session() as s:
            row = s.get(ImageRow, image_id)
            return _stored_image(row) if row and row.owner_id == self.owner_id else None

    def png_with_lineage(self, image_id: str) -> bytes:
        """The image as PNG with its lineage JSON in an iTXt chunk (``chatcanvas:lineage``)
        and the prompt as ``Description``. Raises KeyError for an unknown id."""
        image = self.get_image(image_id)
        if image is None:
            raise KeyError(image_id)
        info = PngImagePlugin.PngInfo()
        info.add_itxt(LINEAGE_PNG_KEY, json.dumps(image.lineage(), ensure_ascii=False))
        info.add_itxt("Description", image.prompt)
        info.add_text("Software", "ChatCanvas")
        with Image.open(io.BytesIO(image.data)) as pil:
            if pil.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I"):
                pil = pil.convert("RGBA")
            out = io.BytesIO()
            pil.save(out, format="PNG", pnginfo=info)
        return out.getvalue()

    def export_zip(self, image_ids: Iterable[str]) -> bytes:
        """A ZIP of the images (original bytes) and ``lineage.json`` describing each file.
        Unknown ids and other owners' ids are skipped. Loads one image at a time."""
        buffer = io.BytesIO()
        entries = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for n, image_id in enumerate(dict.fromkeys(image_ids), start=1):
                image = self.get_image(image_id)
                if image is None:
                    continue
                ext = _EXTENSIONS.get(image.mime, "bin")
                name = f"{n:03d}_{_safe(image.provider)}_{_safe(image.model)}_{image.id[:8]}.{ext}"
                # images are compressed already: store them as they are
                archive.writestr(name, image.data, compress_type=zipfile.ZIP_STORED)
                entries.append({"file": name, **image.lineage()})
            manifest = {
                "format": EXPORT_FORMAT,
                "exported_at": utcnow().isoformat(),
                "images": entries,
            }
            archive.writestr("lineage.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        return buffer.getvalue()

    # -- summaries -------------------------------------------------------------------------
    def leaderboard(self) -> list[LeaderboardRow]:
        """Wins, losses, ties and Elo (start 1000, K=32) per provider/model from this owner's
        votes, replayed in vote order. "lane:N" beats every other successful lane of the run;
        "tie" draws every pair; "both_bad" is counted but moves no rating. Lanes that failed
        and pairs of the same provider/model are not games."""
        with self.db.session() as s:
            runs = s.execute(
                select(CompareRunRow.id, CompareRunRow.outcome)
                .where(CompareRunRow.owner_id == self.owner_id, CompareRunRow.outcome.is_not(None))
                .order_by(CompareRunRow.voted_at, CompareRunRow.created_at)
            ).all()
            lanes: dict[str, dict[int, tuple[str, str]]] = {}
            for run_id, index, provider, model in s.execute(
                select(
                    CompareLaneRow.run_id,
                    CompareLaneRow.lane_index,
                    CompareLaneRow.provider,
                    CompareLaneRow.model,
                ).where(
                    CompareLaneRow.owner_id == self.owner_id,
                    CompareLaneRow.image_count > 0,
                    CompareLaneRow.error_kind.is_(None),
                    CompareLaneRow.run_id.in_(
                        select(CompareRunRow.id).where(
                            CompareRunRow.owner_id == self.owner_id,
                            CompareRunRow.outcome.is_not(None),
                        )
                    ),
                )
            ):
                lanes.setdefault(run_id, {})[index] = (provider, model)
        stats: dict[tuple[str, str], dict[str, float]] = {}

        def entry(key: tuple[str, str]) -> dict[str, float]:
            return stats.setdefault(
                key, {"wins": 0, "losses": 0, "ties": 0, "both_bad": 0, "elo": ELO_START}
            )

        def play(a: tuple[str, str], b: tuple[str, str], score_a: float) -> None:
            ea, eb = entry(a), entry(b)
            expected = _elo_expected(ea["elo"], eb["elo"])
            ea["elo"] += ELO_K * (score_a - expected)
            eb["elo"] += ELO_K * ((1 - score_a) - (1 - expected))

        for run_id, outcome in runs:
            ok = lanes.get(run_id, {})
            if outcome == "both_bad":
                for key in ok.values():
                    entry(key)["both_bad"] += 1
                continue
            if outcome == "tie":
                keys = list(ok.values())
                for i, a in enumerate(keys):
                    for b in keys[i + 1 :]:
                        if a != b:
                            entry(a)["ties"] += 1
                            entry(b)["ties"] += 1
                            play(a, b, 0.5)
                continue
            match = _OUTCOME.match(outcome or "")
            winner = ok.get(int(match.group(1))) if match else None
            if winner is None:
                continue
            for loser in ok.values():
                if loser == winner:
                    continue
                entry(winner)["wins"] += 1
                entry(loser)["losses"] += 1
                play(winner, loser, 1.0)
        rows = [
            LeaderboardRow(
                provider=provider,
                model=model,
                wins=int(v["wins"]),
                losses=int(v["losses"]),
                ties=int(v["ties"]),
                both_bad=int(v["both_bad"]),
                elo=round(v["elo"], 1),
            )
            for (provider, model), v in stats.items()
        ]
        return sorted(rows, key=lambda r: (-r.elo, -r.games, r.provider, r.model))

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
        if since is not None:
            stmt = stmt.where(CompareLaneRow.created_at >= _day_start(since))
        if until is not None:
            stmt = stmt.where(CompareLaneRow.created_at < _day_end(until))
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

    def karlo_images_this_month(self, today: date | None = None) -> int:
        """Karlo images made since the first of this month (UTC), deleted ones included:
        what counts against Kakao's monthly quota."""
        today = today or utcnow().date()
        start = datetime.combine(today.replace(day=1), time.min)
        stmt = select(func.coalesce(func.sum(CompareLaneRow.image_count), 0)).where(
            CompareLaneRow.owner_id == self.owner_id,
            CompareLaneRow.provider == "karlo",
            CompareLaneRow.created_at >= start,
        )
        with self.db.session() as s:
            return int(s.execute(stmt).scalar_one())
