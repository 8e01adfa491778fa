"""The daily Identity Center read, beside the daily fleet audit (editable in the admin)."""

from __future__ import annotations

from django.db import migrations

DAILY = "IAMWatch: daily Identity Center read"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    task = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = crontab.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    task.objects.get_or_create(name=DAILY, defaults={"task": "identitycenter.read", "crontab": daily})


def remove_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=DAILY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identitycenter", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
