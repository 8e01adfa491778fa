"""`make test`: the whole suite on SQLite, then again on a real PostgreSQL server started here.

Skips are failures (IAMWATCH_FORBID_SKIPS): the README promises a suite with nothing skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.servers import postgres


def pytest(label: str, env: dict[str, str], *args: str) -> int:
    print(f"\n=== {label} ===", flush=True)
    return subprocess.run([sys.executable, "-m", "pytest", *args], env=env).returncode


def main(argv: list[str]) -> int:
    base = {**os.environ, "IAMWATCH_FORBID_SKIPS": "1"}
    base.pop("DATABASE_URL", None)
    code = pytest("SQLite", base, *argv)
    if code:
        return code
    with postgres() as url:
        return pytest("PostgreSQL", {**base, "DATABASE_URL": url}, *argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
