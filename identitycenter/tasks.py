"""Celery task: the scheduled read of Identity Center (daily, beside the fleet's reports; editable in the admin)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from audits.tasks import QueueUnavailable, enqueue_run
from identitycenter.services import IdentityCenterError, identity_center_request

log = logging.getLogger(__name__)


@shared_task(name="identitycenter.read")
def read_identity_center() -> int | None:
    """Queue one Identity Center run for the workers (audits.fetch_account executes it like a fetch: retries on
    AWS's transient faults, its time limit, a dead worker's run reaped); nothing when
    IAMWATCH_IDENTITY_CENTER_ACCOUNT is not set. Returns the run's id."""
    if not settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT:
        return None
    try:
        run = identity_center_request(requested_by="schedule")
        enqueue_run(run)
    except (IdentityCenterError, QueueUnavailable):
        log.exception("Identity Center not read")
        return None
    return run.pk
