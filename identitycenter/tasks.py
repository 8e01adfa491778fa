"""Celery task: the scheduled read of Identity Center (daily, beside the fleet's reports; editable in the admin)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from identitycenter.services import IdentityCenterError, identity_center_run

log = logging.getLogger(__name__)


@shared_task(name="identitycenter.read")
def read_identity_center() -> int | None:
    """One Identity Center run; nothing when IAMWATCH_IDENTITY_CENTER_ACCOUNT is not set. Returns the run's id."""
    if not settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT:
        return None
    try:
        return identity_center_run(requested_by="schedule").pk
    except IdentityCenterError:
        log.exception("Identity Center not read")
        return None
