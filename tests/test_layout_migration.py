"""A database made by the previous layout (trail, people and reviews inside accounts and audits) migrates to one
app per domain and reads the same findings, reviews, sign-offs, trail, people and permissions back.

Each half runs in its own process on a database of its own (a file on SQLite, a new database on the PostgreSQL
server of the run), as an operator's `manage.py migrate` would.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """The URL of a database nobody has migrated yet, on the same kind of server as the rest of the run."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        yield f"sqlite:///{tmp_path / 'previous-layout.sqlite3'}"
        return
    name = f"iamwatch_layout_{secrets.token_hex(4)}"
    server = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _step(step: str, url: str) -> dict[str, object]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "iamwatch.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.migration_steps", step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_database_of_the_previous_layout_reads_back_the_same_after_migrate(empty_database: str) -> None:
    before = _step("old", empty_database)
    after = _step("new", empty_database)

    refused = after.pop("refused_by_the_database")
    assert after == before
    # The tables kept their names, so the triggers that freeze sign-offs and the trail still hold.
    assert refused == ["audits_signoff", "accounts_changerecord"]
