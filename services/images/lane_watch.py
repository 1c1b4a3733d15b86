"""Progress and cancel for lanes while they run.

Every lane of a comparison gets a :class:`LaneWatch`. A provider that implements
:class:`WatchedProvider` reports into it from its own thread: the local engine its place in
the queue and each denoising step, a streaming GPT Image lane each partial image as it
arrives; it stops when the watch is cancelled. Every lane's watch also knows when it started,
so a lane without progress of its own still shows how long it has been running. The caller's thread reads the latest progress
(:func:`services.images.base.run_lanes` polls it). Watches of running comparisons are
registered process-wide by run id and lane index, so a later page run, even another
session's run of the same owner, can cancel a lane (``ComparisonService.cancel_lane``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from services.images.base import ImageRequest, ImageResult


@dataclass(frozen=True)
class LaneProgress:
    """Where a lane is: ``waiting`` lanes ahead of it in the queue (0 once it runs), then
    ``step`` of ``steps`` denoising steps done. ``loading``: the model is being loaded.
    A streaming lane: ``partial``, the latest partial image (number ``partial_index`` from 0,
    of ``partials`` asked for), and ``first_pixels_ms`` after the call began. ``elapsed``:
    whole seconds since the lane started (filled in by ``run_lanes``)."""

    waiting: int = 0
    step: int = 0
    steps: int = 0
    loading: bool = False
    partial: bytes | None = field(default=None, repr=False)
    partial_index: int = 0
    partials: int = 0
    first_pixels_ms: int | None = None
    elapsed: int = 0

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
        self.started = time.monotonic()
        self._on_cancel: list[Callable[[], None]] = []

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
        with self._lock:
            self.cancelled.set()
            hooks = list(self._on_cancel)
        for hook in hooks:
            hook()

    def when_cancelled(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (e.g. close a stream the worker is reading) on cancel, from the
        cancelling thread; at once when the watch is cancelled already."""
        with self._lock:
            self._on_cancel.append(hook)
            now = self.cancelled.is_set()
        if now:
            hook()


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
