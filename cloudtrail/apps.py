"""cloudtrail: root activity from CloudTrail, every root sign-in and call with where from and whether MFA was used.

It owns the CloudTrail record parser (cloudtrail.records, pure), the root-activity checks (cloudtrail.checks, pure:
their catalog entries sit in audits.checks with the rest), RootEvent (one row per CloudTrail eventID, idempotent
across overlapping fetches and files), the file import (`import_cloudtrail`, the account page's upload) and
LookupEvents through the account's read-only role, and the fleet's Root activity page. Its events raise findings
through audits.services (a review decides each) and alerts through audits.alerts. It imports staff, accounts and
audits; reviews reads it for the evidence pack, and the audits pages read its selectors.
"""

from __future__ import annotations

from django.apps import AppConfig


class CloudTrailConfig(AppConfig):
    name = "cloudtrail"
    verbose_name = "Root activity (CloudTrail)"

    def ready(self) -> None:
        from audits.alerts import register_alert_source
        from audits.runs import register_run_step
        from cloudtrail.alerts import root_event_alerts
        from cloudtrail.services import LookupStep

        register_run_step(LookupStep())
        register_alert_source(root_event_alerts)
