"""AWS accounts, naming standards and account scopes in the admin; every change lands in the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.forms import NamingStandardForm
from accounts.models import AccountScope, AwsAccount, NamingExemption, NamingStandard
from staff.admin import TrailedAdmin, is_privileged
from staff.roles import ADMIN
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
    readonly_fields = ("last_success_at", "created_at", "environment_from_organization")

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if "environment" in form.changed_data:  # set by hand: sync_organization leaves it as it is from now on
            obj.environment_from_organization = False
        super().save_model(request, obj, form, change)


@admin.register(AccountScope)
class AccountScopeAdmin(TrailedAdmin):
    """Who is restricted to which accounts; every grant and change is in the audit trail."""

    list_display = ("user", "reason")
    search_fields = ("user__username", "reason")
    filter_horizontal = ("accounts",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user" and not request.user.is_superuser:  # an admin scopes viewers and reviewers only
            kwargs["queryset"] = User.objects.filter(is_superuser=False, is_staff=False).exclude(groups__name=ADMIN)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and is_privileged(obj.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and is_privileged(obj.user):
            return False
        return super().has_delete_permission(request, obj)
