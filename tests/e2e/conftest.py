"""End-to-end fixtures: the real app under `streamlit run`, Debian's Chromium via Playwright,
and the fake OpenAI API in this process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.oidc import OidcProvider, write_secrets
from tests.fakes.karlo_server import FAKE_KAKAO_KEY, FakeKarlo
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningApp:
    """`streamlit run app.py` as a subprocess; restartable on the same database."""

    def __init__(self, env: dict[str, str], log_path: Path, args: list[str] | None = None) -> None:
        self.env = env
        self.args = args or []  # more `streamlit run` options, e.g. --secrets.files
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                *self.args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"streamlit did not start; log: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def fake_images():
    return FakeOpenAIImages()


@pytest.fixture(scope="module")
def fake_openai(fake_images):
    # Slow enough per token that streaming is visible to the browser.
    with FakeOpenAI(first_token_delay=0.2, token_delay=0.08, image_handler=fake_images) as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_karlo():
    with FakeKarlo() as fake:
        yield fake


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-data")


LIMITS = ("DAILY_BUDGET_USD", "MAX_LANES", "MAX_IMAGES_PER_LANE", "KARLO_MONTHLY_IMAGES")
HOST_SETTINGS = (
    "DATABASE_URL",
    "ALLOWED_EMAILS",
    "ALLOWED_DOMAINS",
    "ADMIN_EMAILS",
    "IMAGE_SERVERS",
    "MODERATION_CHECK",
    *LIMITS,
)


def app_environment(**settings: str) -> dict[str, str]:
    """This process's environment without the host's provider keys, deployment settings and
    .env, plus ``settings``: what an app under test is started with."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "KAKAO_")) and k not in HOST_SETTINGS
    }
    env.update(CHATCANVAS_SKIP_DOTENV="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    env.update(settings)
    return env


@pytest.fixture(scope="module")
def running_app(fake_openai, fake_karlo, data_dir):
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=fake_karlo.base_url,
        DATABASE_URL=f"sqlite:///{data_dir}/chatcanvas.db",
    )
    app = RunningApp(env, data_dir / "streamlit.log")
    app.start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def oidc_provider():
    with OidcProvider() as provider:
        yield provider


SHARED_DOMAIN = "team.example"  # ALLOWED_DOMAINS of the shared test deployment
SHARED_ADMIN = "boss@team.example"  # its ADMIN_EMAILS


def start_shared_app(
    data: Path, provider: OidcProvider, fake_openai, fake_karlo, **more_settings: str
) -> RunningApp:
    """The app in shared mode, started: every setting, and ``[auth]`` for st.login against
    the OpenID Connect mock, in a secrets file of its own (``--secrets.files``), so the
    repository's .streamlit/ is neither read nor touched. ``more_settings`` (e.g. limits)
    go into the same file."""
    app = RunningApp(app_environment(), data / "streamlit.log")
    secrets = write_secrets(
        data / "secrets.toml",
        app_port=app.port,
        provider=provider,
        settings={
            "OPENAI_API_KEY": FAKE_KEY,
            "OPENAI_BASE_URL": fake_openai.base_url,
            "KAKAO_REST_API_KEY": FAKE_KAKAO_KEY,
            "KARLO_BASE_URL": fake_karlo.base_url,
            "DATABASE_URL": f"sqlite:///{data}/chatcanvas.db",
            "ALLOWED_DOMAINS": SHARED_DOMAIN,
            "ADMIN_EMAILS": SHARED_ADMIN,
            **more_settings,
        },
    )
    app.args = ["--secrets.files", str(secrets)]
    app.start()
    return app


@pytest.fixture(scope="module")
def shared_app(fake_openai, fake_karlo, oidc_provider, tmp_path_factory):
    """The app in shared mode with the default limits (see :func:`start_shared_app`)."""
    app = start_shared_app(
        tmp_path_factory.mktemp("e2e-shared"), oidc_provider, fake_openai, fake_karlo
    )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing browser is a failure there
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, locale: str = "en-US"):
    """A page in a fresh browser context: its own cookies, so its own signed-in person."""
    return browser.new_context(viewport={"width": 1280, "height": 860}, locale=locale).new_page()


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    yield pg
    pg.context.close()


def choose(page, selector: str, option: str) -> None:
    """Pick ``option`` in a select box (opened again if a rerun closed it as it opened)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _attempt in range(3):
        page.locator(selector).click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"{option!r} is not offered in {selector}")
