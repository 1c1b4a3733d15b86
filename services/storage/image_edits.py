"""Edits in the image store: an edit is kept as a one-lane run whose images name their source
(``images.parent_image_id``, an id rather than a foreign key, so deleting the parent leaves
the edit, whose lineage then says the parent is gone). Reads and writes go through the
owner's :class:`ImageStore`; another owner's ids answer like missing ones."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.images.base import ImageRequest, ImageResult
from services.storage.image_tables import (
    THUMB_COLUMNS,
    CompareRunRow,
    ImageRow,
    ImageThumb,
)
from services.storage.images import ImageStore


@dataclass(frozen=True)
class SavedEdit:
    run_id: str
    image_ids: tuple[str, ...]


class ImageEdits:
    """The lineage side of one owner's images."""

    def __init__(self, store: ImageStore) -> None:
        self.store = store

    def save(self, parent_id: str, request: ImageRequest, result: ImageResult) -> SavedEdit:
        """Store an edit's images (``request.prompt`` is the instruction) as derived from
        ``parent_id``, with its call as the lane of a run of its own (so the cost ledger and
        the gallery count it like any image call)."""
        store = self.store
        run_id = store.start_run(request.prompt)
        with store.db.session() as s:
            run = s.get(CompareRunRow, run_id)
            assert run is not None
            ids = store.keep_lane(s, run, 0, request, result, parent_image_id=parent_id)
        return SavedEdit(run_id, ids)

    def parent_of(self, image_id: str) -> str | None:
        """The id of the image ``image_id`` was derived from (None: not an edit, or not
        this owner's image). The parent itself may be gone."""
        with self.store.db.session() as s:
            return s.execute(
                select(ImageRow.parent_image_id).where(
                    ImageRow.id == image_id, ImageRow.owner_id == self.store.owner_id
                )
            ).scalar_one_or_none()

    def thumb(self, image_id: str) -> ImageThumb | None:
        """One of this owner's images without its bytes (None: missing or another owner's)."""
        stmt = select(*THUMB_COLUMNS).where(
            ImageRow.id == image_id, ImageRow.owner_id == self.store.owner_id
        )
        with self.store.db.session() as s:
            row = s.execute(stmt).first()
        return ImageThumb(*row) if row is not None else None

    def edits_of(self, image_id: str) -> list[ImageThumb]:
        """This owner's images derived from ``image_id``, oldest first, without their bytes."""
        stmt = (
            select(*THUMB_COLUMNS)
            .where(ImageRow.parent_image_id == image_id, ImageRow.owner_id == self.store.owner_id)
            .order_by(ImageRow.created_at, ImageRow.position)
        )
        with self.store.db.session() as s:
            return [ImageThumb(*row) for row in s.execute(stmt)]
