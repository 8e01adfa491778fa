"""audits: a credential report in, findings out.

It owns the report parser (audits.report), the pure checks (audits.checks: no ORM, no Django, no clock),
fetching through boto3, runs and their fan-out to Celery, the all-or-nothing ingest with the principal
history, findings and their lifecycle, root-usage events, alerts, the findings CSV, and the meeting's
dashboard pages over them (overview, findings, account, user, changes, alerts). It imports staff, accounts
and people (the owner checks read the directory); its pages read the last sign-off through reviews.selectors.
"""

from __future__ import annotations

from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audits"
