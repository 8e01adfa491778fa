"""Small real-shaped credential reports built in memory for tests."""

from __future__ import annotations

import csv
import io
from typing import Any

from audits.report import COLUMNS, ROOT_USER

ACCOUNT = "111122223333"

ROOT_DEFAULTS = {
    "user": ROOT_USER, "arn": f"arn:aws:iam::{ACCOUNT}:root", "user_creation_time": "2014-03-12T17:02:11+00:00",
    "password_enabled": "not_supported", "password_last_used": "no_information", "password_last_changed": "not_supported",
    "password_next_rotation": "not_supported", "mfa_active": "true",
}  # fmt: skip
USER_DEFAULTS = {
    "user_creation_time": "2020-01-01T00:00:00+00:00", "password_enabled": "false", "password_last_used": "N/A",
    "password_last_changed": "N/A", "password_next_rotation": "N/A", "mfa_active": "false",
}  # fmt: skip
NO_KEYS = {c: ("false" if c.endswith("_active") else "N/A") for c in COLUMNS[8:]}


def root_row(**cells: Any) -> dict[str, str]:
    return {**NO_KEYS, **ROOT_DEFAULTS, **{k: str(v) for k, v in cells.items()}}


def user_row(name: str, **cells: Any) -> dict[str, str]:
    return {
        **NO_KEYS,
        **USER_DEFAULTS,
        "user": name,
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        **{k: str(v) for k, v in cells.items()},
    }


def build_report(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "N/A") for c in columns])
    return out.getvalue().encode()
