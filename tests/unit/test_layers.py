"""The layering rules, checked on the source: pages and components never build a store or
open a database (only services/app_services.py does, for the run's owner), and neither
services/ nor the terminal app (chatcanvas/) imports streamlit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTION = re.compile(r"\b\w*Store\(|\bopen_database\(|\bDatabase\(|\bCostLedger\(")
STREAMLIT_IMPORT = re.compile(r"^\s*(import streamlit|from streamlit)", re.MULTILINE)


def sources(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    return files


def test_pages_and_components_never_construct_stores():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("app_pages", "components")
        for path in sources(folder)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CONSTRUCTION.search(line)
    ]
    assert offenders == [], "build stores in services/app_services.py:\n" + "\n".join(offenders)


def test_services_never_import_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources("services")
        if STREAMLIT_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_the_terminal_app_never_imports_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources("chatcanvas")
        if STREAMLIT_IMPORT.search(path.read_text())
    ]
    assert offenders == []
    # nor through anything it imports: every command loaded, streamlit still absent
    code = (
        "import sys; from chatcanvas.main import build; from services.i18n import Translator;"
        "build(Translator('en')); print('streamlit' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_demo_mode_never_imports_streamlit():
    """demo/ starts servers and shapes settings; only app.py caches it for Streamlit."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources("demo")
        if STREAMLIT_IMPORT.search(path.read_text())
    ]
    assert offenders == []
