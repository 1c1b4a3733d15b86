"""`streamlit run`, with a clock on the server's side of every session's chat turn.

bench_sessions starts each app under test as ``python -m bench.server_clock run SCRIPT ...``
instead of ``python -m streamlit run SCRIPT ...``: the same Streamlit, the same app, plus two
hooks on Streamlit's AppSession, the same for every app. When a session's BackMsg carries a
benchmark message (``Imagine animals on Mars, round N``: turn N; any other: turn 1), the server's
time of its arrival is noted; when that session's browser queue is next flushed with text of
this turn's reply (the fake's replies say ``reply #N:``; an earlier turn's reply drawn again
does not count), a line is appended to the file named by ``BENCH_SERVER_CLOCK``:
``<session> <turn> <arrival> <ms> <cpu>``, the arrival on the server's monotonic clock, the
milliseconds between the two, and the CPU time the server's process spent in between (all its
threads), all in milliseconds. With one session at a time, ``cpu`` is mostly the server's own
work for a turn before its first token (plus the little else an idle process does meanwhile):
what each of ten sessions sending at once makes the others wait for.

That is the first token as the server delivers it: its queueing, the script's work before the
reply, the fake's 300 ms and the flush, and none of the browser's rendering.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time

MESSAGE = re.compile(rb"Imagine animals on Mars, ([^\x00-\x1f]*)")
ROUND = re.compile(rb"round (\d+)")
MARKER = re.compile(rb" reply #(\d+):")


def turn_of(backmsg: bytes) -> int | None:
    """The turn a BackMsg starts, or None if it carries no benchmark message."""
    found = MESSAGE.search(backmsg)
    if found is None:
        return None
    number = ROUND.match(found.group(1))
    return int(number.group(1)) if number else 1


def shows_reply(forward: bytes, turn: int) -> bool:
    """The serialized ForwardMsg holds text of turn ``turn``'s reply: a reply's words and no
    marker of an earlier turn (a reply's first words come before its marker)."""
    if b"Fake" not in forward:
        return False
    markers = [int(m) for m in MARKER.findall(forward)]
    return not markers or max(markers) >= turn


def install(log_path: str) -> None:
    from streamlit.runtime.app_session import AppSession

    pending: dict[int, tuple[float, float, int]] = {}  # id(session) -> (arrival, cpu, turn)
    lock = threading.Lock()
    handle_backmsg = AppSession.handle_backmsg
    flush_browser_queue = AppSession.flush_browser_queue

    def timed_handle_backmsg(self, msg):
        turn = turn_of(msg.SerializeToString())
        if turn is not None:
            with lock:
                pending.setdefault(id(self), (time.monotonic(), time.process_time(), turn))
        return handle_backmsg(self, msg)

    def timed_flush(self):
        messages = flush_browser_queue(self)
        waiting = pending.get(id(self))
        if waiting is not None:
            arrival, cpu, turn = waiting
            if any(shows_reply(m.SerializeToString(), turn) for m in messages):
                ms = (time.monotonic() - arrival) * 1000
                cpu_ms = (time.process_time() - cpu) * 1000
                with lock:
                    pending.pop(id(self), None)
                with open(log_path, "a") as log:
                    log.write(f"{id(self)} {turn} {arrival * 1000:.1f} {ms:.1f} {cpu_ms:.1f}\n")
        return messages

    AppSession.handle_backmsg = timed_handle_backmsg
    AppSession.flush_browser_queue = timed_flush


def main() -> None:
    log_path = os.environ.get("BENCH_SERVER_CLOCK")
    if log_path:
        install(log_path)
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit_main()


if __name__ == "__main__":
    main()
