"""Forms for the people directory upload and for tying an IAM user to its owner by hand."""

from __future__ import annotations

from django import forms

from accounts.models import user_name_validator
from people.models import Person


class OwnerLinkForm(forms.Form):
    user_name = forms.CharField(max_length=64, validators=[user_name_validator])
    employee_id = forms.CharField(max_length=64, label="Owner's employee id")
    reason = forms.CharField(required=False, max_length=500)

    def clean_employee_id(self) -> Person:
        employee_id = self.cleaned_data["employee_id"].strip()
        person = Person.objects.filter(employee_id__iexact=employee_id).first()
        if person is None:
            raise forms.ValidationError(f"nobody in the people directory has employee id {employee_id}")
        return person


class DirectoryUploadForm(forms.Form):
    file = forms.FileField(label="HR export (CSV: employee_id, first_name, last_name, email, active)")
