"""Load benchmark: N browser sessions send a chat message at the same moment.

ChatCanvas and a minimal Streamlit chat app (bench/minimal_chat_app.py: history in SQLite,
st.write_stream) are each served by `streamlit run` against the same fake OpenAI server
(300 ms to first token), and driven the same way by headless Chromium in the same run.
For each app it prints the first-token time of a single session, p50 and p95 under load, and
the server's memory per open session after each session has sent a message. Times are taken
inside each page (keydown of Enter to the first reply text), so the Python driver's own
pace does not count.

Targets: ChatCanvas p95 under load at most 1.1x the minimal app's p95; at most 20 MB of
server memory per open session.

Run: .venv/bin/python -m bench.bench_sessions [--sessions 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI  # noqa: E402

INPUT = '[data-testid="stChatInput"] textarea'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
# Records, inside the page, when Enter is pressed and when a new reply first shows text.
ARM = """([input, assistant]) => {
  window.__t0 = null; window.__t1 = null;
  const before = document.querySelectorAll(assistant).length;
  document.querySelector(input).addEventListener('keydown', e => {
    if (e.key === 'Enter' && window.__t0 === null) window.__t0 = performance.now();
  }, {capture: true, once: true});
  const seen = () => {
    const all = document.querySelectorAll(assistant);
    if (window.__t1 === null && all.length > before && all[all.length - 1].innerText.includes('Fake'))
      window.__t1 = performance.now();
  };
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""

SignIn = Callable[[object, int], None]


class Server:
    """`streamlit run SCRIPT` on a free port; its resident memory read from /proc."""

    def __init__(self, script: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        args = [sys.executable, "-m", "streamlit", "run", str(script)]
        args += ["--server.port", str(self.port), "--server.address", "127.0.0.1"]
        args += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
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
    for i in range(count):
        page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        page.goto(url)
        if sign_in is not None:
            sign_in(page, i)
        page.wait_for_selector(INPUT, timeout=60_000)
        pages.append(page)
    return pages


def send_together(pages: list, text: str) -> list[float]:
    """Type into every page, then press Enter in each as fast as the driver can; returns each
    page's milliseconds from its Enter to its first reply text."""
    for page in pages:
        page.evaluate(ARM, [INPUT, ASSISTANT])
        page.fill(INPUT, text)
    for page in pages:
        page.press(INPUT, "Enter")
    results = []
    for page in pages:
        page.wait_for_function("() => window.__t1 !== null", timeout=120_000)
        results.append(page.evaluate("() => window.__t1 - window.__t0"))
    # let every run finish storing its reply before the next round
    for page in pages:
        page.wait_for_selector(f"{INPUT}:not([disabled])", timeout=120_000)
    return results


def close(pages: list) -> None:
    for page in pages:
        page.context.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(browser, server: Server, sessions: int, rounds: int, sign_in: SignIn | None) -> dict:
    close(open_sessions(browser, server.url, 1, sign_in))  # warm-up: imports, caches
    single = []
    for _ in range(3):
        pages = open_sessions(browser, server.url, 1, sign_in)
        single += send_together(pages, "Imagine animals on Mars, alone")
        close(pages)
    rss_before = server.rss_mb()
    pages = open_sessions(browser, server.url, sessions, sign_in)
    loaded = []
    for r in range(rounds):
        loaded += send_together(pages, f"Imagine animals on Mars, round {r + 1}")
    per_session = (server.rss_mb() - rss_before) / sessions
    close(pages)
    return {
        "single": statistics.median(single),
        "p50": percentile(loaded, 0.50),
        "p95": percentile(loaded, 0.95),
        "mb_per_session": per_session,
    }


def report(name: str, figures: dict, sessions: int) -> None:
    print(
        f"{name:<12} single {figures['single']:7.0f} ms | {sessions} at once: "
        f"p50 {figures['p50']:7.0f} ms, p95 {figures['p95']:7.0f} ms | "
        f"memory {figures['mb_per_session']:5.1f} MB per open session"
    )


def run(sessions: int, rounds: int, sign_in_factory=None) -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    with FakeOpenAI(first_token_delay=0.3, token_delay=0.01) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "KAKAO_"))}
        env.update(
            OPENAI_API_KEY=FAKE_KEY,
            OPENAI_BASE_URL=fake.base_url,
            DATABASE_URL=f"sqlite:///{tmp}/chatcanvas.db",
            MINIMAL_DB=str(tmp / "minimal.db"),
            CHATCANVAS_SKIP_DOTENV="1",
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            results = {}
            apps = [("minimal", ROOT / "bench" / "minimal_chat_app.py", None)]
            apps.append(("ChatCanvas", ROOT / "app.py", sign_in_factory))
            for name, script, factory in apps:
                app_env, sign_in, cleanup = (
                    factory(env, tmp) if factory else (env, None, lambda: None)
                )
                server = Server(script, app_env, tmp / f"{name}.log")
                try:
                    results[name] = measure(browser, server, sessions, rounds, sign_in)
                finally:
                    server.stop()
                    cleanup()
                report(name, results[name], sessions)
            browser.close()
    ratio = results["ChatCanvas"]["p95"] / results["minimal"]["p95"]
    print(f"p95 under load, ChatCanvas / minimal app: {ratio:.2f} (target <= 1.1)")
    mb = results["ChatCanvas"]["mb_per_session"]
    print(f"ChatCanvas memory per open session: {mb:.1f} MB (target <= 20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run(args.sessions, args.rounds)


if __name__ == "__main__":
    main()
