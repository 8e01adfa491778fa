"""Credential report bytes to frozen dataclasses.

Every sentinel (`N/A`, `no_information`, `not_supported`), boolean spelling, date and time zone is
normalised here, once; nothing downstream sees a raw report string.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

ROOT_USER = "<root_account>"

COLUMNS: tuple[str, ...] = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)

# N/A: not applicable (no password, no key, a key never used); not_supported: some root fields and moto.
_ABSENT = frozenset({"n/a", "not_supported", ""})
_NO_INFORMATION = "no_information"
_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::(\d{12}):(root|user/.+)$")
# IAM's own rules (CreateUser): a name is 1-64 of ASCII letters, digits and +=,.@_- ; a path is "/" or "/.../" of
# printable ASCII, 512 at most. A report with anything else did not come from IAM.
_IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}", re.ASCII)
_IAM_USER_ARN = re.compile(r"user(?P<path>/(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>[^/]*)", re.ASCII)
MAX_IAM_PATH = 512
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::([^:]*):")
MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_REPORT_ROWS = 50_000  # ten times IAM's quota of 5,000 users an account: more rows is not a credential report


class ReportError(ValueError):
    """The bytes are not a credential report IAMWatch can trust; the message is one line for the user."""


class AccessKey(NamedTuple):
    active: bool
    last_rotated: datetime | None
    last_used: datetime | None  # None: never used (N/A)
    last_used_region: str
    last_used_service: str


class Certificate(NamedTuple):
    active: bool
    last_rotated: datetime | None


class ReportRow(NamedTuple):
    """One principal's row. Immutable (a NamedTuple: a report holds tens of thousands of them)."""

    user: str
    arn: str
    user_creation_time: datetime | None
    password_enabled: bool | None  # None: not_supported (the root user)
    password_last_used: datetime | None
    password_never_used: bool  # `no_information`: no use recorded since tracking began
    password_last_changed: datetime | None
    password_next_rotation: datetime | None
    mfa_active: bool
    access_key_1: AccessKey
    access_key_2: AccessKey
    cert_1: Certificate
    cert_2: Certificate

    @property
    def is_root(self) -> bool:
        return self.user == ROOT_USER

    @property
    def access_keys(self) -> tuple[tuple[int, AccessKey], tuple[int, AccessKey]]:
        return ((1, self.access_key_1), (2, self.access_key_2))

    def latest_timestamp(self) -> datetime | None:
        stamps = [
            self.user_creation_time,
            self.password_last_used,
            self.password_last_changed,
            self.access_key_1.last_rotated,
            self.access_key_1.last_used,
            self.access_key_2.last_rotated,
            self.access_key_2.last_used,
            self.cert_1.last_rotated,
            self.cert_2.last_rotated,
        ]
        return max(filter(None, stamps), default=None)


@dataclass(frozen=True, slots=True)
class CredentialReport:
    rows: tuple[ReportRow, ...]
    account_id: str | None  # from the ARNs; None for a report with no principals
    sha256: str
    extra_columns: tuple[str, ...]
    root: ReportRow | None = field(init=False)
    users: tuple[ReportRow, ...] = field(init=False)  # every row but root's

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", next((r for r in self.rows if r.is_root), None))
        object.__setattr__(self, "users", tuple(r for r in self.rows if not r.is_root))

    def latest_timestamp(self) -> datetime | None:
        return max(filter(None, (r.latest_timestamp() for r in self.rows)), default=None)

    def earliest_creation(self) -> datetime | None:
        """When the oldest principal was created: no real report was generated before it."""
        created = [r.user_creation_time for r in self.rows if r.user_creation_time is not None]
        return min(created) if created else None

    def as_of(self, at: datetime) -> tuple[CredentialReport, tuple[str, ...]]:
        """The report with every time later than `at` moved back to `at` (an age of zero), and what was moved."""
        latest = self.latest_timestamp()
        if latest is None or latest <= at:  # the usual case: nothing to move, nothing to copy
            return self, ()
        moved: list[str] = []
        rows = []
        for row in self.rows:
            latest = row.latest_timestamp()
            if latest is None or latest <= at:
                rows.append(row)
                continue

            def clamp(column: str, value: datetime | None, user: str = row.user) -> datetime | None:
                if value is None or value <= at:
                    return value
                moved.append(f"{user} {column} {value.isoformat()}")
                return at

            keys = [
                key._replace(
                    last_rotated=clamp(f"access_key_{n}_last_rotated", key.last_rotated),
                    last_used=clamp(f"access_key_{n}_last_used_date", key.last_used),
                )
                for n, key in row.access_keys
            ]
            rows.append(
                row._replace(
                    user_creation_time=clamp("user_creation_time", row.user_creation_time),
                    password_last_used=clamp("password_last_used", row.password_last_used),
                    password_last_changed=clamp("password_last_changed", row.password_last_changed),
                    access_key_1=keys[0],
                    access_key_2=keys[1],
                    cert_1=row.cert_1._replace(last_rotated=clamp("cert_1_last_rotated", row.cert_1.last_rotated)),
                    cert_2=row.cert_2._replace(last_rotated=clamp("cert_2_last_rotated", row.cert_2.last_rotated)),
                )
            )
        if not moved:
            return self, ()
        return CredentialReport(rows=tuple(rows), account_id=self.account_id, sha256=self.sha256, extra_columns=self.extra_columns), tuple(moved)


class _Row:
    """One CSV record being parsed, so that every error names its line and column."""

    __slots__ = ("cells", "index", "line")

    def __init__(self, cells: Sequence[str], index: dict[str, int], line: int) -> None:
        self.cells = cells
        self.index = index
        self.line = line

    def raw(self, column: str) -> str:
        return self.cells[self.index[column]].strip()

    def fail(self, column: str, why: str) -> ReportError:
        return ReportError(f"line {self.line}, column {column}: {why}")

    def boolean(self, column: str, *, allow_absent: bool = False) -> bool | None:
        value = self.raw(column).lower()
        if value == "true":
            return True
        if value == "false":
            return False
        if allow_absent and value in _ABSENT:
            return None
        raise self.fail(column, f"expected true or false, got {self.raw(column)!r}")

    def flag(self, column: str) -> bool:
        # Flags such as mfa_active and key/cert activity: not_supported (moto, some root fields) means off.
        value = self.boolean(column, allow_absent=True)
        return bool(value)

    def time(self, column: str) -> datetime | None:
        value = self.raw(column)
        if value.lower() in _ABSENT or value.lower() == _NO_INFORMATION:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"not an ISO 8601 timestamp: {value!r}") from None
        if parsed.tzinfo is None:
            raise self.fail(column, f"timestamp has no time zone: {value!r}")
        return parsed.astimezone(UTC)

    def text(self, column: str) -> str:
        value = self.raw(column)
        return "" if value.lower() in _ABSENT else value

    def access_key(self, n: int) -> AccessKey:
        prefix = f"access_key_{n}_"
        return AccessKey(
            active=self.flag(prefix + "active"),
            last_rotated=self.time(prefix + "last_rotated"),
            last_used=self.time(prefix + "last_used_date"),
            last_used_region=self.text(prefix + "last_used_region"),
            last_used_service=self.text(prefix + "last_used_service"),
        )

    def certificate(self, n: int) -> Certificate:
        return Certificate(active=self.flag(f"cert_{n}_active"), last_rotated=self.time(f"cert_{n}_last_rotated"))


def _utf16(content: bytes) -> str:
    """"UTF-16 with BOM" or "UTF-16" when the bytes are UTF-16 text, else ""."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 with BOM"
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = content[:200].decode(encoding, errors="strict")
        except UnicodeDecodeError:
            continue
        if text.lstrip().lower().startswith("user"):  # a credential report's header, two bytes a character
            return "UTF-16"
    return ""


def _decode(content: bytes) -> str:
    if not content.strip():
        raise ReportError("the file is empty, not a credential report")
    if len(content) > MAX_REPORT_BYTES:
        raise ReportError(f"the file is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB, not a credential report")
    utf16 = _utf16(content)
    if utf16:
        raise ReportError(f"the file is {utf16} (Excel's \"Unicode text\"): save it as CSV UTF-8 and import that")
    if b"\x00" in content:
        raise ReportError("the file is binary, not a CSV credential report")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportError("the file is not UTF-8 text, not a CSV credential report") from None
    if not text.strip():  # a byte-order mark and nothing else
        raise ReportError("the file is empty, not a credential report")
    return text


# The fast path: exact spellings AWS writes. Anything else falls back to _parse_row, which
# accepts the other spellings (any case, spaces) and names the line and column of a bad cell.
_T_ABSENT = frozenset({"N/A", "not_supported", "no_information", ""})
_BOOL = {"true": True, "false": False, "TRUE": True, "FALSE": False}
_FLAG = {**_BOOL, "N/A": False, "not_supported": False, "": False}
_ROOT_PASSWORD = {**_BOOL, "not_supported": None}
_TEXT_ABSENT = frozenset({"N/A", "not_supported", ""})
_from_iso = datetime.fromisoformat


def _t(value: str) -> datetime | None:
    if value in _T_ABSENT:
        return None
    parsed = _from_iso(value)
    tz = parsed.tzinfo
    if tz is UTC:
        return parsed
    if tz is None:
        raise ValueError(value)
    return parsed.astimezone(UTC)


def _fast_row(c: Sequence[str], i: Sequence[int]) -> ReportRow:
    """A row in AWS's exact spelling; raises KeyError or ValueError on anything else."""
    user = c[i[0]]
    if not user:
        raise ValueError("empty user")
    is_root = user == ROOT_USER
    password_last_used = c[i[4]]
    return ReportRow(
        user,
        c[i[1]],
        _t(c[i[2]]),
        (_ROOT_PASSWORD if is_root else _BOOL)[c[i[3]]],
        _t(password_last_used),
        password_last_used == _NO_INFORMATION,
        _t(c[i[5]]),
        _t(c[i[6]]),
        _FLAG[c[i[7]]],
        AccessKey(
            _FLAG[c[i[8]]], _t(c[i[9]]), _t(c[i[10]]),
            "" if c[i[11]] in _TEXT_ABSENT else c[i[11]], "" if c[i[12]] in _TEXT_ABSENT else c[i[12]],
        ),
        AccessKey(
            _FLAG[c[i[13]]], _t(c[i[14]]), _t(c[i[15]]),
            "" if c[i[16]] in _TEXT_ABSENT else c[i[16]], "" if c[i[17]] in _TEXT_ABSENT else c[i[17]],
        ),
        Certificate(_FLAG[c[i[18]]], _t(c[i[19]])),
        Certificate(_FLAG[c[i[20]]], _t(c[i[21]])),
    )  # fmt: skip


def _parse_row(row: _Row) -> ReportRow:
    user = row.raw("user")
    if not user:
        raise row.fail("user", "empty user name")
    is_root = user == ROOT_USER
    password_last_used_raw = row.raw("password_last_used").lower()
    return ReportRow(
        user=user,
        arn=row.raw("arn"),
        user_creation_time=row.time("user_creation_time"),
        # Root shows not_supported (or true/false with centrally managed root access); users must say.
        password_enabled=row.boolean("password_enabled", allow_absent=is_root),
        password_last_used=row.time("password_last_used"),
        password_never_used=password_last_used_raw == _NO_INFORMATION,
        password_last_changed=row.time("password_last_changed"),
        password_next_rotation=row.time("password_next_rotation"),
        mfa_active=row.flag("mfa_active"),
        access_key_1=row.access_key(1),
        access_key_2=row.access_key(2),
        cert_1=row.certificate(1),
        cert_2=row.certificate(2),
    )


def _check_iam_user(row: ReportRow, arn_resource: str, line: int) -> None:
    """Refuse a user that IAM could not have: a name or path against IAM's rules, or an ARN naming another user."""
    if not _IAM_NAME.fullmatch(row.user):
        raise ReportError(f"line {line}: {row.user!r} is not an IAM user name (1-64 of A-Z a-z 0-9 and +=,.@_-)")
    parts = _IAM_USER_ARN.fullmatch(arn_resource)
    if parts is None or len(parts["path"]) > MAX_IAM_PATH:
        raise ReportError(f"line {line}: the path in {row.arn!r} is not an IAM path ('/' or '/.../' of printable ASCII, 512 at most)")
    if parts["name"] != row.user:
        raise ReportError(f"line {line}: the ARN {row.arn!r} names user {parts['name']!r}, not {row.user!r}")


# The IAM console names a downloaded credential report after the time it was generated, with "_" for ":", as in
# status_reports_2026-12-03T09_15_42+00_00.csv.
_NAMED_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2})_(\d{2})_(\d{2})(Z|[+-]\d{2}_\d{2})")


def time_in_name(name: str) -> datetime | None:
    """The generation time a console download carries in its file name (UTC), or None when it carries none."""
    found = _NAMED_TIME.search(name)
    if found is None:
        return None
    day, hour, minute, second, zone = found.groups()
    try:
        at = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}{'+00:00' if zone == 'Z' else zone.replace('_', ':')}")
    except ValueError:
        return None
    return at.astimezone(UTC)


def parse_report(content: bytes) -> CredentialReport:
    """Parse and validate a credential report; raise ReportError with one line on anything suspect."""
    text = _decode(content)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ReportError(f"not a well-formed CSV file: {exc}") from None
    original = [cell.strip() for cell in records[0]]
    header = [cell.lower() for cell in original]  # some exporters write User,Arn,...
    missing = [c for c in COLUMNS if c not in header]
    if len(missing) == len(COLUMNS):
        raise ReportError("no credential report header (expected columns user,arn,user_creation_time,...)")
    if missing:
        raise ReportError(f"the header lacks column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise ReportError("the header repeats a column name")
    if len(records) - 1 > MAX_REPORT_ROWS:
        raise ReportError(f"{len(records) - 1:,} rows: more than {MAX_REPORT_ROWS:,} (IAM allows 5,000 users an account), not a credential report")
    index = {name: i for i, name in enumerate(header)}
    positions = [index[c] for c in COLUMNS]

    rows: list[ReportRow] = []
    seen: set[str] = set()
    account_ids: set[str] = set()
    for line, cells in enumerate(records[1:], start=2):
        if not cells:
            continue  # a trailing blank line
        if len(cells) != len(header):
            raise ReportError(f"line {line}: {len(cells)} fields where the header has {len(header)} (ragged or truncated row)")
        try:
            parsed = _fast_row(cells, positions)
        except (KeyError, ValueError):
            parsed = _parse_row(_Row(cells, index, line))
        match = _ARN.fullmatch(parsed.arn)  # fullmatch: "$" would let a trailing newline through
        if match is None or (match.group(2) == "root") != parsed.is_root:
            odd = _ARN_ACCOUNT.match(parsed.arn)
            if odd is not None and not re.fullmatch(r"[0-9]{12}", odd.group(1)):
                raise ReportError(
                    f"line {line}: the ARN {parsed.arn!r} names account {odd.group(1)!r}, which is not an AWS account id "
                    "(exactly 12 digits)"
                )
            raise ReportError(f"line {line}: {parsed.arn!r} is not the IAM ARN of {parsed.user!r}")
        if not parsed.is_root:
            _check_iam_user(parsed, match.group(2), line)
        account_ids.add(match.group(1))
        if parsed.user in seen:
            raise ReportError(f"line {line}: user {parsed.user!r} appears twice")
        seen.add(parsed.user)
        rows.append(parsed)
    if not rows:
        raise ReportError("the report lists no principal: every AWS account has a root user, so a real report has a row")
    if len(account_ids) > 1:
        raise ReportError(f"the ARNs name more than one AWS account ({', '.join(sorted(account_ids))})")
    return CredentialReport(
        rows=tuple(rows),
        account_id=next(iter(account_ids), None),
        sha256=hashlib.sha256(content).hexdigest(),
        extra_columns=tuple(o for o, c in zip(original, header, strict=True) if c not in COLUMNS),
    )
