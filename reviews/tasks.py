"""Thin Celery tasks of the reviews app; the work is in reviews.services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="audits.expire_acceptances")
def expire_acceptances() -> int:
    """Reopen accepted findings whose acceptance ran out (hourly, so the next review sees them)."""
    from reviews.services import acceptances_expire

    return acceptances_expire(now=timezone.now())
