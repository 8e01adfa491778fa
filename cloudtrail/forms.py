"""The Root activity page's filters and the account page's CloudTrail upload."""

from __future__ import annotations

from django import forms

from cloudtrail.selectors import KINDS, RootEventFilters

MAX_TRAIL_MB = 100  # a day of a busy account's CloudTrail, gzipped, is a few MB


class RootActivityForm(forms.Form):
    account = forms.RegexField(regex=r"^[0-9]{12}$", required=False, max_length=12, error_messages={"invalid": "An account id is 12 digits."})
    kind = forms.ChoiceField(required=False, choices=[("", "any"), *KINDS.items()])
    mfa = forms.ChoiceField(required=False, label="MFA", choices=[("", "any"), ("yes", "used"), ("no", "not used"), ("unknown", "not recorded")])
    address = forms.RegexField(
        regex=r"^[0-9A-Fa-f.:]{1,45}$", required=False, max_length=45, label="Address starts with",
        error_messages={"invalid": "An address or its start: digits, dots and colons (203.0.113. or 2001:db8:)."},
    )  # fmt: skip
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The period ends before it starts.")
        return data

    def filters(self) -> RootEventFilters:
        d = self.cleaned_data
        return RootEventFilters(d["account"], d["kind"], d["mfa"], d["address"], d["since"], d["until"])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern for multiple uploads)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self, data: object, initial: object = None) -> list[object]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class TrailUploadForm(forms.Form):
    trail_files = MultipleFileField(label="CloudTrail files (.json or .json.gz)")

    def clean_trail_files(self) -> list[object]:
        files = self.cleaned_data["trail_files"]
        if sum(f.size for f in files) > MAX_TRAIL_MB * 1024 * 1024:
            raise forms.ValidationError(f"The files are larger than {MAX_TRAIL_MB} MB together: import them with manage.py import_cloudtrail.")
        return files
