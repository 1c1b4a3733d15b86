"""scripts/run.sh: `--demo` becomes CHATCANVAS_DEMO=1 and is not passed to Streamlit; the
other arguments are, after the 127.0.0.1 binding."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUB = '#!/usr/bin/env bash\necho "demo=${CHATCANVAS_DEMO:-} args=$*"\n'


def run_script(tmp_path: Path, *args: str) -> str:
    """run.sh in a copy of the checkout whose setup does nothing and whose streamlit echoes."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "run.sh", tmp_path / "scripts" / "run.sh")
    (tmp_path / "scripts" / "setup.sh").write_text("exit 0\n")
    streamlit = tmp_path / ".venv" / "bin" / "streamlit"
    streamlit.parent.mkdir(parents=True)
    streamlit.write_text(STUB)
    streamlit.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CHATCANVAS_DEMO"}
    done = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "run.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_demo_flag(tmp_path):
    out = run_script(tmp_path, "--demo", "--server.port", "8600")
    assert out == "demo=1 args=run app.py --server.address 127.0.0.1 --server.port 8600"


def test_without_demo(tmp_path):
    assert run_script(tmp_path) == "demo= args=run app.py --server.address 127.0.0.1"
