"""Forms for naming standards, their exemptions and an account's choice of standard."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import NamingStandard, user_name_validator
from accounts.naming import NamingRuleError, compile_rule


class NamingStandardForm(forms.ModelForm):
    class Meta:
        model = NamingStandard
        fields = ["name", "preset", "company_initials", "custom_regex", "is_default"]
        labels = {"is_default": "Organisation default"}  # the help text says what it means, once

    def _get_validation_exclusions(self) -> set[str]:
        # One default standard at a time: standard_save hands the default over in one transaction, so the
        # form must not refuse a new default because an old one still holds the flag.
        return {*super()._get_validation_exclusions(), "is_default"}  # type: ignore[misc]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        preset = data.get("preset")
        if preset:
            try:
                compile_rule(preset, custom_regex=data.get("custom_regex", ""), company_initials=data.get("company_initials", ""))
            except NamingRuleError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


class ExemptionForm(forms.Form):
    user_name = forms.CharField(max_length=64, validators=[user_name_validator])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="why this name is not a person's (required)")

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("an exemption needs a reason")
        return str(reason)


class AccountStandardForm(forms.Form):
    standard = forms.ModelChoiceField(
        queryset=NamingStandard.objects.order_by("name"), required=False, empty_label="The organisation's standard"
    )
