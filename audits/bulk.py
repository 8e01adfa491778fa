"""A lean bulk INSERT for the ingest hot path (tens of thousands of rows per run).

Django's bulk_create compiles every value through the ORM's per-field machinery and, on SQLite,
splits rows into batches of a few dozen; for a 10,000-user report that dominates the run. This
writes the same rows with one parameterised executemany, adapting values with the backend's
own adapters, so it stays portable across SQLite and PostgreSQL. Callers pass every column.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, models


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector while a report's tens of thousands of rows are built.

    Each burst of allocations would otherwise trigger full collections that scan the whole heap
    (Django and every loaded module): a third of an import's time. Nothing built here forms cycles;
    the collector resumes afterwards (only if it was running before).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def datetime_adapter() -> Callable[[datetime], object]:
    """The backend's datetime adapter, with a shortcut for UTC datetimes on SQLite (the hot case).

    Django's SQLite adapter makes an aware datetime naive in the connection's time zone (UTC here)
    and renders it with str(); for a datetime already in UTC that is its isoformat(" ") without the "+00:00",
    without the per-value time-zone arithmetic. A test holds the two to the same output.
    """
    adapt = connection.ops.adapt_datetimefield_value
    if (
        connection.vendor != "sqlite"
        or not settings.USE_TZ
        or (connection.timezone is not UTC and str(connection.timezone) != "UTC")
    ):
        return adapt

    def fast(value: datetime) -> object:
        if value.tzinfo is UTC:  # "...+00:00" without its offset: the naive datetime's str()
            return value.isoformat(" ")[:-6]
        return adapt(value)

    return fast


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """INSERT rows (values in `columns` order; FK columns by their `_id` attname; others take their defaults)."""
    meta = model._meta
    fields = {f.attname: f for f in meta.concrete_fields}
    attnames = {name: f.column for name, f in fields.items()}
    unknown = [c for c in columns if c not in attnames]
    if unknown:
        raise ValueError(f"{meta.label} has no column(s) {', '.join(unknown)}")
    # Columns left out take the field's default ("" for text, NULL where allowed), as a new model instance would.
    defaults = {
        name: f.get_db_prep_save(f.get_default(), connection)
        for name, f in fields.items()
        if name not in columns and not f.primary_key
    }
    columns = (*columns, *defaults)
    filler = tuple(defaults.values())
    quote = connection.ops.quote_name
    adapt = datetime_adapter()
    names = ", ".join(quote(attnames[c]) for c in columns)
    placeholders = ", ".join("%s" for _ in columns)
    # Table and column names come from model metadata, never from input; values go as parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608  # nosec B608
    # Only datetime columns need the backend's adapter; each distinct value is adapted once.
    datetime_columns = [n for n, c in enumerate(columns) if isinstance(fields[c], models.DateTimeField)]
    adapted: dict[datetime, object] = {}
    params = []
    for row in rows:
        values = [*row, *filler]
        for n in datetime_columns:
            v = values[n]
            if v is not None:
                hit = adapted.get(v)
                if hit is None:
                    hit = adapted[v] = adapt(v)
                values[n] = hit
        params.append(values)
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)


def insert_select(model: type[models.Model], columns: Sequence[str], rows: models.QuerySet[Any, Any]) -> int:
    """INSERT INTO model's table (`columns`, by attname) the rows a values_list() query selects, in one statement:
    rows the database already holds (and their new companions) never travel through Python."""
    meta = model._meta
    fields = {f.attname: f for f in meta.concrete_fields}
    quote = connection.ops.quote_name
    names = ", ".join(quote(fields[c].column) for c in columns)
    select, params = rows.query.sql_with_params()
    # The table and columns come from model metadata; the SELECT is the ORM's own, with its parameters.
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({names}) {select}", params)  # nosec B608
        return int(cursor.rowcount)
