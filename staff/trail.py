"""The audit trail: one append-only record per change, with who, when, what, before and after."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from staff.models import ChangeRecord


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
    """Record one change; call it inside the transaction that makes the change, so both land or neither."""
    return ChangeRecord.objects.create(actor=actor, action=action, target=target, before=_plain(before), after=_plain(after))


def record_changes(actor: str, changes: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]) -> None:
    """Record many changes at once: (action, target, before, after) each; for imports that touch many rows."""
    ChangeRecord.objects.bulk_create(
        [ChangeRecord(actor=actor, action=a, target=t, before=_plain(b), after=_plain(af)) for a, t, b, af in changes],
        batch_size=1000,
    )
