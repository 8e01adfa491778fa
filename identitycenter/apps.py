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
