"""Prompt-by-engine grids for one owner: the grid (its rows' prompt variants and where each
came from, the lanes that are its columns) and, per row, an ordinary comparison run whose
lanes are the row's cells. Lanes, images and votes are the image store's; this store adds
the grid and ties each row's run to it. Another owner's grid id answers like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.storage.db import Database, utcnow
from services.storage.image_tables import CompareGridRow, CompareRunRow
from services.storage.images import CompareRun, ImageStore


@dataclass(frozen=True)
class StoredGrid:
    """A grid as stored: ``rows`` and ``lanes`` as JSON-ready dicts (see services/grid.py),
    and each row's comparison run by row index (None: the row has not started)."""

    id: str
    rows: tuple[dict, ...]
    lanes: tuple[dict, ...]
    concurrency: int
    studio_run_id: str | None
    created_at: datetime
    runs: tuple[CompareRun | None, ...]

    def run(self, row: int) -> CompareRun | None:
        return self.runs[row] if 0 <= row < len(self.runs) else None


@dataclass(frozen=True)
class GridSummary:
    """One line of the list of recent grids."""

    id: str
    rows: int
    columns: int
    first_prompt: str
    created_at: datetime


class GridStore:
    """All reads and writes of grids for one owner; rows' runs go through ``images``."""

    def __init__(self, db: Database, owner_id: str, images: ImageStore) -> None:
        self.db = db
        self.owner_id = owner_id
        self.images = images

    def create(
        self,
        rows: Sequence[Mapping[str, object]],
        lanes: Sequence[Mapping[str, object]],
        *,
        concurrency: int,
        studio_run_id: str | None = None,
    ) -> str:
        """Store a new grid before any of its cells runs; returns its id."""
        grid = CompareGridRow(
            id=uuid.uuid4().hex,
            owner_id=self.owner_id,
            rows=[dict(row) for row in rows],
            lanes=[dict(lane) for lane in lanes],
            concurrency=concurrency,
            studio_run_id=studio_run_id,
            created_at=utcnow(),
        )
        with self.db.session() as s, s.begin():
            s.add(grid)
        return grid.id

    def start_row(
        self,
        grid_id: str,
        row: int,
        prompt: str,
        *,
        negative_prompt: str = "",
        studio_run_id: str | None = None,
    ) -> str:
        """Store row ``row``'s comparison run (its cells are then kept with
        ``ImageStore.save_lane``); returns the run id. KeyError for another owner's grid."""
        with self.db.session() as s, s.begin():
            grid = s.get(CompareGridRow, grid_id)
            if grid is None or grid.owner_id != self.owner_id:
                raise KeyError(grid_id)
            run = CompareRunRow(
                id=uuid.uuid4().hex,
                owner_id=self.owner_id,
                prompt=prompt,
                negative_prompt=negative_prompt,
                studio_run_id=studio_run_id,
                grid_id=grid_id,
                grid_row=row,
                created_at=utcnow(),
            )
            s.add(run)
        return run.id

    def get(self, grid_id: str) -> StoredGrid | None:
        """The grid with each row's run, or None (also for another owner's id)."""
        with self.db.session() as s:
            grid = s.get(CompareGridRow, grid_id)
            if grid is None or grid.owner_id != self.owner_id:
                return None
            run_ids = dict(
                s.execute(
                    select(CompareRunRow.grid_row, CompareRunRow.id).where(
                        CompareRunRow.grid_id == grid_id,
                        CompareRunRow.owner_id == self.owner_id,
                    )
                ).all()
            )
            rows = tuple(dict(row) for row in grid.rows or ())
            lanes = tuple(dict(lane) for lane in grid.lanes or ())
            head = (grid.id, grid.concurrency, grid.studio_run_id, grid.created_at)
        runs = tuple(
            self.images.get_run(run_ids[i]) if i in run_ids else None for i in range(len(rows))
        )
        return StoredGrid(head[0], rows, lanes, head[1], head[2], head[3], runs)

    def recent(self, limit: int = 20) -> list[GridSummary]:
        """This owner's latest grids, newest first."""
        stmt = (
            select(CompareGridRow)
            .where(CompareGridRow.owner_id == self.owner_id)
            .order_by(CompareGridRow.created_at.desc())
            .limit(limit)
        )
        with self.db.session() as s:
            return [
                GridSummary(
                    grid.id,
                    len(grid.rows or ()),
                    len(grid.lanes or ()),
                    str((grid.rows or [{}])[0].get("prompt", "")),
                    grid.created_at,
                )
                for grid in s.scalars(stmt)
            ]
