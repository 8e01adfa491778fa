"""identitycenter: IAM Identity Center, the people who reach an account without an IAM user.

It owns the access model of Identity Center (access.py, pure: users, groups, memberships, permission sets judged
admin or not from their policies, account assignments, and who reaches which account through which path) and the
Identity Center checks (checks.py, pure). It imports staff, accounts, people and audits (the policy judgement and
the findings), and nothing above them.
"""

from __future__ import annotations

from django.apps import AppConfig


class IdentityCenterConfig(AppConfig):
    name = "identitycenter"
    verbose_name = "IAM Identity Center"

    def ready(self) -> None:
        from audits.models import RunSource
        from audits.runs import register_run_work
        from identitycenter.services import identity_center_work

        # Identity Center runs go through audits.runs.run_execute and its Celery task: the same claim, retries,
        # time limit, interruption and stale-run reaping as a credential-report fetch.
        register_run_work(RunSource.IDENTITY_CENTER, identity_center_work)
