"""Real servers for the integration tests, started on loopback by the test setup and stopped after it."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run its binaries as the postgres system user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 and a free port; yields its DATABASE_URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make install` (Debian package postgresql)")
    bindir = Path(found[-1]).parent
    datadir = Path(tempfile.mkdtemp(prefix="iamwatch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    port = free_port()
    log = datadir / "server.log"
    try:
        subprocess.run(
            _as_postgres(
                [str(bindir / "initdb"), "-D", str(datadir / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-h 127.0.0.1 -p {port} -k {datadir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-o", options, "-l", str(log), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-m", "immediate", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
            )
    finally:
        shutil.rmtree(datadir, ignore_errors=True)
