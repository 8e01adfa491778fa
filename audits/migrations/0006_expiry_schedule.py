"""An hourly task that reopens accepted findings whose acceptance has expired (editable in the admin)."""

from __future__ import annotations

from django.db import migrations

EXPIRY = "IAMWatch: reopen expired acceptances"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    task = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = interval.objects.get_or_create(every=1, period="hours")
    task.objects.get_or_create(name=EXPIRY, defaults={"task": "audits.expire_acceptances", "interval": hourly})


def remove_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=EXPIRY).delete()


class Migration(migrations.Migration):
    dependencies = [("audits", "0005_signoff_immutable"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
