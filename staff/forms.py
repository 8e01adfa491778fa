"""Forms of the trail page, and the one way pages put a form's errors on a line."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms


def form_errors(form: forms.Form) -> str:
    """A bound form's errors on one line, for a message after a redirect."""
    return "; ".join(f"{name.replace('_', ' ')}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items())


class TrailFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150)
    action = forms.CharField(required=False, max_length=64, label="Action starts with")
    target = forms.CharField(required=False, max_length=100, label="Target contains")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def start_of_day(day: object) -> datetime | None:
    """A date from a form as the UTC datetime it starts at; None for no date."""
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None  # type: ignore[arg-type]
