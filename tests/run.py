"""`make test`: the suite on SQLite, then on a real PostgreSQL server started here; every test runs at least once.

Two kinds of test run against one database only, the one their setting uses outside the tests:
- tests/browser drives Chromium through the pages of `make run`, which runs on SQLite (the pages' queries run on
  both databases in the view tests);
- tests/integration runs real Celery workers through a Redis broker, the deployment of docker-compose, which runs
  on PostgreSQL (SQLite is the eager-mode laptop setting and has no worker).
Everything else runs on both. Skips are failures (IAMWATCH_FORBID_SKIPS): the README promises nothing skipped.
The two runs go side by side, each on its own database and servers (free ports, temporary directories).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

from tests.servers import postgres

SQLITE_ONLY = "tests/browser"
POSTGRESQL_ONLY = "tests/integration"


def pytest(env: dict[str, str], *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "pytest", "--durations=12", *args], env=env, **popen)


def main(argv: list[str]) -> int:
    """The two runs side by side (CI has two cores; each run is one process, mostly on one): the PostgreSQL run's
    output is kept in a file and printed whole after the SQLite run's, so that neither is interleaved."""
    base = {**os.environ, "IAMWATCH_FORBID_SKIPS": "1"}
    base.pop("DATABASE_URL", None)
    with postgres() as url, tempfile.TemporaryFile() as log:
        pg_label = f"PostgreSQL (all but {SQLITE_ONLY})"
        on_pg = pytest({**base, "DATABASE_URL": url}, f"--ignore={SQLITE_ONLY}", *argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            print(f"\n=== SQLite (all but {POSTGRESQL_ONLY}) ===", flush=True)
            sqlite_code = pytest(base, f"--ignore={POSTGRESQL_ONLY}", *argv).wait()
            pg_code = on_pg.wait()
        finally:
            if on_pg.poll() is None:
                on_pg.kill()
                on_pg.wait()
        log.seek(0)
        print(f"\n=== {pg_label} ===", flush=True)
        sys.stdout.buffer.write(log.read())
        sys.stdout.flush()
    print(f"\nSQLite: exit {sqlite_code}; PostgreSQL: exit {pg_code}", flush=True)
    return sqlite_code or pg_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
