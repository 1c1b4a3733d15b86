"""Work being streamed in this process, findable by id from another page run.

Streamlit starts a new run of a page before an interrupted run has unwound, and the
interrupted run stores its final state in a ``finally``. So before a new run reads that state
from the store, it calls :meth:`InFlight.settle`: it waits until the work is stored, after
asking it to stop when the user pressed Stop or Cancel.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Streaming(Protocol):
    done: threading.Event  # set once the final state is stored

    def cancel(self) -> None:
        """Stop from any thread; the writer then stores what it has."""
        ...


class InFlight:
    """A thread-safe table of streaming work by id (a conversation, a studio run)."""

    def __init__(self) -> None:
        self._items: dict[str, Streaming] = {}
        self._lock = threading.Lock()

    def add(self, key: str, item: Streaming) -> None:
        with self._lock:
            self._items[key] = item

    def remove(self, key: str, item: Streaming) -> None:
        """Forget ``item`` (and only it: a newer item under the same key stays)."""
        with self._lock:
            if self._items.get(key) is item:
                del self._items[key]

    def get(self, key: str) -> Streaming | None:
        """What streams under ``key`` now, to follow it from another run."""
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def settle(self, key: str, *, cancel: bool = False, timeout: float = 10.0) -> bool:
        """Wait until nothing is streaming under ``key``; with ``cancel``, stop it first.
        Returns at once when nothing is; True once nothing streams under ``key`` any more.

        Without ``cancel`` the writer may be another browser session streaming into the same
        conversation: after ``timeout`` it is left alone (its Stop must keep working) and
        False is returned, so the caller shows what is stored so far. With ``cancel``, a
        writer that does not store within ``timeout`` is taken for dead and forgotten."""
        with self._lock:
            item = self._items.get(key)
        if item is None:
            return True
        if cancel:
            item.cancel()
        if item.done.wait(timeout):
            return True
        if cancel:
            # Its writer is gone (the run died before storing): do not make every rerun wait.
            self.remove(key, item)
            return True
        return False
