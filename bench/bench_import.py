"""Benchmark: import a generated 10,000-user credential report, against a plain csv + sqlite3 floor.

Prints the import time beyond Django's start-up, its ratio to the floor measured in the same run,
and how much an unchanged report a day later adds to the database. BENCH_PROFILE=tottime (or cumulative) also
profiles one more import. Targets (issue 2, then issue 29): <= 500 ms,
<= 4x the floor, and an unchanged re-import adding < 5% of what the first import added. Beside them, the import's own
INSERTs replayed through sqlite3 alone: what the schema costs any importer, against the same floor.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
USERS = int(os.environ.get("BENCH_USERS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
T = datetime(2026, 11, 1, tzinfo=UTC)


def floor_seconds(content: bytes, db_path: Path) -> float:
    """The least work any importer does: parse the CSV and insert its rows into SQLite, in one transaction."""
    started = time.perf_counter()
    rows = list(csv.reader(io.StringIO(content.decode())))
    header, body = rows[0], rows[1:]
    con = sqlite3.connect(db_path)
    con.execute(f"CREATE TABLE report ({', '.join(f'{c} TEXT' for c in header)})")
    placeholders = ", ".join("?" for _ in header)
    con.executemany(f"INSERT INTO report VALUES ({placeholders})", body)  # noqa: S608 - this script's own table
    con.commit()
    con.close()
    return time.perf_counter() - started


class DatabaseTime:
    """A connection.execute_wrapper that adds up the time spent in the database's execute/executemany."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


class Writes:
    """A connection.execute_wrapper that keeps every INSERT the import sends, with its parameters, to replay it."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object, bool]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith("INSERT"):
            self.statements.append((sql, list(params) if many else params, many))
        return execute(sql, params, many, context)


def replay_seconds(statements: list[tuple[str, object, bool]], db_path: Path) -> float:
    """The same INSERTs, with the same values, into the same schema (a copy of the database as it was before the
    import), through sqlite3 alone in one transaction, foreign keys checked: what the schema costs any importer."""
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    started = time.perf_counter()
    con.execute("BEGIN")
    for sql, params, many in statements:
        query = sql.replace("%s", "?")
        if many:
            con.executemany(query, params)  # type: ignore[arg-type]
        else:
            con.execute(query, params or ())  # type: ignore[arg-type]
    con.execute("COMMIT")
    took = time.perf_counter() - started
    con.close()
    return took


def used_bytes(db_path: Path) -> int:
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, free, size = (con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size"))
    con.close()
    return int((pages - free) * size)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="iamwatch-bench-"))
    db = work / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import account_create
    from audits.models import Finding, PrincipalState
    from audits.services import report_import
    from demo.simulator import simulate_account

    call_command("migrate", verbosity=0)
    # Some simulated people leave during the year: simulate more, then keep exactly USERS present at T.
    shared = 6
    sim = simulate_account(
        account_id="123456789012", users=USERS * 6 // 5, start=T - timedelta(days=365), end=T, seed=7, shared=shared
    )
    present = [u for u in sim.users if u.exists(T)]
    sim.users = present[: USERS - shared] + present[-shared:]
    content = sim.report(T)
    print(f"report: {USERS} users ({shared} of them shared logins) + root, {len(content) / 1e6:.1f} MB of CSV")

    floors = [floor_seconds(content, work / f"floor{i}.sqlite3") for i in range(REPEAT)]
    imports: list[float] = []
    database: list[float] = []
    growth: tuple[int, int] | None = None
    for i in range(REPEAT):
        account = account_create(account_id=f"{100000000000 + i}", name=f"bench-{i}", naming_preset="initial_lastname")
        body = content.replace(b"123456789012", account.account_id.encode())
        before = used_bytes(db)
        in_database = DatabaseTime()
        started = time.perf_counter()
        with connection.execute_wrapper(in_database):
            run = report_import(account=account, content=body, generated_at=T, received_at=T)
        imports.append(time.perf_counter() - started)
        database.append(in_database.seconds)
        first = used_bytes(db) - before
        if growth is None:
            report_import(account=account, content=body, generated_at=T + timedelta(days=1), received_at=T + timedelta(days=1))
            growth = (first, used_bytes(db) - before - first)
            print(
                f"first import: {run.principal_count} principals, {PrincipalState.objects.filter(account=account).count()} state rows, "
                f"{Finding.objects.filter(account=account).count()} findings"
            )
    # The schema's own cost: one more import's INSERTs replayed through sqlite3 into a copy taken just before it.
    account = account_create(account_id="100000000098", name="bench-replayed", naming_preset="initial_lastname")
    used_bytes(db)  # checkpoint: the copy holds everything so far
    shutil.copyfile(db, work / "replay.sqlite3")
    writes = Writes()
    with connection.execute_wrapper(writes):
        report_import(account=account, content=content.replace(b"123456789012", b"100000000098"), generated_at=T, received_at=T)
    replayed = statistics.median(
        replay_seconds(writes.statements, Path(shutil.copyfile(work / "replay.sqlite3", work / f"replay{i}.sqlite3")))
        for i in range(REPEAT)
    )
    if os.environ.get("BENCH_PROFILE"):  # where the import's Python time goes: the functions that took the most themselves
        import cProfile
        import pstats

        account = account_create(account_id="100000000099", name="bench-profiled", naming_preset="initial_lastname")
        profiler = cProfile.Profile()
        profiler.runcall(
            report_import,
            account=account,
            content=content.replace(b"123456789012", b"100000000099"),
            generated_at=T,
            received_at=T,
        )
        pstats.Stats(profiler).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(30)
    floor, took = statistics.median(floors), statistics.median(imports)
    assert growth is not None
    first, again = growth
    print(f"import (median of {REPEAT}, beyond Django start-up): {took * 1000:.0f} ms   [target <= 500 ms]")
    print(f"floor: csv parse + sqlite3 insert of the same rows: {floor * 1000:.0f} ms")
    print(f"ratio import / floor: {took / floor:.2f}x   [target <= 4x]")
    spent = statistics.median(database)
    print(
        f"  of the import, inside the database (queries and the inserts of state rows, findings and events): "
        f"{spent * 1000:.0f} ms = {spent / floor:.2f}x the floor; in Python (parse, checks, lifecycle): {(took - spent) * 1000:.0f} ms"
    )
    print(
        f"  the import's own INSERTs (state rows, findings, their events, the run, the report: the same values into the same "
        f"tables and indexes) replayed through sqlite3 alone, with its commit: {replayed * 1000:.0f} ms = {replayed / floor:.2f}x the floor"
    )
    print(
        f"database growth: first import {first / 1024:.0f} KiB, unchanged report a day later {again / 1024:.1f} KiB = {100 * again / first:.2f}%   [target < 5%]"
    )


if __name__ == "__main__":
    main()
