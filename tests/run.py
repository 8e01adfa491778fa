"""`make test`: the suite on SQLite, then on a real PostgreSQL server started here; every test runs at least once.

Two kinds of test run against one database only, the one their setting uses outside the tests:
- tests/browser drives Chromium through the pages of `make run`, which runs on SQLite (the pages' queries run on
  both databases in the view tests);
- tests/integration runs real Celery workers through a Redis broker, the deployment of docker-compose, which runs
  on PostgreSQL (SQLite is the eager-mode laptop setting and has no worker).
Everything else runs on both. Skips are failures (IAMWATCH_FORBID_SKIPS): the README promises nothing skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.servers import postgres

SQLITE_ONLY = "tests/browser"
POSTGRESQL_ONLY = "tests/integration"


def pytest(label: str, env: dict[str, str], *args: str) -> int:
    print(f"\n=== {label} ===", flush=True)
    return subprocess.run([sys.executable, "-m", "pytest", "--durations=12", *args], env=env).returncode


def main(argv: list[str]) -> int:
    base = {**os.environ, "IAMWATCH_FORBID_SKIPS": "1"}
    base.pop("DATABASE_URL", None)
    code = pytest(f"SQLite (all but {POSTGRESQL_ONLY})", base, f"--ignore={POSTGRESQL_ONLY}", *argv)
    if code:
        return code
    with postgres() as url:
        return pytest(f"PostgreSQL (all but {SQLITE_ONLY})", {**base, "DATABASE_URL": url}, f"--ignore={SQLITE_ONLY}", *argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
