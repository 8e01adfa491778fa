"""Runs, findings and the fleet schedule in the admin (the schedule never faster than AWS regenerates a report)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from audits.models import AuditRun, Finding
from audits.schedule import FLEET_TASK, crontab_min_gap, interval_gap, too_frequent
from staff.admin import TrailedAdmin


class FleetScheduleForm(PeriodicTaskForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("regtask") == FLEET_TASK or data.get("task") == FLEET_TASK:
            gap = None
            if data.get("interval"):
                gap = interval_gap(every=data["interval"].every, period=data["interval"].period)
            elif data.get("crontab"):
                gap = crontab_min_gap(minute=data["crontab"].minute, hour=data["crontab"].hour)
            message = too_frequent(gap, min_hours=settings.IAMWATCH_MIN_FETCH_INTERVAL_HOURS) if gap is not None else None
            if message:
                raise ValidationError(message)
        return data


class IamWatchPeriodicTaskAdmin(TrailedAdmin, PeriodicTaskAdmin):
    form = FleetScheduleForm


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, IamWatchPeriodicTaskAdmin)


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "account", "source", "status", "requested_at", "generated_at", "principal_count", "open_finding_count")
    list_filter = ("status", "source")
    search_fields = ("account__account_id", "account__name")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("account", "check_id", "principal", "severity", "status", "first_seen", "last_seen")
    list_filter = ("status", "severity", "check_id")
    search_fields = ("principal", "account__account_id")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


