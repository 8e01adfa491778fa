"""Filter forms for the dashboard: every query parameter is validated here, never trusted raw."""

from __future__ import annotations

from django import forms

from audits.checks import CHECKS_BY_ID, Severity
from audits.report import time_in_name
from audits.selectors import SORTS, STATUS_FILTERS, FindingFilters
from staff.forms import MomentField, start_of_day


class OverviewForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Account")
    environment = forms.CharField(required=False, max_length=50)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS])
    since = MomentField(required=False, label="Since (last review)")


class RunFilterForm(forms.Form):
    health = forms.ChoiceField(
        required=False,
        label="Last run",
        choices=[
            ("", "any"),
            ("failed", "failed"),
            ("partial", "partial"),
            ("never", "never run"),
            ("active", "under way"),
            ("ok", "succeeded"),
        ],
    )
    environment = forms.CharField(required=False, max_length=50)
    q = forms.CharField(required=False, max_length=100, label="Account")


class FindingFilterForm(forms.Form):
    account = forms.RegexField(
        regex=r"^[0-9]{12}$", required=False, max_length=12, error_messages={"invalid": "An account id is 12 digits."}
    )
    check = forms.MultipleChoiceField(
        required=False, choices=[(c, c) for c in sorted(CHECKS_BY_ID)], widget=forms.SelectMultiple(attrs={"size": 4})
    )
    severity = forms.ChoiceField(required=False, choices=[("", "any severity"), *((s.value, s.value) for s in Severity)])
    status = forms.ChoiceField(required=False, choices=[(s, s) for s in STATUS_FILTERS])
    since = MomentField(required=False, label="New since")
    resolved_since = MomentField(required=False, label="Resolved since")
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
            resolved_since=start_of_day(data.get("resolved_since")),
            principal=data.get("principal") or "",
            user=data.get("user") or "",
        )


class SinceForm(forms.Form):
    since = MomentField(required=False, label="Since (last review)")
    account = forms.RegexField(
        regex=r"^[0-9]{12}$", required=False, max_length=12, error_messages={"invalid": "An account id is 12 digits."}
    )


MAX_REPORT_MB = 50  # a 10,000-user credential report is about 3 MB


class ReportUploadForm(forms.Form):
    """A credential report downloaded from the IAM console, imported from the account page."""

    report = forms.FileField(label="Credential report (CSV from the IAM console)")
    generated_at = forms.DateTimeField(
        required=False,
        label="Generated at (UTC)",
        help_text="the report's time as the console gave it; may be left empty only when the file's name carries it "
        "(the console's status_reports_2026-12-03T09_15_42+00_00.csv)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_report(self) -> object:
        upload = self.cleaned_data["report"]
        if upload.size > MAX_REPORT_MB * 1024 * 1024:
            raise forms.ValidationError(f"{upload.name} is larger than {MAX_REPORT_MB} MB: not a credential report")
        return upload

    def clean(self) -> dict[str, object]:
        """The report's time: as entered, else the one its file name carries. Never the time of the upload: an old
        download would import as a fresh report."""
        data = super().clean() or {}
        upload = data.get("report")
        self.time_from = "entered"
        if upload is not None and data.get("generated_at") is None and "generated_at" not in self.errors:
            named = time_in_name(upload.name)
            if named is None:
                raise forms.ValidationError(
                    f"say when the report was generated (Generated at): {upload.name}'s name carries no time, and the time "
                    "of the upload would make an old download look fresh"
                )
            data["generated_at"], self.time_from = named, "the file's name"
        return data
