"""Catalog entries of the checks that other evidence than a credential report decides: root activity from CloudTrail
(cloudtrail.checks) and IAM Identity Center (identitycenter.checks).

They sit in the catalog with the rest so that every page, filter and export knows their severity and title; a
report never raises them (they are in neither REPORT_CHECKS nor API_CHECKS) and a report run never resolves them.
Root events are facts, and a review decides each one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from audits.report import CredentialReport

from .base import Check, CheckContext, Result, Severity


def _decided_by_cloudtrail(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    return iter(())


def _event_check(id: str, severity: Severity, title: str, reference: str, rationale: str) -> Check:
    return Check(id=id, severity=severity, title=title, reference=reference, rationale=rationale, evaluate=_decided_by_cloudtrail)


EVENT_CHECKS: tuple[Check, ...] = (
    _event_check(
        "root.console_login", Severity.CRITICAL, "Root signed in to the console", "CIS 1.7",
        "Root is for break-glass only: every sign-in needs its ticket, or it is an incident.",
    ),
    _event_check(
        "root.login_without_mfa", Severity.CRITICAL, "Root signed in without MFA", "CIS 1.5",
        "A root sign-in without MFA means the password alone opened the account.",
    ),
    _event_check(
        "root.failed_login", Severity.HIGH, "Failed root sign-ins", "-",
        "Someone tried the root password: who, from where, and is it still tried?",
    ),
    _event_check(
        "root.api_activity", Severity.HIGH, "Root called AWS APIs", "CIS 1.7",
        "Root should make no calls at all; each day and address of calls needs an explanation.",
    ),
    _event_check(
        "root.unknown_network", Severity.CRITICAL, "Root used from an unknown network", "-",
        "A root event from outside the company's networks (IAMWATCH_KNOWN_NETWORKS) is an incident until shown otherwise.",
    ),
)  # fmt: skip


def _decided_by_identity_center(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    return iter(())


def _identity_center_check(id: str, severity: Severity, title: str, rationale: str) -> Check:
    return Check(id=id, severity=severity, title=title, reference="practice", rationale=rationale, evaluate=_decided_by_identity_center)


# IAM Identity Center (identitycenter.checks decides them from a run over the organisation's instance).
IDENTITY_CENTER_CHECKS: tuple[Check, ...] = (
    _identity_center_check(
        "sso.user_departed", Severity.CRITICAL, "Identity Center user of a person who has left",
        "A leaver's Identity Center user still opens accounts: remove the user or its assignments today.",
    ),
    _identity_center_check(
        "sso.user_no_person", Severity.HIGH, "Identity Center user of nobody in the directory",
        "Every identity must belong to one named person; an unknown user is shared, stale or an intruder.",
    ),
    _identity_center_check(
        "sso.admin_direct_assignment", Severity.MEDIUM, "Administrator permission set assigned to a user directly",
        "Administrator access goes through groups, so that joining and leaving is one membership, reviewed in one place.",
    ),
    _identity_center_check(
        "sso.admin_in_production", Severity.HIGH, "Too many administrators of a production account",
        "More people than IAMWATCH_SSO_MAX_ADMINS_PROD can administer this production account through Identity Center.",
    ),
    _identity_center_check(
        "sso.group_empty_assignment", Severity.LOW, "Assigned group with no members",
        "An empty group still assigned is access waiting for whoever is added next: remove the assignment.",
    ),
)  # fmt: skip
