"""audits: a credential report in, findings out.

It owns the report parser (audits.report), the pure checks (audits.checks: no ORM, no Django, no clock),
fetching through boto3, runs and their fan-out to Celery, the all-or-nothing ingest with the principal
history, findings and their lifecycle, root-usage events, alerts, the findings CSV, and its own pages (findings,
a user's history, alerts, runs, the report import). It imports staff, accounts and people (the owner checks read
the directory); the pages that compose it with the apps above are the dashboard's.
"""

from __future__ import annotations

from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audits"
