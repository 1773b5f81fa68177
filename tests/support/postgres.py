"""A PostgreSQL server of the tests' own: `initdb` into a temporary folder, `pg_ctl start`
on a free loopback port (trust authentication, no password), stopped at the end.

PostgreSQL refuses to run as root: as root (CI's containers, this machine), `initdb`
and `pg_ctl` run as `nobody` (`runuser`, else `setpriv`), which owns the folder. The
binaries are found on PATH or in `/usr/lib/postgresql/*/bin` (Debian's `postgresql`
package; `.ci/run` installs it); without them the fixture skips, saying so.

`postgres_server` is the session fixture; a test module asks for a fresh database
with `postgres_server.new_database()` (a URL).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.rawserver import free_port

USER = "postgres"
"""The superuser `initdb` creates; trust authentication, no password."""


MISSING = (
    "PostgreSQL is not installed: no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin "
    "(apt-get install postgresql; .ci/run does)"
)


def find_binaries() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`, or None."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _as_unprivileged() -> tuple[list[str], int | None]:
    """The prefix that runs a command as `nobody` when we are root, and its uid."""
    if os.geteuid() != 0:
        return [], None
    uid = pwd.getpwnam("nobody").pw_uid
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"], uid
    gid = pwd.getpwnam("nobody").pw_gid
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"], uid


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, on a free loopback port."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cf-aig-pg-"))
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self._prefix, uid = _as_unprivileged()
        self.sockets.mkdir()
        if uid is not None:
            for path in (self.folder, self.sockets):
                os.chown(path, uid, -1)
        self._names = itertools.count(1)

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._prefix, str(self.binaries / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def init(self) -> PostgresServer:
        """`initdb` (trust, UTF-8, C collation), then `start`."""
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", USER,
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        return self.start()

    def start(self) -> PostgresServer:
        """`pg_ctl start` on the port, waiting until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=60"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m MODE` (`immediate`: as if the server were lost)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        """The URL of a database of this server."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database; its URL."""
        name = f"cf_aig_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return self.url(name)

    def remove(self) -> None:
        """Stop the server (if running) and delete its folder."""
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL of the tests' own for the session (skips when it is not installed)."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(MISSING)
    server = PostgresServer(binaries)
    try:
        server.init()
        yield server
    finally:
        server.remove()


@contextlib.contextmanager
def start_postgres() -> Iterator[str]:
    """A PostgreSQL of its own for the block (`make soak`, a test's fixture): the URL of a
    new database in it.

    Raises:
        RuntimeError: PostgreSQL is not installed.
    """
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError(MISSING)
    server = PostgresServer(binaries)
    try:
        server.init()
        yield server.new_database()
    finally:
        server.remove()
