"""What one chat turn costs, counted rather than timed: the companion of bench_sessions.

One signed-in browser session (ChatCanvas in shared mode, as in bench_sessions) sends a few
messages, one after the other, against the fake OpenAI server. For each turn it counts what
the server sent the page over its WebSocket (messages and bytes, in all and before the first
frame that holds the reply's text), the server's CPU time for the turn (user + system, from
/proc: CPU spent, not time waited, so another process on the machine changes it little), and
the size of the page afterwards (DOM elements). The same is counted for bench_sessions' two
baselines: the minimal app and the same app with a dashboard's controls.

These figures move with the page's own work, which is what competes for the CPUs when many
sessions send at once; bench_sessions measures the resulting times.

Measured 2026-11-26 on the 2-core machine, 4 turns each (medians; the CPU times are noisy, as
other work shared the machine; the counts are not):
  before one-run turns (d28308b): ChatCanvas 152 messages, 25.0 kB per turn (76 messages,
    12.1 kB before the reply's first text), server 235 ms, browser 1165 ms, 756 DOM elements;
  after: ChatCanvas 96 messages, 15.3 kB (72, 11.6 kB before the reply), server 125 ms,
    browser 720 ms, 760 DOM elements;
  after the conversation part became a fragment (a message in place reruns only it):
    ChatCanvas 47 messages, 8.8 kB (28, 4.9 kB before the reply), server 145 ms, browser
    730 ms, 880 DOM elements;
  a reply finished by adding its caption and actions rather than drawing the pair again:
    ChatCanvas 41-44 messages, 8.1-8.4 kB (24-30, 4.3-5.3 kB before the reply), server
    125-145 ms, browser 765-975 ms (idle machine; the browser's figure is noisy), 886 DOM
    elements;
  minimal app: 26 messages, 3.1 kB (16, 2.0 kB before the reply), server 215-255 ms,
    browser 400-575 ms, 178 DOM elements.
Measured 2026-11-26 evening, idle machine, with the controls baseline:
  ChatCanvas 45 messages, 8.5 kB (32, 5.5 kB before the reply), server 120 ms, browser
    660 ms, 888 DOM elements;
  controls app (every message a run of the whole page): 70 messages, 8.8 kB (60, 7.7 kB
    before the reply), server 255 ms, browser 665 ms, 567 DOM elements;
  minimal app: 26 messages, 3.1 kB, server 210 ms, browser 445 ms, 178 DOM elements.
  A median turn of ChatCanvas costs the browser what one of the controls app does; its first
  turn costs about twice that (see bench_sessions).
What is left before the reply is the fragment's run: the transcript (redrawn as busy, without
its actions), the budget line and the run the input's callback needs (no elements).

Run: .venv/bin/python -m bench.bench_turn_cost [--turns 4]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_sessions import (  # noqa: E402
    APPS,
    INPUT,
    Server,
    open_sessions,
    start_app,
    wait_idle,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, app_environment  # noqa: E402
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """User + system CPU time of the process so far, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def browser_cpu_ms() -> float:
    """CPU time of every Chromium process this benchmark started (descendants of this one)."""
    parents, names = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], names[pid] = int(tail.split()[1]), head.split("(", 1)[1]
    mine, total = {os.getpid()}, 0.0
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                changed = True
    for pid in mine:
        if "chrom" in names.get(pid, ""):
            with contextlib.suppress(OSError):  # a process that has just ended
                total += cpu_ms(pid)
    return total


def count_turns(page, server: Server, turns: int) -> list[dict]:
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(_bytes(f))))
    page.reload()
    page.wait_for_selector(INPUT, timeout=60_000)
    wait_idle(page)
    results = []
    for turn in range(1, turns + 1):
        frames.clear()
        before, browser_before = cpu_ms(server.proc.pid), browser_cpu_ms()
        page.fill(INPUT, f"Imagine animals on Mars, turn {turn}")
        page.press(INPUT, "Enter")
        page.wait_for_function(
            "m => document.body.innerText.includes(m)", arg=f" reply #{turn}:", timeout=60_000
        )
        wait_idle(page)
        marker = f" reply #{turn}:".encode()
        first = next((i for i, f in enumerate(frames) if marker in f), len(frames))
        results.append(
            {
                "cpu_ms": cpu_ms(server.proc.pid) - before,
                "browser_ms": browser_cpu_ms() - browser_before,
                "messages": len(frames),
                "kb": sum(map(len, frames)) / 1024,
                "messages_before_reply": first,
                "kb_before_reply": sum(map(len, frames[:first])) / 1024,
                "dom": page.evaluate("() => document.querySelectorAll('*').length"),
            }
        )
    return results


def _bytes(frame) -> bytes:
    return frame if isinstance(frame, bytes) else frame.encode()


def report(name: str, results: list[dict]) -> None:
    median = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(
        f"{name:<12} per turn (median of {len(results)}): CPU server {median['cpu_ms']:4.0f} ms,"
        f" browser {median['browser_ms']:4.0f} ms |"
        f" {median['messages']:4.0f} messages, {median['kb']:6.1f} kB"
        f" ({median['messages_before_reply']:.0f} messages, {median['kb_before_reply']:.1f} kB"
        f" before the reply's first text) | page {median['dom']:.0f} DOM elements"
    )


def run(turns: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.oidc import OidcProvider

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the provider's request log
    tmp = Path(tempfile.mkdtemp(prefix="bench-turn-cost-"))
    with FakeOpenAI(first_token_delay=0.3, token_delay=0.01) as fake, OidcProvider() as provider:
        env = app_environment(OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=fake.base_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in APPS:
                server, sign_in = start_app(name, env, tmp, provider)
                try:
                    (page,) = open_sessions(browser, server.url, 1, sign_in)
                    report(name, count_turns(page, server, turns))
                    page.context.close()
                finally:
                    server.stop()
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=4)
    run(parser.parse_args().turns)


if __name__ == "__main__":
    main()
