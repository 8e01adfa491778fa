"""PostgreSQL times read by psycopg's C loader (Django ticket #36960).

Django registers, on every psycopg 3 connection, a timestamptz loader derived from psycopg's pure-Python one, so that
each time read from PostgreSQL is parsed in Python: at 2,000 accounts the fleet's root activity reads 8,000 events
and spends two-thirds of its time there. When the session's time zone is UTC (USE_TZ with TIME_ZONE "UTC", as
IAMWatch's settings require) psycopg's own optimised loader returns exactly what Django's does, an aware datetime in
datetime.UTC; this loader keeps Django's interface (its `timezone`, which Django compares before every cursor) and
lends it the optimised loader's `load`. With any other time zone nothing changes.
"""

from __future__ import annotations

import functools
from datetime import UTC
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


@functools.cache
def _utc_loader() -> type | None:
    """The loader class, made once: Django's interface over psycopg's optimised load(); None without psycopg's C
    loaders (psycopg[binary] not installed), when Django's stays."""
    from psycopg import adapters
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader

    oid = adapters.types["timestamptz"].oid
    found = adapters.get_loader(oid, Format.TEXT)  # psycopg's global map: the C loader when psycopg[binary] is there
    if found is None or found is TimestamptzLoader:
        return None
    optimised: Any = found

    class UtcLoader(TimestamptzLoader):
        timezone = UTC  # what Django's create_cursor() compares with the connection's

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self.load = optimised(oid, context).load  # type: ignore[method-assign]

    return UtcLoader


def use_fast_timestamptz(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: on a PostgreSQL connection in UTC, read timestamptz with psycopg's C loader."""
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    loader = _utc_loader()
    if loader is not None:
        connection.connection.adapters.register_loader("timestamptz", loader)
