"""manage.py run_identity_center: read the organisation's Identity Center now, as one run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audits.models import RunStatus
from identitycenter.services import IdentityCenterError, identity_center_run


class Command(BaseCommand):
    help = "Read IAM Identity Center (IAMWATCH_IDENTITY_CENTER_ACCOUNT, _REGION): access paths and sso.* findings, one run."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = identity_center_run(requested_by="manage.py run_identity_center")
        except IdentityCenterError as exc:
            raise CommandError(str(exc)) from None
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"run {run.pk} failed: {run.error}")
        self.stdout.write(f"run {run.pk}: " + " ".join(run.warnings) + f"; findings: {run.new_finding_count} new, {run.resolved_finding_count} resolved")
