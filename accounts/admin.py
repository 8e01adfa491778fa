"""AWS accounts, naming standards and account scopes in the admin; every change lands in the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.forms import NamingStandardForm
from accounts.models import AccountScope, AwsAccount, NamingExemption, NamingStandard
from staff.admin import TrailedAdmin
from staff.trail import record_change


class NamingExemptionInline(admin.TabularInline):
    model = NamingExemption
    extra = 0


@admin.register(NamingStandard)
class NamingStandardAdmin(TrailedAdmin):
    form = NamingStandardForm
    list_display = ("name", "preset", "custom_regex", "company_initials", "is_default")
    inlines = [NamingExemptionInline]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            if obj.is_default:  # one default at a time: hand it over
                for old in NamingStandard.objects.filter(is_default=True).exclude(pk=obj.pk):
                    old.is_default = False
                    old.save(update_fields=["is_default"])
                    record_change(
                        actor=request.user.get_username(),
                        action="namingstandard.changed",
                        target=str(old),
                        before={"is_default": True},
                        after={"is_default": False},
                    )
            super().save_model(request, obj, form, change)


@admin.register(AwsAccount)
class AwsAccountAdmin(TrailedAdmin):
    list_display = ("account_id", "name", "environment", "naming_standard", "is_active", "last_success_at")
    list_filter = ("environment", "is_active")
    search_fields = ("account_id", "name")
    readonly_fields = ("last_success_at", "created_at")


@admin.register(AccountScope)
class AccountScopeAdmin(TrailedAdmin):
    """Who is restricted to which accounts; every grant and change is in the audit trail."""

    list_display = ("user", "reason")
    search_fields = ("user__username", "reason")
    filter_horizontal = ("accounts",)
