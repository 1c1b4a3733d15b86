"""A real PostgreSQL server for the tests, and fixtures that run a test on SQLite and on it.

Where the server comes from:
- ``TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://user:pw@host:5432/postgres``): that server;
  the role must be allowed to create databases (each test run makes its own and drops them).
- otherwise Debian's ``postgresql`` package: a throwaway cluster (initdb, pg_ctl) in a temporary
  directory on a free port of 127.0.0.1, with its socket in that directory, stopped and removed
  after the session. initdb refuses to run as root, so as root it runs as the package's
  ``postgres`` user.
- neither: the PostgreSQL cases skip with the reason; when ``CI`` is set they fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.storage.db import Base, Database, open_database

BACKENDS = ("sqlite", "postgresql")
PG_ROOT = Path("/usr/lib/postgresql")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _server_bin() -> Path | None:
    """The bin directory of the newest installed PostgreSQL server, if any."""
    found = [p.parent for p in PG_ROOT.glob("*/bin/initdb") if (p.parent / "pg_ctl").exists()]
    return max(found, key=lambda b: int(b.parent.name), default=None) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """initdb + pg_ctl in a temporary directory; ``url`` once started."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="chatcanvas-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root; the package made the postgres user
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = ""

    def _run(self, *args: str | Path) -> None:
        command = [*self.as_user, *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        initdb = self.bin / "initdb"
        self._run(
            initdb, "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        port = _free_port()
        # durability is pointless for a database thrown away after the run
        options = (
            f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start"
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (see the module docstring)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given  # the driver is fixed in DatabaseMaker
        return
    bin_dir = _server_bin()
    if bin_dir is None:
        reason = (
            "PostgreSQL tests need the server binaries of Debian's postgresql package "
            f"({PG_ROOT}/<version>/bin/initdb; apt-get install postgresql) or TEST_DATABASE_URL"
        )
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    server = ThrowawayPostgres(bin_dir)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


class DatabaseMaker:
    """Creates uniquely named databases on the server, and drops them all at the end."""

    def __init__(self, server_url: str) -> None:
        url = make_url(server_url)
        # a plain postgresql:// URL would ask for psycopg2, which is not installed
        self.server = (
            url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url
        )
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self) -> str:
        name = f"chatcanvas_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: str) -> Iterator[DatabaseMaker]:
    maker = DatabaseMaker(postgres_server)
    try:
        yield maker
    finally:
        maker.drop_all()


@pytest.fixture(scope="session")
def postgres_storage_url(postgres_databases: DatabaseMaker) -> str:
    """One database for the storage tests, emptied before each of them."""
    return postgres_databases.create()


def _empty(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database at the newest schema: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        db = open_database(f"sqlite:///{tmp_path}/t.db")
    else:
        db = open_database(request.getfixturevalue("postgres_storage_url"))
        _empty(db)
    yield db
    db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database with nothing in it, not even a schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/empty.db"
    return request.getfixturevalue("postgres_databases").create()
