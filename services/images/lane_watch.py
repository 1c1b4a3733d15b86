"""Progress and cancel for lanes that run long on this machine (the local engine).

A :class:`LaneWatch` is handed to a provider that implements :class:`WatchedProvider`: the
provider reports its place in the queue and each denoising step into it from its own thread,
and stops when the watch is cancelled. The caller's thread reads the latest progress
(:func:`services.images.base.run_lanes` polls it). Watches of running comparisons are
registered process-wide by run id and lane index, so a later page run, even another
session's run of the same owner, can cancel a lane (``ComparisonService.cancel_lane``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from services.images.base import ImageRequest, ImageResult


@dataclass(frozen=True)
class LaneProgress:
    """Where a lane is: ``waiting`` lanes ahead of it in the queue (0 once it runs), then
    ``step`` of ``steps`` denoising steps done. ``loading``: the model is being loaded."""

    waiting: int = 0
    step: int = 0
    steps: int = 0
    loading: bool = False

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.steps) if self.steps else 0.0


class LaneWatch:
    """One lane's progress (written by its worker) and cancel flag (set by anyone)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: LaneProgress | None = None
        self._version = 0
        self.cancelled = threading.Event()
        self.ended = threading.Event()  # the lane ended and was kept (stored)

    def report(self, progress: LaneProgress) -> None:
        with self._lock:
            if progress != self._progress:
                self._progress = progress
                self._version += 1

    def latest(self) -> tuple[int, LaneProgress | None]:
        """(a number that grows with every change, the latest progress)."""
        with self._lock:
            return self._version, self._progress

    def cancel(self) -> None:
        self.cancelled.set()


@runtime_checkable
class WatchedProvider(Protocol):
    """A provider that reports progress and can be cancelled while it works."""

    def generate_watched(self, request: ImageRequest, watch: LaneWatch) -> ImageResult:
        """Like ``generate``; reports into ``watch`` and stops when it is cancelled."""
        ...


_registry_lock = threading.Lock()
_running: dict[tuple[str, int], LaneWatch] = {}


def register(run_id: str, watches: dict[int, LaneWatch]) -> None:
    with _registry_lock:
        _running.update({(run_id, index): watch for index, watch in watches.items()})


def unregister(run_id: str, indexes: list[int]) -> None:
    with _registry_lock:
        for index in indexes:
            _running.pop((run_id, index), None)


def running(run_id: str, index: int) -> LaneWatch | None:
    """The watch of a lane still running in this process, if any."""
    with _registry_lock:
        return _running.get((run_id, index))
