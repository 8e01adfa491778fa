"""Times read back from the database exactly as stored, whichever loader reads them (iamwatch.postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from accounts.services import account_create
from audits.models import AuditRun, RunSource, RunStatus
from iamwatch.postgres import use_fast_timestamptz

TIMES = [
    datetime(2026, 11, 1, 12, 34, 56, 789012, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2015, 6, 30, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # stored as UTC, read back in UTC
]


@pytest.mark.django_db
def test_times_read_back_as_stored_and_in_utc() -> None:
    account = account_create(account_id="123456789012", name="times")
    for at in TIMES:
        AuditRun.objects.create(account=account, source=RunSource.IMPORT, status=RunStatus.SUCCEEDED, requested_at=at)
    read = list(AuditRun.objects.order_by("pk").values_list("requested_at", flat=True))
    assert read == TIMES
    assert all(t.tzinfo is UTC for t in read)
    # A server-side cursor (QuerySet.iterator) reads through the same loader.
    assert list(AuditRun.objects.order_by("pk").values_list("requested_at", flat=True).iterator(chunk_size=2)) == TIMES


@pytest.mark.django_db
def test_postgres_reads_times_with_psycopgs_optimised_loader() -> None:
    """On PostgreSQL the connection's timestamptz loader lends psycopg's C loader its load(); on SQLite the receiver
    leaves the connection as it is."""
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        before = connection.connection
        use_fast_timestamptz(None, connection)
        assert connection.connection is before and not hasattr(before, "adapters")
        return
    from psycopg import adapters
    from psycopg.pq import Format

    oid = adapters.types["timestamptz"].oid
    loader = connection.connection.adapters.get_loader(oid, Format.TEXT)
    assert loader.__name__ == "UtcLoader" and loader.timezone is UTC
    assert type(loader(oid, connection.connection).load.__self__) is adapters.get_loader(oid, Format.TEXT)
