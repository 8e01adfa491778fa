"""Forms of the trail page, and the one way pages put a form's errors on a line."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS


def form_errors(form: forms.Form) -> str:
    """A bound form's errors on one line, for a message after a redirect: each field's named, the form's own bare."""
    return "; ".join(
        " ".join(str(e) for e in errors)
        if name == NON_FIELD_ERRORS
        else f"{name.replace('_', ' ')}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )


class TrailFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150)
    action = forms.CharField(required=False, max_length=64, label="Action starts with")
    target = forms.CharField(required=False, max_length=100, label="Target contains")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def start_of_day(day: object) -> datetime | None:
    """A date from a form as the UTC datetime it starts at (a time, from a MomentField, as it is); None for none."""
    if isinstance(day, datetime):
        return day.astimezone(UTC)
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None  # type: ignore[arg-type]


class MomentField(forms.DateTimeField):
    """A day (2026-11-28: its start, UTC) or a moment in ISO 8601 (2026-11-28T09:00:00.123456Z), as the agenda's links
    give the last sign-off's time: "since the last review" counts to the second, not by day."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": "Enter a valid date (YYYY-MM-DD) or time (ISO 8601)."})
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "YYYY-MM-DD", "pattern": r"\d{4}-\d{2}-\d{2}.*"}))
        super().__init__(**kwargs)
