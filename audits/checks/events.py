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


def _decided_elsewhere(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    return iter(())


def _catalog_entry(id: str, severity: Severity, title: str, reference: str, rationale: str) -> Check:
    """A check a report never raises: its metadata only (another app's pure checks decide it)."""
    return Check(id=id, severity=severity, title=title, reference=reference, rationale=rationale, evaluate=_decided_elsewhere)


EVENT_CHECKS: tuple[Check, ...] = (
    _catalog_entry(
        "root.session", Severity.CRITICAL, "Root was used: one session", "CIS 1.7; CIS 1.5",
        "Root is for break-glass only. Each session (a sign-in or the first call, and what root did until it stopped) "
        "is decided once; its severity is what it was: critical without MFA, with a root access key, from outside the "
        "known networks or after failed attempts; high for changes made or failed sign-ins alone; medium for a sign-in "
        "with MFA from a known network that only looked.",
    ),
    _catalog_entry(
        "root.evidence_conflict", Severity.CRITICAL, "A CloudTrail file contradicts AWS's own record", "-",
        "A file someone uploaded gave a root event other values than AWS's LookupEvents: AWS's record stands, and whoever "
        "supplied the file has to explain it; it may be an attempt to hide root activity.",
    ),
)  # fmt: skip


# The checks of single root events that root.session replaced: never raised any more, in the catalog so that the
# findings they raised before (and the reviews that decided them) still read as they did.
RETIRED_EVENT_CHECKS: tuple[Check, ...] = (
    _catalog_entry(
        "root.console_login", Severity.CRITICAL, "Root signed in to the console", "CIS 1.7",
        "Root is for break-glass only: every sign-in needs its ticket, or it is an incident.",
    ),
    _catalog_entry(
        "root.login_without_mfa", Severity.CRITICAL, "Root signed in without MFA", "CIS 1.5",
        "A root sign-in without MFA means the password alone opened the account.",
    ),
    _catalog_entry(
        "root.failed_login", Severity.HIGH, "Failed root sign-ins", "-",
        "Someone tried the root password: who, from where, and is it still tried?",
    ),
    _catalog_entry(
        "root.api_activity", Severity.HIGH, "Root called AWS APIs", "CIS 1.7",
        "Root should make no calls at all; each day and address of calls needs an explanation.",
    ),
    _catalog_entry(
        "root.unknown_network", Severity.CRITICAL, "Root used from an unknown network", "-",
        "A root event from outside the company's networks (IAMWATCH_KNOWN_NETWORKS) is an incident until shown otherwise.",
    ),
)  # fmt: skip


# IAM Identity Center (identitycenter.checks decides them from a run over the organisation's instance).
IDENTITY_CENTER_CHECKS: tuple[Check, ...] = (
    _catalog_entry(
        "sso.user_departed", Severity.CRITICAL, "Identity Center user of a person who has left", "practice",
        "A leaver's Identity Center user still opens accounts: remove the user or its assignments today.",
    ),
    _catalog_entry(
        "sso.user_no_person", Severity.HIGH, "Identity Center user of nobody in the directory", "practice",
        "Every identity must belong to one named person; an unknown user is shared, stale or an intruder.",
    ),
    _catalog_entry(
        "sso.admin_direct_assignment", Severity.MEDIUM, "Administrator permission set assigned to a user directly", "practice",
        "Administrator access goes through groups, so that joining and leaving is one membership, reviewed in one place.",
    ),
    _catalog_entry(
        "sso.admin_in_production", Severity.HIGH, "Too many administrators of a production account", "practice",
        "More people than IAMWATCH_SSO_MAX_ADMINS_PROD can administer this production account through Identity Center.",
    ),
    _catalog_entry(
        "sso.can_become_admin", Severity.HIGH, "Identity Center user can make itself administrator", "Rhino Security Labs IAM privilege escalation; practice",
        "A permission set that may write or attach policies, take over IAM users' credentials or pass a role to new compute is one call away from administrator rights.",
    ),
    _catalog_entry(
        "sso.group_empty_assignment", Severity.LOW, "Assigned group with no members", "practice",
        "An empty group still assigned is access waiting for whoever is added next: remove the assignment.",
    ),
)  # fmt: skip
