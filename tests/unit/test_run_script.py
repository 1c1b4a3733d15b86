"""scripts/run.sh serves on 127.0.0.1 unless the user names another address. Run on a copy
whose setup step and streamlit are stand-ins that record what they were given."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_script(tmp_path: Path, *args: str) -> list[str]:
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "run.sh", tmp_path / "scripts" / "run.sh")
    (tmp_path / "scripts" / "setup.sh").write_text("exit 0\n")
    streamlit = tmp_path / ".venv" / "bin" / "streamlit"
    streamlit.parent.mkdir(parents=True)
    streamlit.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    streamlit.chmod(0o755)
    done = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "run.sh"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.splitlines()


def test_serves_on_loopback_by_default(tmp_path):
    assert run_script(tmp_path) == ["run", "app.py", "--server.address", "127.0.0.1"]


def test_other_arguments_pass_through(tmp_path):
    args = run_script(tmp_path, "--server.port", "8600")
    assert args == ["run", "app.py", "--server.address", "127.0.0.1", "--server.port", "8600"]


def test_an_address_the_user_names_wins(tmp_path):
    assert run_script(tmp_path, "--server.address", "0.0.0.0") == [
        "run",
        "app.py",
        "--server.address",
        "0.0.0.0",
    ]
    assert run_script(tmp_path / "b", "--server.address=10.0.0.2")[2:] == [
        "--server.address=10.0.0.2"
    ]
