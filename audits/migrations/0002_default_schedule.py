"""The default schedule: a daily fleet audit and an hourly reaper of abandoned runs (editable in the admin)."""

from __future__ import annotations

from django.db import migrations

DAILY = "IAMWatch: daily fleet audit"
REAPER = "IAMWatch: fail abandoned runs"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    task = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = crontab.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    hourly, _ = interval.objects.get_or_create(every=1, period="hours")
    task.objects.get_or_create(name=DAILY, defaults={"task": "audits.fetch_fleet", "crontab": daily})
    task.objects.get_or_create(name=REAPER, defaults={"task": "audits.reap_stale_runs", "interval": hourly})


def remove_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[DAILY, REAPER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
