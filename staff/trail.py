"""The audit trail: one append-only record per change, with who, when, what, before and after."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from staff.models import ChangeRecord

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
    """JSON-ready values (dates as ISO text, model instances as their str)."""
    if values is None:
        return None
    encoder = DjangoJSONEncoder()
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, models.Model):
            value = str(value)
        elif value is not None and not isinstance(value, bool | int | float | str | list | dict):
            value = encoder.default(value)
        out[key] = value
    return out


def snapshot(instance: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a model instance, for a record's before or after."""
    return {name: getattr(instance, name) for name in fields}


def record_change(
    *, actor: str, action: str, target: str, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None
) -> ChangeRecord:
    """Record one change; call it inside the transaction that makes the change, so both land or neither.
    Secret fields (SECRET_FIELDS) are recorded only as changed or unchanged."""
    before, after = _redacted(before, after)
    return ChangeRecord.objects.create(actor=actor, action=action, target=target, before=_plain(before), after=_plain(after))


def record_changes(actor: str, changes: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]) -> None:
    """Record many changes at once: (action, target, before, after) each; for imports that touch many rows."""
    records = []
    for action, target, before, after in changes:
        before, after = _redacted(before, after)
        records.append(ChangeRecord(actor=actor, action=action, target=target, before=_plain(before), after=_plain(after)))
    ChangeRecord.objects.bulk_create(records, batch_size=1000)
