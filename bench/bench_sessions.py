"""Load benchmark: N browser sessions send a chat message at the same moment.

ChatCanvas and two baselines are each served by `streamlit run` against the same fake OpenAI
server (300 ms to first token), and driven the same way by headless Chromium in the same run:
a minimal Streamlit chat app (bench/minimal_chat_app.py: history in SQLite, st.write_stream),
the one the target is set against, and the same app with the controls of a chat dashboard
(bench/controls_chat_app.py: a sidebar with the list of chats, search, rename, delete, export
and import; a settings panel), which tells what the page's controls cost from what ChatCanvas's
own work costs. For each app it prints the first-token time of a single session, p50 and p95
under load, and the server's memory per open session after each session has sent a message;
then the ratios of the p95s. Times are taken
inside each page (keydown of Enter to the first reply text), so the Python driver's own
pace does not count.

ChatCanvas runs in shared mode, as deployed for a team: `[auth]` in a secrets file of its own
points st.login at a real OpenID Connect provider on 127.0.0.1 (tests/e2e/oidc.py), and each
session signs in as a different person before anything is timed. Its limits do not interfere
(DAILY_BUDGET_USD = 0: unlimited). The baselines have no sign-in.

All browser pages run on the same machine as the servers, so a page's rendering work competes
with the server for the CPUs (users of a deployment each render in their own browser): on a
small machine, a page with more on it than the minimal app's pays for that twice.

Memory: the server's resident set (VmRSS) once N sessions are open and have each sent their
messages, minus its resident set before any of them was opened, divided by N. The server has
served one warm-up session (one message) before, so imports and caches are not counted as
per-session cost. Memory the allocator freed earlier is reused first, so a figure near zero
(even slightly negative) means a session costs less than that noise, about 1 MB / N.

Targets: ChatCanvas p95 under load at most 1.1x the minimal app's p95; at most 20 MB of
server memory per open session.

Measured 2026-11-26 on the 2-core machine (10 sessions, 3 rounds; other work shared the
machine, so the ratios move by a factor of two from run to run):
  with the source watcher on and a first message running the whole page: single 695 ms
    (minimal 391), p95 9982 ms (2298): 4.34;
  without the watcher, the first message in place (load average about 5): single 408 ms
    (minimal 375), p50 2671 ms (1613), p95 6720 ms (2404): 2.80. Memory 0.2 MB per session.
Measured 2026-11-26 again, the machine idle:
  a reply finished by adding its caption and actions (not the pair drawn again): single 408 ms
    (minimal 372), p50 1959 ms (1549), p95 5524 ms (2230): 2.48. Memory 0.1 MB per session.
  The first message of each session is the slowest round: it ends with a run of the whole
    page (the new conversation's title, its entry in the sidebar, its share button), and each
    page's first turn costs its browser about twice the CPU of later ones. Per round, in a run
    this morning: ChatCanvas's slowest first message 5.9 s, third message 2.2 s (the minimal
    app's 1.0 and 2.0 s). With ten browsers and the server on two cores, that is what
    the last page waits for: the reply's first frame reached the page 1-2 s before the page
    drew it. Drawing the title, the list and the share panel as fragments rerun after the
    turn (no page run) gave 1.52 and 1.67 in two runs, but a click in a fragment waits for a
    reply being drawn to end, so the list and Share stopped answering while a reply streamed:
    not kept.
Measured 2026-11-26 afternoon, the machine idle, --repeat 3 (one pair's ratio moves between
2.0 and 3.5 with nothing changed, hence the pairs and their median):
  as kept (the first typed message in place, the page run after its reply): ratios 3.47,
    2.00, 2.59, median 2.59; single 400-404 ms (minimal 365-380). Memory 0.2 MB per session.
  the first message running the whole page with its turn (title and sidebar entry shown
    while the reply streams, no page run after it): ratios 3.13, 3.72, 3.83, median 3.72;
    single 610-717 ms. The page run before the first token costs every session more than
    the run after the reply does: not kept for a typed first message.

Measured 2026-11-26 evening, the machine idle, --repeat 3, with the controls baseline:
  ChatCanvas / minimal 3.04, 4.06, 1.57 (median 3.04; target 1.1: not met);
  ChatCanvas / controls 1.85, 1.77, 0.96 (median 1.77); controls / minimal 1.64, 2.30, 1.63
  (median 1.64). Single session: minimal 360-369 ms, controls 402-405, ChatCanvas 378-416.
  p50 under load: ChatCanvas 1832 / 2238 / 2319 ms, controls 2117 / 1885 / 1936. Memory
  0.1-0.2 MB per session.
Measured again with the pooled p95 (--repeat 3, 90 times per app): per run ChatCanvas /
  minimal 2.88, 2.66, 1.70 (median 2.66), ChatCanvas / controls 2.33, 1.54, 1.36 (1.54),
  controls / minimal 1.24, 1.72, 1.25 (1.25); pooled p95 minimal 2212 ms, controls 3209,
  ChatCanvas 5324: ChatCanvas / minimal 2.41, ChatCanvas / controls 1.66, controls / minimal
  1.45. Single session: minimal 357-372 ms, controls 385-407, ChatCanvas 389-394.
  A page with a dashboard's controls and nothing else of ChatCanvas's is itself 1.2-2.3x
  the minimal app: the browsers' rendering, which the ten pages and the server share here,
  grows with what is on the page. The renderers' CPU per turn of one session alone (from
  /proc): minimal 270-450 ms, controls 450-690, ChatCanvas's later turns 440-620 (runs of
  the conversation fragment), its first 1090. What is left between ChatCanvas and the
  controls app is that first turn: the page run after the first reply (about 300 ms; 760-810
  in a throwaway variant without it, which left the title and the list stale) and the chat
  elements drawn for the first time. Its p50 is at the controls app's; its p95 is round 1.

Run: .venv/bin/python -m bench.bench_sessions [--sessions 10] [--rounds 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, app_environment, free_port  # noqa: E402
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI  # noqa: E402

INPUT = '[data-testid="stChatInput"] textarea'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
# Records, inside the page, when Enter is pressed and when this round's reply first shows text.
# The fake's reply names how many user messages it saw ("Fake <model> reply #3: ..."): the
# reply of this round is the message that comes to hold that marker, and its time is when that
# message first showed text of a reply that was not an earlier round's (a page may draw the new
# reply in an element that showed an earlier reply a moment before: that text does not count,
# nor do redrawn copies of earlier replies).
ARM = """([input, assistant, turn]) => {
  if (window.__watch) window.__watch.disconnect();  // the previous round's
  window.__t0 = null; window.__t1 = null;
  const firstText = new WeakMap();
  document.querySelector(input).addEventListener('keydown', e => {
    if (e.key === 'Enter' && window.__t0 === null) window.__t0 = performance.now();
  }, {capture: true, once: true});
  const seen = () => {
    if (window.__t0 === null || window.__t1 !== null) return;
    const now = performance.now();
    for (const node of document.querySelectorAll(assistant)) {
      const text = node.innerText;
      if (!text.includes('Fake')) continue;
      const marker = text.match(/ reply #(\\d+):/);
      const round = marker ? Number(marker[1]) : turn;  // no marker yet: a reply's first words
      if (round < turn) continue;  // an earlier round's reply
      if (!firstText.has(node)) firstText.set(node, now);
      if (round === turn) window.__t1 = firstText.get(node);
    }
  };
  window.__watch = new MutationObserver(seen);
  window.__watch.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
# The script is idle: Streamlit marks its root element while a run is going on.
IDLE = """() => document.querySelector('[data-testid="stApp"]')
  ?.getAttribute('data-test-script-state') === 'notRunning'"""

SignIn = Callable[[object], None]  # takes a page showing the app's sign-in page


class Server:
    """`streamlit run SCRIPT` on ``port`` (a free one by default); its resident memory read
    from /proc."""

    def __init__(
        self,
        script: Path,
        env: dict[str, str],
        log: Path,
        *,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        args = [sys.executable, "-m", "streamlit", "run", str(script)]
        args += ["--server.port", str(self.port), "--server.address", "127.0.0.1"]
        args += ["--server.headless", "true", "--browser.gatherUsageStats", "false", *extra_args]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}_stcore/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{script.name} did not start; see {log}")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        return int(kb) / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def open_sessions(browser, url: str, count: int, sign_in: SignIn | None) -> list:
    pages = []
    for _ in range(count):
        page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        page.goto(url)
        if sign_in is not None:
            sign_in(page)
        page.wait_for_selector(INPUT, timeout=60_000)
        wait_idle(page)
        pages.append(page)
    return pages


def send_together(pages: list, text: str, turn: int) -> list[float]:
    """Type into every page, then press Enter in each as fast as the driver can; returns each
    page's milliseconds from its Enter to its first reply text. ``turn``: how many messages
    each page's conversation holds with this one."""
    for page in pages:
        page.evaluate(ARM, [INPUT, ASSISTANT, turn])
        page.fill(INPUT, text)
    for page in pages:
        page.press(INPUT, "Enter")
    results = []
    for page in pages:
        page.wait_for_function("() => window.__t1 !== null", timeout=120_000)
        results.append(page.evaluate("() => window.__t1 - window.__t0"))
    for page in pages:
        wait_idle(page)
    return results


def wait_idle(page) -> None:
    """Every run of this page has ended (the reply stored, the rerun after it drawn)."""
    for _ in range(2):  # twice: a rerun may follow an idle moment
        page.wait_for_function(IDLE, timeout=120_000)
        page.wait_for_timeout(300)
    page.wait_for_selector(f"{INPUT}:not([disabled])", timeout=120_000)


def close(pages: list) -> None:
    for page in pages:
        page.context.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(browser, server: Server, sessions: int, rounds: int, sign_in: SignIn | None) -> dict:
    # warm-up: imports, caches, the database, every element of the chat page once
    warm = open_sessions(browser, server.url, 1, sign_in)
    send_together(warm, "Imagine animals on Mars, warm-up", 1)
    close(warm)
    rss_before = server.rss_mb()
    pages = open_sessions(browser, server.url, sessions, sign_in)
    loaded = []
    for r in range(rounds):
        loaded += send_together(pages, f"Imagine animals on Mars, round {r + 1}", r + 1)
    per_session = (server.rss_mb() - rss_before) / sessions  # all N still open
    close(pages)
    single = []
    for _ in range(3):
        pages = open_sessions(browser, server.url, 1, sign_in)
        single += send_together(pages, "Imagine animals on Mars, alone", 1)
        close(pages)
    return {
        "single": statistics.median(single),
        "p50": percentile(loaded, 0.50),
        "p95": percentile(loaded, 0.95),
        "loaded": loaded,
        "mb_per_session": per_session,
    }


def report(name: str, figures: dict, sessions: int) -> None:
    print(
        f"{name:<12} single {figures['single']:7.0f} ms | {sessions} at once: "
        f"p50 {figures['p50']:7.0f} ms, p95 {figures['p95']:7.0f} ms | "
        f"memory {figures['mb_per_session']:5.1f} MB per open session"
    )


def shared_chatcanvas(env: dict[str, str], tmp: Path, provider) -> tuple[Server, SignIn]:
    """ChatCanvas in shared mode: its settings and ``[auth]`` (st.login against ``provider``)
    in a secrets file of its own; every sign_in(page) signs in a new person."""
    from tests.e2e.oidc import sign_in as provider_sign_in
    from tests.e2e.oidc import write_secrets

    port = free_port()
    secrets = write_secrets(
        tmp / "secrets.toml",
        app_port=port,
        provider=provider,
        settings={
            "OPENAI_API_KEY": FAKE_KEY,
            "OPENAI_BASE_URL": env["OPENAI_BASE_URL"],
            "DATABASE_URL": f"sqlite:///{tmp}/chatcanvas.db",
            "DAILY_BUDGET_USD": "0",  # unlimited: the budget check runs, never refuses
        },
    )
    app_env = {k: v for k, v in env.items() if not k.startswith(("OPENAI_", "DATABASE_"))}
    for name in ("ALLOWED_EMAILS", "ALLOWED_DOMAINS", "ADMIN_EMAILS"):
        app_env.pop(name, None)
    server = Server(
        ROOT / "app.py",
        app_env,
        tmp / "ChatCanvas.log",
        port=port,
        extra_args=("--secrets.files", str(secrets)),
    )
    people = itertools.count(1)

    def sign_in(page) -> None:
        n = next(people)
        provider_sign_in(page, f"bench-user-{n}", f"user{n}@bench.example", f"Bench User {n}")

    return server, sign_in


APPS = ("minimal", "controls", "ChatCanvas")
BASELINES = {"minimal": "minimal_chat_app.py", "controls": "controls_chat_app.py"}


def start_app(name: str, env: dict[str, str], tmp: Path, provider) -> tuple[Server, SignIn | None]:
    """A baseline app (no sign-in, its SQLite file its own) or ChatCanvas in shared mode,
    served in ``tmp``."""
    if name in BASELINES:
        env = env | {"MINIMAL_DB": str(tmp / f"{name}.db")}
        return Server(ROOT / "bench" / BASELINES[name], env, tmp / f"{name}.log"), None
    return shared_chatcanvas(env, tmp, provider)


def measure_all(browser, fake, provider, sessions: int, rounds: int) -> dict:
    """Each app in turn, on a server of its own and a database of its own; their figures
    printed as they come."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    env = app_environment(OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=fake.base_url)
    results = {}
    for name in APPS:
        server, sign_in = start_app(name, env, tmp, provider)
        try:
            results[name] = measure(browser, server, sessions, rounds, sign_in)
        finally:
            server.stop()
        report(name, results[name], sessions)
    return results


def run(sessions: int, rounds: int, repeat: int) -> None:
    """The apps ``repeat`` times, in turn: each run's p95 ratios and their medians, and with
    more than one run one p95 over all runs' times (one run's ratio moves with whatever else
    the machine is doing, and its p95 of sessions x rounds times rests on one or two)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.oidc import OidcProvider

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the provider's request log
    warnings.filterwarnings("ignore", module="oidc_provider_mock")
    pairs = (("ChatCanvas", "minimal"), ("ChatCanvas", "controls"), ("controls", "minimal"))
    ratios: dict[tuple[str, str], list[float]] = {pair: [] for pair in pairs}
    pooled: dict[str, list[float]] = {name: [] for name in APPS}  # every run's loaded times
    memory = []
    with (
        FakeOpenAI(first_token_delay=0.3, token_delay=0.01) as fake,
        OidcProvider() as provider,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeat):
            results = measure_all(browser, fake, provider, sessions, rounds)
            for a, b in pairs:
                ratios[a, b].append(results[a]["p95"] / results[b]["p95"])
            memory.append(results["ChatCanvas"]["mb_per_session"])
            for name in APPS:
                pooled[name] += results[name]["loaded"]
            print(
                "p95 under load: "
                + "; ".join(f"{a} / {b} {ratios[a, b][-1]:.2f}" for a, b in pairs),
                flush=True,
            )
        browser.close()
    for (a, b), values in ratios.items():
        listed = ", ".join(f"{r:.2f}" for r in values)
        target = " (target <= 1.1)" if (a, b) == ("ChatCanvas", "minimal") else ""
        print(
            f"p95 ratio {a} / {b} over {repeat} run(s): {listed}; median "
            f"{statistics.median(values):.2f}{target}"
        )
    if repeat > 1:  # one p95 over all runs' times: steadier than any one run's
        p95 = {name: percentile(times, 0.95) for name, times in pooled.items()}
        print(
            f"p95 over all {repeat} runs' {len(pooled['minimal'])} times per app: "
            + ", ".join(f"{name} {p95[name]:.0f} ms" for name in APPS)
            + "; "
            + "; ".join(f"{a} / {b} {p95[a] / p95[b]:.2f}" for a, b in pairs)
        )
    print(f"ChatCanvas memory per open session: {max(memory):.1f} MB at most (target <= 20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of every app; median and pooled ratios"
    )
    args = parser.parse_args()
    run(args.sessions, args.rounds, args.repeat)


if __name__ == "__main__":
    main()
