"""Filter forms for the dashboard: every query parameter is validated here, never trusted raw."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import QuerySet

from accounts.models import AwsAccount
from audits.checks import CHECKS_BY_ID, Severity
from audits.models import Disposition
from audits.selectors import SORTS, STATUS_FILTERS, FindingFilters


def form_errors(form: forms.Form) -> str:
    """A bound form's errors on one line, for a message after a redirect."""
    return "; ".join(f"{name.replace('_', ' ')}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items())


def start_of_day(day: object) -> datetime | None:
    """A date from a form as the UTC datetime it starts at; None for no date."""
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None  # type: ignore[arg-type]


class OverviewForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Account")
    environment = forms.CharField(required=False, max_length=50)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS])
    since = forms.DateField(required=False, label="Since (last review)", widget=forms.DateInput(attrs={"type": "date"}))


class FindingFilterForm(forms.Form):
    account = forms.RegexField(
        regex=r"^[0-9]{12}$", required=False, max_length=12, error_messages={"invalid": "An account id is 12 digits."}
    )
    check = forms.MultipleChoiceField(
        required=False, choices=[(c, c) for c in sorted(CHECKS_BY_ID)], widget=forms.SelectMultiple(attrs={"size": 4})
    )
    severity = forms.ChoiceField(required=False, choices=[("", "any severity"), *((s.value, s.value) for s in Severity)])
    status = forms.ChoiceField(required=False, choices=[(s, s) for s in STATUS_FILTERS])
    since = forms.DateField(required=False, label="New since", widget=forms.DateInput(attrs={"type": "date"}))
    principal = forms.CharField(required=False, max_length=128, label="Principal contains")
    user = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)  # one principal, exactly

    def filters(self) -> FindingFilters:
        data = self.cleaned_data
        return FindingFilters(
            account=data.get("account") or "",
            checks=tuple(data.get("check") or ()),
            severity=data.get("severity") or "",
            status=data.get("status") or "open",
            since=start_of_day(data.get("since")),
            principal=data.get("principal") or "",
            user=data.get("user") or "",
        )


class SinceForm(forms.Form):
    since = forms.DateField(required=False, label="Since (last review)", widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.RegexField(
        regex=r"^[0-9]{12}$", required=False, max_length=12, error_messages={"invalid": "An account id is 12 digits."}
    )


class ReviewForm(forms.Form):
    period = forms.RegexField(
        regex=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        label="Month under review",
        help_text="YYYY-MM, e.g. 2026-11",
        error_messages={"invalid": "Give the month as YYYY-MM, e.g. 2026-11."},
        widget=forms.TextInput(attrs={"placeholder": "2026-11"}),
    )
    accounts = forms.ModelMultipleChoiceField(
        queryset=AwsAccount.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="every active account if none is chosen",
        required=False,
    )

    def __init__(self, *args: Any, within: QuerySet[AwsAccount], **kwargs: Any) -> None:
        """`within`: the accounts the user may see; only their active ones can be chosen."""
        super().__init__(*args, **kwargs)
        self.active_accounts = within.filter(is_active=True).order_by("name")
        self.fields["accounts"].queryset = self.active_accounts  # type: ignore[attr-defined]

    def period_bounds(self) -> tuple[date, date]:
        year, month = (int(x) for x in self.cleaned_data["period"].split("-"))
        start = date(year, month, 1)
        return start, start + relativedelta(months=1) - timedelta(days=1)


class DispositionForm(forms.Form):
    kind = forms.ChoiceField(label="Decision", choices=Disposition.Kind.choices)
    justification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.CharField(required=False, max_length=200, label="Risk owner")
    expires_on = forms.DateField(required=False, label="Accepted until", widget=forms.DateInput(attrs={"type": "date"}))
    ticket = forms.CharField(required=False, max_length=200, label="Ticket")
    due_on = forms.DateField(required=False, label="Due", widget=forms.DateInput(attrs={"type": "date"}))


class SignOffForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Sign-off comment")


class CorrectionForm(forms.Form):
    reason = forms.CharField(max_length=1000, label="Why the signed review needs a correction")


class TrailFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150)
    action = forms.CharField(required=False, max_length=64, label="Action starts with")
    target = forms.CharField(required=False, max_length=100, label="Target contains")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
