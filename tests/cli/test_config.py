"""Where the terminal app's settings come from: the same sources as the web app (environment,
``.env``, the Streamlit secrets file), the same database whatever the current directory, and
the language from ``--lang`` or the locale."""

from __future__ import annotations

import subprocess
import sys

from chatcanvas.session import chosen_language
from services.config_sources import read_environment, read_secrets_files
from services.settings import DEFAULT_DATABASE_URL
from tests.cli.conftest import ROOT, Terminal, terminal_env
from tests.fakes.openai_server import FAKE_KEY


def test_keys_from_the_secrets_file_reach_the_provider(fake, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'OPENAI_API_KEY = "{FAKE_KEY}"\nOPENAI_BASE_URL = "{fake.base_url}"\n'
        '[auth]\nclient_id = "not a setting"\n'
    )
    env = terminal_env(tmp_path, OPENAI_API_KEY=None, CHATCANVAS_SECRETS_FILE=str(secrets))
    result = Terminal(env, tmp_path).invoke("ask", "from secrets")
    assert result.exit_code == 0, result.output
    assert "from secrets" in result.stdout


def test_the_secrets_file_wins_over_the_environment_as_in_the_web_app(fake, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'OPENAI_API_KEY = "{FAKE_KEY}"\nOPENAI_BASE_URL = "{fake.base_url}"\n')
    env = terminal_env(
        tmp_path,
        OPENAI_API_KEY="sk-environment-key-0000000000",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        CHATCANVAS_SECRETS_FILE=str(secrets),
    )
    assert Terminal(env, tmp_path).invoke("ask", "which key?").exit_code == 0


def test_a_broken_secrets_file_is_ignored(tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text("OPENAI_API_KEY = ")
    assert read_secrets_files({"CHATCANVAS_SECRETS_FILE": str(broken)}) == {}


def test_dotenv_under_the_environment(tmp_path, monkeypatch):
    from services import config_sources

    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv-000000\nMAX_LANES=3\n")
    monkeypatch.setattr(config_sources, "ROOT", tmp_path)
    merged = read_environment({"MAX_LANES": "2", "UNRELATED": "x"})
    assert merged == {"OPENAI_API_KEY": "sk-from-dotenv-000000", "MAX_LANES": "2"}
    assert read_environment({"CHATCANVAS_SKIP_DOTENV": "1"}) == {}


def test_the_default_database_is_the_web_apps_whatever_the_directory(tmp_path):
    code = "from chatcanvas.session import local_settings; print(local_settings().database_url)"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "CHATCANVAS_SKIP_DOTENV": "1",
        "CHATCANVAS_SECRETS_FILE": str(tmp_path / "none.toml"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == DEFAULT_DATABASE_URL
    assert f"sqlite:///{ROOT / 'data' / 'chatcanvas.db'}" == DEFAULT_DATABASE_URL


def test_the_language_from_the_option_or_the_locale():
    assert chosen_language(["--lang", "ko", "ask"], {}) == "ko"
    assert chosen_language(["--lang=en"], {"LANG": "ko_KR.UTF-8"}) == "en"
    assert chosen_language([], {"LANG": "ko_KR.UTF-8"}) == "ko"
    assert chosen_language([], {"LC_ALL": "en_GB.UTF-8", "LANG": "ko_KR.UTF-8"}) == "en"
    assert chosen_language([], {"LANG": "C.UTF-8"}) == "en"
    assert chosen_language(["ask", "--lang"], {}) == "en"


def test_the_console_script_is_declared():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["chatcanvas"] == "chatcanvas.main:main"
    assert "chatcanvas" in project["tool"]["setuptools"]["packages"]["find"]["include"]
