"""Forms of the review meeting: opening a review, a decision on a finding, sign-off and correction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import QuerySet

from accounts.models import AwsAccount
from reviews.models import Disposition


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
