"""Django's `flush`, which empties the whole database, past IAMWatch's SQLite triggers.

On SQLite the triggers that keep the trail and signed decisions from being deleted let a DELETE through only while
the table `iamwatch_purge` exists; this command makes it for the flush alone. (PostgreSQL's flush is TRUNCATE, which
row triggers do not see.) The test suite resets its database this way between transactional tests.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

PURGE_MARKER = "iamwatch_purge"


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {PURGE_MARKER} (x INTEGER)")
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {PURGE_MARKER}")
