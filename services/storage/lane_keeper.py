"""Keeping each lane of a comparison as it ends, and the paid images when the store cannot.

A lane's images are paid for the moment the provider answers. If the database then refuses
the write (disk full, a locked or read-only file, a dropped PostgreSQL connection), or the
blob store does (the image folder, S3: ``ChatCanvasError(BLOB_STORE)``), losing the
images as well would make the user pay twice for nothing; the keeper holds them for the page
to offer as downloads, with the reason they were not stored.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from services.errors import ChatCanvasError, ErrorKind
from services.images.base import ImageRequest, LaneOutcome
from services.storage.images import ImageStore


@dataclass(frozen=True)
class UnsavedLane:
    """A lane the store refused: its outcome as generated, and why it was not stored."""

    index: int
    model: str
    outcome: LaneOutcome
    reason: str


class LaneKeeper:
    """The ``keep`` callback of :func:`services.images.run_lanes` for one stored run: each
    lane is saved in its own transaction from its worker thread; a lane whose save fails is
    held in :attr:`unsaved` instead (thread-safe), and the run goes on."""

    def __init__(self, store: ImageStore, run_id: str, requests: Sequence[ImageRequest]) -> None:
        self._store = store
        self._run_id = run_id
        self._requests = list(requests)
        self._lock = threading.Lock()
        self.unsaved: dict[int, UnsavedLane] = {}

    def __call__(self, index: int, outcome: LaneOutcome) -> None:
        request = self._requests[index]
        try:
            self._store.save_lane(self._run_id, index, request, outcome)
        except ChatCanvasError as exc:
            if exc.kind is not ErrorKind.BLOB_STORE:
                raise
            self._hold(UnsavedLane(index, request.model, outcome, str(exc.kind)))
        except (SQLAlchemyError, OSError, KeyError) as exc:
            # the class name only: a database message may quote the URL or the row's values
            self._hold(UnsavedLane(index, request.model, outcome, type(exc).__name__))

    def _hold(self, lane: UnsavedLane) -> None:
        with self._lock:
            self.unsaved[lane.index] = lane
