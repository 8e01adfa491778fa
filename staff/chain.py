"""Hash chains, as CloudTrail's digest files chain its log files: each record carries the SHA-256 of its content and of
the record before it, so that a record changed, removed or slipped in breaks the chain from there on.

A link is the canonical JSON of the record's content with `prev_sha256` beside it, one line of bytes; its SHA-256 is
the record's `sha256`. An auditor re-hashes those lines with `sha256sum` (the evidence pack's VERIFY.md says how).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections

GENESIS = "0" * 64  # the prev_sha256 of a chain's first record


def canonical_json(value: Any) -> bytes:
    """The exact bytes a record or snapshot is hashed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_time(t: datetime) -> str:
    """A time as a chain hashes it: UTC, to the microsecond (what both databases keep)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_line(content: dict[str, Any], prev_sha256: str) -> bytes:
    return canonical_json({**content, "prev_sha256": prev_sha256})


def link_sha256(content: dict[str, Any], prev_sha256: str) -> str:
    return hashlib.sha256(link_line(content, prev_sha256)).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """One stored record of a chain, as read back: its label for a reader, its content, and the two hashes it keeps."""

    label: str
    content: dict[str, Any]
    prev_sha256: str
    sha256: str


def first_break(links: Iterable[Link], *, after: str = GENESIS) -> str:
    """Why the chain breaks at its first bad record, naming it; "" when every record holds. `after`: the hash the first
    record must point at (GENESIS for a whole chain, the last hash before a segment)."""
    previous = after
    for link in links:
        if link.prev_sha256 != previous:
            return f"{link.label}: does not follow the record before it (a record was removed, inserted or reordered)"
        if link_sha256(link.content, link.prev_sha256) != link.sha256:
            return f"{link.label}: its content no longer matches its SHA-256 (changed after it was written)"
        previous = link.sha256
    return ""


def chain_lock(table: str) -> None:
    """Hold the chain of `table` until the transaction ends, so that two writers never link to the same record.

    PostgreSQL: a transaction-level advisory lock. SQLite: every transaction already begins IMMEDIATE (settings), which
    takes the database's write lock. The unique prev_sha256 refuses a fork either way."""
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [table])
