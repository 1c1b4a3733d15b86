"""The terminal app against the fake OpenAI API: run in-process (click's CliRunner) or as a
real ``python -m chatcanvas`` process, on a fresh database, with none of the host's keys,
``.env`` or secrets files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chatcanvas.main import build
from chatcanvas.session import chosen_language, local_settings
from services.app_services import Services, build_services
from services.catalog import load_catalog
from services.i18n import Translator
from services.settings import LOCAL_OWNER
from tests.app.conftest import (  # noqa: F401 - fixtures: the web app beside the terminal
    app_env,
    fake_openai,
)
from tests.fakes.openai_server import FAKE_KEY

ROOT = Path(__file__).resolve().parents[2]
HOST_VARIABLES = ("OPENAI_", "KAKAO_", "DATABASE_URL", "IMAGE_SERVERS", "LC_", "LANG", "LANGUAGE")


@dataclass
class Terminal:
    """The environment a person's shell would give the terminal app."""

    env: dict[str, str]
    tmp: Path

    def invoke(self, *args: str, input: str | None = None) -> Result:
        """``chatcanvas ARGS`` in this process (stdout and stderr kept apart)."""
        command = build(Translator(chosen_language(args, self.env)))
        return CliRunner().invoke(command, list(args), input=input, env=self.env)

    def run(self, *args: str, input: str | None = None, cwd: Path = ROOT):
        """``python -m chatcanvas ARGS`` as a real process."""
        return subprocess.run(
            [sys.executable, "-m", "chatcanvas", *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.process_env(),
            timeout=90,
        )

    def start(self, *args: str) -> subprocess.Popen:
        """``python -m chatcanvas ARGS`` started, its standard streams as pipes (binary)."""
        return subprocess.Popen(
            [sys.executable, "-m", "chatcanvas", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=self.process_env(),
        )

    def process_env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(HOST_VARIABLES)}
        # the checkout first on the path, as an installed (editable) chatcanvas would have it
        base["PYTHONPATH"] = str(ROOT)
        return {**base, **{k: v for k, v in self.env.items() if v is not None}}

    def services(self) -> Services:
        """The services the web app builds for the same settings (local mode)."""
        saved = dict(os.environ)
        try:
            os.environ.update({k: v for k, v in self.env.items() if v is not None})
            for name in [k for k, v in self.env.items() if v is None]:
                os.environ.pop(name, None)
            return build_services(local_settings(), LOCAL_OWNER, catalog=load_catalog())
        finally:
            os.environ.clear()
            os.environ.update(saved)


def terminal_env(tmp: Path, **settings: str | None) -> dict[str, str | None]:
    """Settings for one test; a None value unsets the variable."""
    env: dict[str, str | None] = {
        "CHATCANVAS_SKIP_DOTENV": "1",
        "CHATCANVAS_SECRETS_FILE": str(tmp / "no-secrets.toml"),
        "DATABASE_URL": f"sqlite:///{tmp}/chatcanvas.db",
        "KAKAO_REST_API_KEY": None,
        "IMAGE_SERVERS": None,
        "MODERATION_CHECK": None,
        "LC_ALL": None,
        "LC_MESSAGES": None,
        "LANG": "en_US.UTF-8",
    }
    env.update(settings)
    return env


@pytest.fixture
def terminal(fake, tmp_path) -> Terminal:
    """The terminal app pointed at the fake OpenAI API with its key."""
    return Terminal(
        terminal_env(tmp_path, OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=fake.base_url), tmp_path
    )


def messages_of(terminal: Terminal, conversation_id: str | None = None):
    """The stored messages of a conversation (the latest one by default)."""
    store = terminal.services().conversations
    conversation_id = conversation_id or store.list(limit=1)[0].id
    return store.messages(conversation_id)


def no_traceback(*texts: str | bytes | None) -> bool:
    return not any(t and ("Traceback" in str(t)) for t in texts)


def roles(messages: Sequence) -> list[str]:
    return [m.role for m in messages]
