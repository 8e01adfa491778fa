"""CloudTrail records in, the account's root events out. Pure: no Django, no AWS, no clock.

Reads what CloudTrail delivers and what people download: log files as delivered to S3 (`{"Records": [...]}`, `.json`
or `.json.gz`), the console's event-history JSON (`{"Records": [...]}`), the output of `aws cloudtrail
lookup-events` (`{"Events": [{"CloudTrailEvent": "<record as JSON>"}, ...]}`) and LookupEvents' own events.
A file that is not one of these, or a record without its identity, id or time, is refused in one line.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ROOT_TYPE = "Root"
SIGN_IN = "ConsoleLogin"


class TrailFileError(ValueError):
    """A file or record that is not CloudTrail's: the message is one line, naming the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class RootRecord:
    """One root event: what the review meeting needs of it, and the whole record as CloudTrail wrote it."""

    event_id: str
    at: datetime
    name: str
    event_source: str
    region: str
    source_ip: str
    user_agent: str
    mfa_used: bool | None  # sign-in: additionalEventData.MFAUsed; a call: the session's mfaAuthenticated; None: not said
    success: bool
    error: str  # errorCode: errorMessage, or why a sign-in failed; empty on success
    access_key_id: str  # the key id only: a record never holds a secret
    account_id: str
    arn: str
    raw: dict[str, Any] = field(compare=False, repr=False)

    @property
    def is_sign_in(self) -> bool:
        return self.name == SIGN_IN

    @property
    def action(self) -> str:
        return api_action(self.event_source, self.name)


def api_action(event_source: str, name: str) -> str:
    """A call as IAM policies name it: iam:CreateUser for eventSource iam.amazonaws.com, eventName CreateUser."""
    return f"{event_source.split('.')[0]}:{name}"


@dataclass(frozen=True, slots=True)
class Sorted:
    """A file's or a fetch's records: the account's root events, and how many were skipped and why."""

    root: list[RootRecord]
    other_accounts: int = 0
    not_root: int = 0


def records_in(name: str, content: bytes) -> list[dict[str, Any]]:
    """The records of one file (gzip or not, by its first bytes). Raises TrailFileError."""
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error) as exc:
            raise TrailFileError(f"{name}: not a readable gzip file ({exc})") from None
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrailFileError(f"{name}: not JSON ({exc})") from None
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        records = document["Records"]
    elif isinstance(document, dict) and isinstance(document.get("Events"), list):
        records = [_lookup_record(name, n, event) for n, event in enumerate(document["Events"], 1)]
    else:
        raise TrailFileError(f'{name}: not CloudTrail records (expected {{"Records": [...]}} or lookup-events {{"Events": [...]}})')
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise TrailFileError(f"{name}: record {n} is not an object")
    return records


def _lookup_record(name: str, n: int, event: Any) -> dict[str, Any]:
    """A LookupEvents event carries its record as a JSON string in CloudTrailEvent."""
    text = event.get("CloudTrailEvent") if isinstance(event, dict) else None
    if not isinstance(text, str):
        raise TrailFileError(f"{name}: event {n} has no CloudTrailEvent")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrailFileError(f"{name}: event {n}'s CloudTrailEvent is not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise TrailFileError(f"{name}: event {n}'s CloudTrailEvent is not an object")
    return record


def sort_records(name: str, records: Iterable[dict[str, Any]], account_id: str) -> Sorted:
    """Keep the root events of `account_id`; count those of other accounts and of other identities."""
    root: list[RootRecord] = []
    other_accounts = not_root = 0
    for n, record in enumerate(records, 1):
        identity = record.get("userIdentity")
        if not isinstance(identity, dict) or not isinstance(record.get("eventID"), str) or "eventTime" not in record:
            raise TrailFileError(f"{name}: record {n} is not a CloudTrail event (it needs userIdentity, eventID and eventTime)")
        if not is_root(identity):
            # Another identity's event: counted against the account that received it.
            if (record.get("recipientAccountId") or identity.get("accountId") or "") == account_id:
                not_root += 1
            else:
                other_accounts += 1
        elif root_account(record) != account_id:
            other_accounts += 1  # another account's root, though this account may have received a copy
        else:
            root.append(root_record(name, n, record))
    return Sorted(root, other_accounts, not_root)


def is_root(identity: dict[str, Any]) -> bool:
    return str(identity.get("type") or "").lower() == ROOT_TYPE.lower()


def root_account(record: dict[str, Any]) -> str:
    """The account whose root made the event: userIdentity.accountId (else its ARN's account); not the account that
    received the record, which for cross-account access is another account."""
    identity = record.get("userIdentity") or {}
    owner = str(identity.get("accountId") or "")
    if not owner:
        parts = str(identity.get("arn") or "").split(":")
        owner = parts[4] if len(parts) > 4 else ""
    return owner or str(record.get("recipientAccountId") or "")


def root_record(name: str, n: int, record: dict[str, Any]) -> RootRecord:
    identity = record["userIdentity"]
    at = _time(name, n, record["eventTime"])
    event_name = str(record.get("eventName", ""))
    response = record.get("responseElements") or {}
    extra = record.get("additionalEventData") or {}
    error_code, error_message = record.get("errorCode") or "", record.get("errorMessage") or ""
    if event_name == SIGN_IN:
        # AWS's own examples write "Success" and "Yes", "YES" and "yes": read them in any case.
        outcome = response.get("ConsoleLogin") if isinstance(response, dict) else None
        success = str(outcome or "").strip().lower() == "success"
        said = extra.get("MFAUsed") if isinstance(extra, dict) else None
        mfa = None if said is None else str(said).strip().lower() == "yes"
        error = "" if success else (error_message or str(outcome or "failed"))
    else:
        success = not error_code
        attributes = ((identity.get("sessionContext") or {}).get("attributes") or {}) if isinstance(identity, dict) else {}
        said = attributes.get("mfaAuthenticated")
        mfa = None if said is None else str(said).lower() == "true"
        error = f"{error_code}: {error_message}".rstrip(": ") if error_code else ""
    return RootRecord(
        event_id=record["eventID"],
        at=at,
        name=event_name,
        event_source=str(record.get("eventSource", "")),
        region=str(record.get("awsRegion", "")),
        source_ip=str(record.get("sourceIPAddress", "")),
        user_agent=str(record.get("userAgent", "")),
        mfa_used=mfa,
        success=success,
        error=error,
        access_key_id=str(identity.get("accessKeyId") or ""),
        account_id=root_account(record),
        arn=str(identity.get("arn") or ""),
        raw=record,
    )


def _time(name: str, n: int, value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TrailFileError(f"{name}: record {n} has an eventTime that is not a time: {value!r}") from None
    if at.tzinfo is None:
        raise TrailFileError(f"{name}: record {n} has an eventTime without its zone: {value!r}")
    return at.astimezone(UTC)


def unique(records: Iterable[RootRecord]) -> Iterator[RootRecord]:
    """Each eventID once (overlapping fetches and files deliver the same event twice), first come first kept."""
    seen: set[str] = set()
    for record in records:
        if record.event_id not in seen:
            seen.add(record.event_id)
            yield record
