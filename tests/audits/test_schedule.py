"""The fleet schedule is editable, but never more often than AWS regenerates a report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audits.schedule import crontab_min_gap, interval_gap, too_frequent


@pytest.mark.parametrize(
    ("minute", "hour", "gap"),
    [
        ("0", "2", timedelta(days=1)),
        ("0", "*/4", timedelta(hours=4)),
        ("0", "*/3", timedelta(hours=3)),
        ("*/30", "1", timedelta(minutes=30)),
        ("0", "1,23", timedelta(hours=2)),
    ],
)
def test_crontab_min_gap(minute: str, hour: str, gap: timedelta) -> None:
    assert crontab_min_gap(minute=minute, hour=hour) == gap


def test_too_frequent_names_the_reason() -> None:
    assert too_frequent(interval_gap(every=3, period="hours"), min_hours=4) is not None
    assert too_frequent(interval_gap(every=4, period="hours"), min_hours=4) is None


@pytest.mark.django_db
def test_the_daily_fleet_audit_is_scheduled_by_default() -> None:
    task = PeriodicTask.objects.get(task="audits.fetch_fleet")
    assert task.enabled and task.crontab is not None and (task.crontab.hour, task.crontab.minute) == ("2", "0")


@pytest.mark.django_db
def test_the_admin_refuses_a_fleet_schedule_more_often_than_every_four_hours() -> None:
    from tests.conftest import client_for

    client = client_for(User.objects.create_superuser("root-admin", password="x-long-password-1"))
    task = PeriodicTask.objects.get(task="audits.fetch_fleet")
    hourly = IntervalSchedule.objects.create(every=1, period="hours")
    form = {"name": task.name, "regtask": "audits.fetch_fleet", "task": "", "interval": hourly.pk, "args": "[]", "kwargs": "{}", "enabled": "on", "queue": "", "exchange": "", "routing_key": "", "priority": "", "expires": "", "expire_seconds": "", "one_off": "", "start_time": "", "description": "", "headers": "{}"}  # fmt: skip
    response = client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/change/", form)
    assert response.status_code == 200 and "at most every 4 hours" in response.content.decode()
    task.refresh_from_db()
    assert task.interval is None
    every_six = CrontabSchedule.objects.create(minute="0", hour="*/6")
    response = client.post(
        f"/admin/django_celery_beat/periodictask/{task.pk}/change/", {**form, "interval": "", "crontab": every_six.pk}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    task.refresh_from_db()
    assert task.crontab == every_six
