"""The audit trail: one append-only record per change, with who, when, what, before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from staff.chain import GENESIS, Link, chain_lock, chain_time, link_sha256
from staff.models import ChangeRecord

TRAIL_TABLE = ChangeRecord._meta.db_table

# Values the trail never holds, whoever records the change: it says only that they changed. The trail is read by
# every viewer (and exported), while these let someone act as an account's reader or as a user.
SECRET_FIELDS = frozenset(
    {"external_id", "password", "key", "bin_key", "token", "token_sha256", "secret", "otp_secret", "recovery_codes"}
)
CHANGED, UNCHANGED = "(changed)", "(unchanged)"


def _redacted(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """before and after with every secret field's value replaced by whether it changed."""
    secret = SECRET_FIELDS & {*(before or {}), *(after or {})}
    if not secret:
        return before, after
    marks = {name: CHANGED if (before or {}).get(name) != (after or {}).get(name) else UNCHANGED for name in secret}
    return (
        None if before is None else {k: marks.get(k, v) for k, v in before.items()},
        None if after is None else {k: marks.get(k, v) for k, v in after.items()},
    )


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready values (dates as ISO text, model instances as their str), exactly as the database gives them back
    (tuples as lists, keys as text), so that a record's chain link hashes the same before and after it is stored."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[str(key)] = str(value) if isinstance(value, models.Model) else value
    plain: dict[str, Any] = json.loads(json.dumps(out, cls=DjangoJSONEncoder))
    return plain


def snapshot(instance: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a model instance, for a record's before or after."""
    return {name: getattr(instance, name) for name in fields}


def trail_content(record: ChangeRecord) -> dict[str, Any]:
    """What a trail record's chain link hashes: everything it says."""
    return {
        "at": chain_time(record.at),
        "actor": record.actor,
        "action": record.action,
        "target": record.target,
        "before": record.before,
        "after": record.after,
    }


def _chained(records: list[ChangeRecord]) -> list[ChangeRecord]:
    """`records` linked, in order, after the trail's last record; call with the chain locked."""
    prev = ChangeRecord.objects.order_by("-pk").values_list("sha256", flat=True).first() or GENESIS
    for record in records:
        record.prev_sha256 = prev
        record.sha256 = prev = link_sha256(trail_content(record), prev)
    return records


def record_change(
    *, actor: str, action: str, target: str, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None
) -> ChangeRecord:
    """Record one change; call it inside the transaction that makes the change, so both land or neither.
    Secret fields (SECRET_FIELDS) are recorded only as changed or unchanged."""
    before, after = _redacted(before, after)
    record = ChangeRecord(at=timezone.now(), actor=actor, action=action, target=target, before=_plain(before), after=_plain(after))
    with transaction.atomic():
        chain_lock(TRAIL_TABLE)
        _chained([record])[0].save(force_insert=True)
    return record


def record_changes(actor: str, changes: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]) -> None:
    """Record many changes at once: (action, target, before, after) each; for imports that touch many rows."""
    now = timezone.now()
    records = []
    for action, target, before, after in changes:
        before, after = _redacted(before, after)
        records.append(ChangeRecord(at=now, actor=actor, action=action, target=target, before=_plain(before), after=_plain(after)))
    with transaction.atomic():
        chain_lock(TRAIL_TABLE)
        ChangeRecord.objects.bulk_create(_chained(records), batch_size=1000)


def trail_links(records: Iterator[ChangeRecord] | None = None) -> Iterator[Link]:
    """The trail's records as chain links, oldest first (all of them unless `records` says which)."""
    if records is None:
        records = ChangeRecord.objects.order_by("pk").iterator(chunk_size=2000)
    for r in records:
        yield Link(f"audit trail record {r.pk} ({r.action} by {r.actor} at {chain_time(r.at)})", trail_content(r), r.prev_sha256, r.sha256)


def trail_head() -> str:
    """The SHA-256 of the trail's latest record: a sign-off keeps it, so that no record before it can vanish unseen."""
    return ChangeRecord.objects.order_by("-pk").values_list("sha256", flat=True).first() or GENESIS


# What one login can do to another's: create it, change it (its roles), set its password, reset its second factor.
LOGIN_HANDLING = {"user.added": "created", "user.changed": "changed", "user.password_set": "set the password of"}
SECOND_FACTOR_RESET = "two_factor.reset"


def login_handled_by(*, login: str, actors: set[str], since: datetime) -> ChangeRecord | None:
    """The newest trail record since `since` in which one of `actors` created, changed, set the password of or reset
    the second factor of the login named `login` (None: none did)."""
    return (
        ChangeRecord.objects.filter(at__gte=since, actor__in=actors)
        .filter(models.Q(target=login, action__in=LOGIN_HANDLING) | models.Q(target=f"user {login}", action=SECOND_FACTOR_RESET))
        .order_by("-pk")
        .first()
    )


def handling_said(record: ChangeRecord) -> str:
    """"created", "set the password of"... as a sentence needs it."""
    return LOGIN_HANDLING.get(record.action, "reset the second factor of")
