"""Identity Center users linked to their person by hand (every change in the audit trail)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from identitycenter.models import SsoOwnerLink
from staff.admin import TrailedAdmin


@admin.register(SsoOwnerLink)
class SsoOwnerLinkAdmin(TrailedAdmin):
    list_display = ("user_name", "person", "linked_by", "linked_at")
    search_fields = ("user_name", "person__last_name", "person__employee_id")
    readonly_fields = ("linked_by", "linked_at")

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        obj.linked_by = request.user.get_username()
        super().save_model(request, obj, form, change)
