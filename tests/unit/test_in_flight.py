"""The in-flight table that lets a new page run wait for an interrupted one."""

from __future__ import annotations

import threading

from services.in_flight import InFlight


class Work:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.done.set()  # a writer that stores at once when asked to stop


def test_settle_returns_at_once_when_nothing_streams():
    InFlight().settle("nothing", cancel=True, timeout=5)


def test_settle_waits_for_the_writer_and_cancels_when_asked():
    table, work = InFlight(), Work()
    table.add("c1", work)
    writer = threading.Timer(0.05, work.done.set)
    writer.start()
    table.settle("c1")
    assert work.done.is_set() and not work.cancelled
    table.add("c2", second := Work())
    table.settle("c2", cancel=True)
    assert second.cancelled


def test_a_vanished_writer_is_forgotten_after_the_timeout():
    table, work = InFlight(), Work()
    work.cancel = lambda: None  # never stores anything
    table.add("c1", work)
    table.settle("c1", cancel=True, timeout=0.01)
    assert "c1" not in table


def test_remove_leaves_a_newer_item_under_the_same_key():
    table, old, new = InFlight(), Work(), Work()
    table.add("c1", old)
    table.add("c1", new)
    table.remove("c1", old)
    assert "c1" in table
    table.remove("c1", new)
    assert "c1" not in table
