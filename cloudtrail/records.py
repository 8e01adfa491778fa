"""CloudTrail records in, the account's root events out. Pure: no Django, no AWS, no clock.

Reads what CloudTrail delivers and what people download: log files as delivered to S3 (`{"Records": [...]}`, `.json`
or `.json.gz`), the console's event-history JSON (`{"Records": [...]}`), the output of `aws cloudtrail
lookup-events` (`{"Events": [{"CloudTrailEvent": "<record as JSON>"}, ...]}`) and LookupEvents' own events.
A file that is not one of these, or a record without its identity, id or time, is refused in one line.

Bounded, whatever the bytes: a gzip file is decompressed in a stream and refused past MAX_FILE_BYTES (a 305 KB
bomb never becomes gigabytes), a file holds at most MAX_RECORDS records, nested at most MAX_DEPTH deep; every string
loses its NUL characters (no database stores them) and unpaired surrogates, and is cut at MAX_TEXT characters with a
visible marker (a 40 MiB user agent is kept as its first 4,096 characters and the count of the rest); identifiers
longer than the database keeps them (eventID 64, eventName, eventSource, sourceIPAddress, the key id 128, the region
32) and event times outside 2006-2100 refuse the record. TrailFileError is the only error a file can raise.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ROOT_TYPE = "Root"
SIGN_IN = "ConsoleLogin"

MAX_FILE_BYTES = 32 * 1024 * 1024  # one file's JSON once decompressed: days of a busy account's log files
MAX_RECORDS = 100_000
MAX_DEPTH = 32  # CloudTrail's records nest a handful of levels (requestParameters a few more)
MAX_TEXT = 4096  # characters kept of any one string: user agents, error messages, request parameters
CUT = "…[{} more characters cut]"
# The longest value the database keeps of each identifying field (cloudtrail.models.RootEvent).
FIELD_LIMITS = {"eventID": 64, "eventName": 128, "eventSource": 128, "sourceIPAddress": 128, "awsRegion": 32}
YEARS = (2006, 2100)  # CloudTrail began in 2013; anything outside is not an event time


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


def decompressed(name: str, content: bytes, limit: int = MAX_FILE_BYTES) -> bytes | bytearray:
    """The file's bytes, gunzipped in a stream if they are gzip (by the first bytes, every member of a multi-member
    file), never more than `limit`: the input is fed 64 KiB at a time, so that neither the output nor a copy of
    the input grows past the cap. Raises TrailFileError."""
    if content[:2] != b"\x1f\x8b":
        if len(content) > limit:
            raise TrailFileError(f"{name}: larger than {limit // 2**20} MiB: split it")
        return content
    view, pos, out = memoryview(content), 0, bytearray()
    member, pending = zlib.decompressobj(wbits=31), b""
    try:
        while True:
            if not pending:
                if pos >= len(view):
                    break
                pending, pos = view[pos : pos + _CHUNK].tobytes(), pos + _CHUNK
            out += member.decompress(pending, limit + 1 - len(out))
            if len(out) > limit:
                raise TrailFileError(f"{name}: larger than {limit // 2**20} MiB once decompressed: split it")
            pending = member.unconsumed_tail
            if member.eof:
                pending = member.unused_data
                if pending[:2] != b"\x1f\x8b" and _zeros(pending, view[pos:]):
                    return out  # the padding some writers leave after the last member
                member = zlib.decompressobj(wbits=31)  # the next member (anything else fails as not gzip)
    except zlib.error as exc:
        raise TrailFileError(f"{name}: not a readable gzip file ({exc})") from None
    if not member.eof:
        raise TrailFileError(f"{name}: not a readable gzip file (it ends before its end)")
    return out


_CHUNK = 64 * 1024


def _zeros(head: bytes, rest: memoryview) -> bool:
    """Whether nothing but NUL bytes is left (read a chunk at a time)."""
    if head.strip(b"\x00"):
        return False
    return all(not rest[i : i + _CHUNK].tobytes().strip(b"\x00") for i in range(0, len(rest), _CHUNK))


def _text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate (JSON's "\ud800"): no database stores it
        value = value.encode("utf-8", "replace").decode("utf-8")
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT] + CUT.format(len(value) - MAX_TEXT)
    return value


def bounded(name: str, n: int, value: Any) -> Any:
    """A copy of a parsed record that any database stores: strings cleaned and capped (_text), at most MAX_DEPTH
    deep (walked without recursion, so that no depth can exhaust the stack). Raises TrailFileError."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]  # (value, parent, key in parent, depth)
    while stack:
        item, parent, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TrailFileError(f"{name}: record {n} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            parent[key] = _text(item)
        elif isinstance(item, dict):
            copy: dict[str, Any] = {}
            parent[key] = copy
            for k, v in item.items():
                copy[_text(str(k))] = None
                stack.append((v, copy, _text(str(k)), depth + 1))
        elif isinstance(item, list):
            items: list[Any] = [None] * len(item)
            parent[key] = items
            stack.extend((v, items, i, depth + 1) for i, v in enumerate(item))
        else:
            parent[key] = item
    return root[0]


def load_json(name: str, content: bytes | str) -> Any:
    """JSON, or TrailFileError: not JSON, not UTF-8, or nested beyond what the parser's stack holds."""
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrailFileError(f"{name}: not JSON ({exc})") from None
    except RecursionError:
        raise TrailFileError(f"{name}: nested more than {MAX_DEPTH} levels deep") from None


def records_in(name: str, content: bytes) -> list[dict[str, Any]]:
    """The records of one file (gzip or not, by its first bytes), bounded as the module says. Raises TrailFileError."""
    document = load_json(name, decompressed(name, content))
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        records = document["Records"]
        if len(records) > MAX_RECORDS:
            raise TrailFileError(f"{name}: more than {MAX_RECORDS:,} records: split it")
        for n, record in enumerate(records, 1):
            if not isinstance(record, dict):
                raise TrailFileError(f"{name}: record {n} is not an object")
        return [bounded(name, n, r) for n, r in enumerate(records, 1)]
    if isinstance(document, dict) and isinstance(document.get("Events"), list):
        if len(document["Events"]) > MAX_RECORDS:
            raise TrailFileError(f"{name}: more than {MAX_RECORDS:,} records: split it")
        return [lookup_record(name, n, event.get("CloudTrailEvent") if isinstance(event, dict) else None) for n, event in enumerate(document["Events"], 1)]
    raise TrailFileError(f'{name}: not CloudTrail records (expected {{"Records": [...]}} or lookup-events {{"Events": [...]}})')


def lookup_record(name: str, n: int, text: Any) -> dict[str, Any]:
    """A LookupEvents event carries its record as a JSON string in CloudTrailEvent: parsed and bounded."""
    if not isinstance(text, str):
        raise TrailFileError(f"{name}: event {n} has no CloudTrailEvent")
    try:
        record = load_json(name, text)
    except TrailFileError as exc:
        raise TrailFileError(f"{name}: event {n}'s CloudTrailEvent is {str(exc).removeprefix(name + ': ')}") from None
    if not isinstance(record, dict):
        raise TrailFileError(f"{name}: event {n}'s CloudTrailEvent is not an object")
    return dict(bounded(name, n, record))


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
    identity = _mapping(record.get("userIdentity"))
    owner = str(identity.get("accountId") or "")
    if not owner:
        parts = str(identity.get("arn") or "").split(":")
        owner = parts[4] if len(parts) > 4 else ""
    return owner or str(record.get("recipientAccountId") or "")


def _said(value: Any) -> str:
    """A field of a bounded record as text: a string is already clean and capped; anything else is made so."""
    return value if isinstance(value, str) else _text(str(value))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def root_record(name: str, n: int, record: dict[str, Any]) -> RootRecord:
    """One root event of a bounded record (records_in, lookup_record). Raises TrailFileError."""
    identity = _mapping(record.get("userIdentity"))
    for key, limit in FIELD_LIMITS.items():
        value = record.get(key)
        if value is not None and len(str(value)) > limit:
            raise TrailFileError(f"{name}: record {n} has a {key} longer than {limit} characters: not a CloudTrail event")
    if not isinstance(record.get("eventID"), str) or not record["eventID"]:
        raise TrailFileError(f"{name}: record {n} has no eventID")
    if len(str(identity.get("accessKeyId") or "")) > 128:
        raise TrailFileError(f"{name}: record {n} has an accessKeyId longer than 128 characters: not a CloudTrail event")
    at = _time(name, n, record.get("eventTime"))
    event_name = str(record.get("eventName", ""))
    response = _mapping(record.get("responseElements"))
    extra = _mapping(record.get("additionalEventData"))
    error_code, error_message = record.get("errorCode") or "", record.get("errorMessage") or ""
    if event_name == SIGN_IN:
        # AWS's own examples write "Success" and "Yes", "YES" and "yes": read them in any case.
        outcome = response.get("ConsoleLogin")
        success = str(outcome or "").strip().lower() == "success"
        said = extra.get("MFAUsed")
        mfa = None if said is None else str(said).strip().lower() == "yes"
        error = "" if success else _said(error_message or outcome or "failed")
    else:
        success = not error_code
        said = _mapping(_mapping(identity.get("sessionContext")).get("attributes")).get("mfaAuthenticated")
        mfa = None if said is None else str(said).lower() == "true"
        error = f"{_said(error_code)}: {_said(error_message)}".rstrip(": ") if error_code else ""
    return RootRecord(
        event_id=record["eventID"],
        at=at,
        name=event_name,
        event_source=str(record.get("eventSource", "")),
        region=str(record.get("awsRegion", "")),
        source_ip=str(record.get("sourceIPAddress", "")),
        user_agent=_said(record.get("userAgent", "")),
        mfa_used=mfa,
        success=success,
        error=error,
        access_key_id=str(identity.get("accessKeyId") or ""),
        account_id=root_account(record),
        arn=_said(identity.get("arn") or ""),
        raw=record,
    )


def _time(name: str, n: int, value: Any) -> datetime:
    said = _text(str(value))[:64]
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TrailFileError(f"{name}: record {n} has an eventTime that is not a time: {said!r}") from None
    if at.tzinfo is None:
        raise TrailFileError(f"{name}: record {n} has an eventTime without its zone: {said!r}")
    if not YEARS[0] <= at.year <= YEARS[1]:
        raise TrailFileError(f"{name}: record {n} has an eventTime outside {YEARS[0]}-{YEARS[1]}: {said!r}")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise TrailFileError(f"{name}: record {n} has an eventTime outside {YEARS[0]}-{YEARS[1]}: {said!r}") from None


def unique(records: Iterable[RootRecord]) -> Iterator[RootRecord]:
    """Each eventID once (overlapping fetches and files deliver the same event twice), first come first kept."""
    seen: set[str] = set()
    for record in records:
        if record.event_id not in seen:
            seen.add(record.event_id)
            yield record


# What an EventBridge rule on root activity delivers (the template's pattern): CloudTrail records in `detail`.
PUSHED_TYPES = ("AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail")
MAX_MESSAGE_BYTES = 1024 * 1024  # SQS's largest message


def pushed_record(name: str, body: str | bytes) -> RootRecord:
    """The root event an EventBridge envelope (an SQS message's body) carries in its `detail`, read by the same rules as
    a file's records. Raises TrailFileError naming `name` (the message) and what is wrong."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise TrailFileError(f"{name}: more than {MAX_MESSAGE_BYTES:,} bytes: not an EventBridge message")
    envelope = load_json(name, body)
    if not isinstance(envelope, dict) or "detail" not in envelope or "detail-type" not in envelope:
        raise TrailFileError(f"{name}: not an EventBridge event (expected an object with detail-type and detail)")
    kind = envelope["detail-type"]
    if kind not in PUSHED_TYPES:
        raise TrailFileError(f"{name}: detail-type {_text(str(kind))[:100]!r} is not one of {', '.join(PUSHED_TYPES)}")
    detail = envelope["detail"]
    if not isinstance(detail, dict):
        raise TrailFileError(f"{name}: its detail is not a CloudTrail record (not an object)")
    record = bounded(name, 1, detail)
    sorted_ = sort_records(name, [record], root_account(record) if isinstance(record.get("userIdentity"), dict) else "")
    if not sorted_.root:
        raise TrailFileError(f"{name}: its CloudTrail record is not root's (userIdentity.type is not Root)")
    found = sorted_.root[0]
    if not (len(found.account_id) == 12 and found.account_id.isascii() and found.account_id.isdigit()):
        raise TrailFileError(f"{name}: its record names no AWS account (userIdentity.accountId {found.account_id[:40]!r})")
    return found
