"""The layering rules, checked on the source: pages and components never build a store or
open a database (only services/app_services.py does, for the run's owner), and services/
never imports streamlit."""

from __future__ import annotations

import re
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
