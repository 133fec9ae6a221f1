"""A throwaway PostgreSQL + PostGIS cluster started from the installed binaries (tests and bench).

``TemporaryCluster`` runs ``initdb`` in a fresh temporary directory, starts ``postgres`` on a free
localhost port (as the ``postgres`` user when we are root: the server refuses to run as root), and on
``stop()`` shuts it down and deletes the directory. The ``postgis_url`` fixture gives one cluster per
test session (loaded as a plugin by ``conftest.py``). Without the binaries the PostGIS tests skip,
except under CI where they fail (the rule is in ``_ci.py``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _ci import skip_unless_available

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
POSTGIS_CONTROL = ("/usr/share/postgresql/{major}/extension/postgis.control",)


def find_pg_bin() -> Path | None:
    """The directory holding initdb/pg_ctl of an installation that has PostGIS, or None."""
    env = os.environ.get("PLANATLAS_PG_BIN")
    candidates = (env,) if env else PG_BIN_CANDIDATES
    for cand in candidates:
        if not cand:
            continue
        path = Path(cand)
        major = path.parent.name
        has_postgis = Path(f"/usr/share/postgresql/{major}/extension/postgis.control").is_file()
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file() and has_postgis:
            return path
    return None


def require_postgis() -> Path:
    """The PostgreSQL bin directory; skip without one on a laptop, fail under CI."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        skip_unless_available("PostgreSQL + PostGIS binaries not installed (set PLANATLAS_PG_BIN)")
    return pg_bin


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryCluster:
    """initdb + pg_ctl start in a temporary directory; ``url`` is a SQLAlchemy psycopg URL."""

    def __init__(self, pg_bin: Path):
        self.pg_bin = pg_bin
        self.root = Path(tempfile.mkdtemp(prefix="planatlas-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        self.user = "postgres" if self.as_postgres else os.environ.get("USER", "postgres")

    def _run(self, *argv: str) -> None:
        cmd = [str(a) for a in argv]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> TemporaryCluster:
        if self.as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._run(self.pg_bin / "initdb", "-D", self.data, "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB"
        )
        self._run(self.pg_bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log", "-w", "start")
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + 30
        import psycopg

        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres") as conn:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    def stop(self) -> None:
        try:
            self._run(self.pg_bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """URL of a throwaway PostGIS database for this test session (dropped afterwards)."""
    cluster = TemporaryCluster(require_postgis()).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()
