"""Django's `flush`, which empties the whole database, past IAMWatch's SQLite triggers.

On SQLite the triggers that keep the trail, the sign-offs and signed decisions refuse every DELETE; this command drops
them, flushes, and makes them again exactly as they were (their SQL as SQLite keeps it), so that no table or setting
anyone could create lets a DELETE through. PostgreSQL's flush is TRUNCATE, which row triggers do not see. The test
suite resets its database this way between transactional tests.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                for _, sql in triggers:
                    cursor.execute(sql)
