"""The lean bulk insert writes exactly what the ORM would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from audits.bulk import datetime_adapter


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),
        datetime.fromisoformat("2026-11-01T00:00:00+00:00"),
    ],
)
def test_the_datetime_shortcut_adapts_like_django(value: datetime) -> None:
    assert datetime_adapter()(value) == connection.ops.adapt_datetimefield_value(value)


def test_paused_gc_restores_the_collector_even_after_an_error() -> None:
    import gc

    from audits.bulk import paused_gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
