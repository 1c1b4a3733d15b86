"""Every third-party package the app imports is pinned, pip included, and the install stamp
reinstalls when a pin changes."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ("app.py", "app_pages", "components", "services", "chatcanvas", "demo")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()  # a pin may carry a comment
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[\w,]+\])?==([\w.]+)", requirement)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _imported_top_level() -> set[str]:
    names: set[str] = set()
    files = [ROOT / "app.py"] + [p for d in APP_DIRS[1:] for p in (ROOT / d).rglob("*.py")]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_every_third_party_import_is_pinned():
    local = {"app", "app_pages", "components", "services", "chatcanvas", "demo"}
    distributions = packages_distributions()
    # the local image engine's imports are pinned in its optional extras
    pins = _pins(ROOT / "requirements.txt") | _pins(ROOT / "requirements-local.txt")
    missing = []
    for name in sorted(_imported_top_level() - local - set(sys.stdlib_module_names)):
        dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not dists & pins.keys():
            missing.append(name)
    assert missing == []
    assert {"altair", "pandas"} <= pins.keys()


def _fake_venv(tmp: Path) -> Path:
    """A copy of the setup script whose .venv python only logs what it is asked to do."""
    (tmp / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp / "scripts" / "setup.sh")
    for name in ("requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp / name)
    python = tmp / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$@" >> "{tmp}/calls.log"\n')
    python.chmod(0o755)
    return tmp / "calls.log"


def _setup(tmp: Path) -> list[str]:
    log = tmp / "calls.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", "scripts/setup.sh"], cwd=tmp, env=env, check=True, timeout=60)
    return log.read_text().splitlines() if log.exists() else []


def test_setup_pins_pip_and_reinstalls_only_when_requirements_change(tmp_path):
    _fake_venv(tmp_path)
    first = _setup(tmp_path)
    pip_calls = [c for c in first if re.search(r"install .*\bpip\b", c) and "-r" not in c]
    assert pip_calls and all(re.search(r"pip==\d+(\.\d+)+", c) for c in pip_calls)
    assert not any("--upgrade" in c or "-U " in c for c in first)
    assert any("-r requirements.txt" in c for c in first)

    assert _setup(tmp_path) == []  # nothing changed: nothing reinstalled

    with (tmp_path / "requirements.txt").open("a") as f:
        f.write("tomli==2.0.1\n")
    assert any("-r requirements.txt" in c for c in _setup(tmp_path))
