from __future__ import annotations

from django.contrib import admin

from accounts.models import AwsAccount, NamingExemption, NamingStandard


class NamingExemptionInline(admin.TabularInline):
    model = NamingExemption
    extra = 0


@admin.register(NamingStandard)
class NamingStandardAdmin(admin.ModelAdmin):
    list_display = ("name", "preset", "custom_regex", "company_initials")
    inlines = [NamingExemptionInline]


@admin.register(AwsAccount)
class AwsAccountAdmin(admin.ModelAdmin):
    list_display = ("account_id", "name", "environment", "naming_standard", "is_active", "last_success_at")
    list_filter = ("environment", "is_active")
    search_fields = ("account_id", "name")
    readonly_fields = ("last_success_at", "created_at")
