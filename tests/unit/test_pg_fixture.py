"""The PostgreSQL fixture on a machine without the server: skipped locally, failed under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
INNER = """
from pathlib import Path

import tests.pg
from tests.pg import database, postgres_databases, postgres_server, postgres_storage_url

tests.pg.PG_ROOT = Path("/nonexistent/postgresql")  # as where the package is not installed


def test_on_both(database):
    pass
"""


@pytest.fixture
def no_server(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_inner=INNER)
    return pytester


def test_without_a_server_the_postgresql_cases_skip_with_the_reason(no_server):
    result = no_server.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*apt-get install postgresql*TEST_DATABASE_URL*"])


def test_under_ci_a_missing_server_fails(no_server, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = no_server.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
