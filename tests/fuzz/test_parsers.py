"""Every parser of outside bytes, fuzzed (Hypothesis): for arbitrary bytes, truncations and mutations of real files,
each returns records or raises its one documented error, never another exception, within a memory budget.

`make test` runs the "ci" profile (a fixed seed, a bounded number of examples); `make fuzz` the long "fuzz" one."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits.report import ReportError, parse_report
from cloudtrail.records import TrailFileError, lookup_record, records_in, root_record, sort_records
from demo.trail import ACCOUNT, api_call, log_file, lookup_events, sign_in
from people.directory import DirectoryError, parse_directory
from tests.conftest import SAMPLE_REPORT

MEMORY_BUDGET = 64 * 2**20  # bytes Python may allocate parsing one example of a few KB

T = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
TRAIL = log_file(sign_in(T, event_id="e-1"), sign_in(T, success=False, mfa=None, event_id="e-2"), api_call(T, event_id="e-3"))
SEEDS = {
    "report": SAMPLE_REPORT.read_bytes(),
    "trail": TRAIL,
    "trail.gz": gzip.compress(TRAIL),
    "lookup": lookup_events(sign_in(T, event_id="e-4"), api_call(T, event_id="e-5")),
    "people": (
        b"employee_id,first_name,last_name,email,active\n"
        b"1001,John,Smith,john.smith@example.com,true\n1002,Ana,Lopez,ana.lopez@example.com,false\n"
    ),
}


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """A real file, truncated, with bytes flipped, inserted or a slice repeated; or arbitrary bytes."""
    kind = draw(st.sampled_from(["bytes", "truncate", "flip", "insert", "repeat"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2048))
    data = bytearray(seed)
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return bytes(data[:at])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "insert":
        return bytes(data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:])
    end = draw(st.integers(at, min(len(data), at + 256)))
    return bytes(data[:end] + data[at:end] * draw(st.integers(1, 50)) + data[end:])


@contextmanager
def within_budget() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        assert peak < MEMORY_BUDGET, f"peak {peak / 2**20:.0f} MiB"
    finally:
        tracemalloc.stop()


def holds(parse: Callable[[bytes], Any], error: type[Exception], content: bytes) -> None:
    with within_budget():
        try:
            parse(content)
        except error as exc:
            said = str(exc)
            assert said and "\n" not in said and len(said) < 2000, said  # one line, readable


def trail(content: bytes) -> Any:
    found = sort_records("f.json", records_in("f.json", content), ACCOUNT)
    return [root_record("f.json", n, r.raw) for n, r in enumerate(found.root, 1)]


@given(mutated(SEEDS["report"]))
def test_the_credential_report_parser(content: bytes) -> None:
    holds(parse_report, ReportError, content)


@pytest.mark.parametrize("seed", ["trail", "trail.gz", "lookup"])
@given(data=st.data())
def test_the_cloudtrail_parser(seed: str, data: st.DataObject) -> None:
    holds(trail, TrailFileError, data.draw(mutated(SEEDS[seed])))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30))
def test_a_lookup_record_of_any_json_shape(value: Any) -> None:
    """CloudTrailEvent holds any JSON: a record of any shape is read or refused in one line."""
    record = {"eventID": "e-9", "eventTime": "2026-11-02T09:30:00Z", "userIdentity": {"type": "Root", "accountId": ACCOUNT}}
    for key in ("userIdentity", "eventTime", "eventName", "responseElements", "additionalEventData", "userAgent", "errorCode"):
        shaped = {**record, key: value}
        holds(lambda text: root_record("l", 1, lookup_record("l", 1, text.decode())), TrailFileError, json.dumps(shaped).encode())


@given(mutated(SEEDS["people"]))
def test_the_people_directory_parser(content: bytes) -> None:
    holds(parse_directory, DirectoryError, content)
