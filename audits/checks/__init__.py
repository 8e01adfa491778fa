"""The check engine: pure functions over a parsed report, account settings and an evaluation time."""

from __future__ import annotations

from datetime import datetime

from audits.report import CredentialReport

from .api import can_become_admin, direct_admin, password_policy_weak, root_hardware_mfa
from .base import ACCOUNT_PRINCIPAL, SEVERITY_ORDER, ApiFacts, Check, CheckContext, Result, Severity, Thresholds
from .events import EVENT_CHECKS, IDENTITY_CENTER_CHECKS, RETIRED_EVENT_CHECKS
from .root import (
    account_report_missing_root,
    account_root_email_not_alias,
    root_access_key_exists,
    root_mfa_disabled,
    root_recent_use,
)
from .users import (
    access_key_at_setup,
    access_key_not_rotated,
    access_key_unused,
    console_without_mfa,
    multiple_active_keys,
    name_violation,
    no_owner,
    owner_departed,
    password_unused,
    shared_account,
)

# Every check the credential report alone decides, in catalog order.
REPORT_CHECKS: tuple[Check, ...] = (
    root_access_key_exists,
    root_mfa_disabled,
    root_recent_use,
    console_without_mfa,
    password_unused,
    access_key_unused,
    access_key_not_rotated,
    multiple_active_keys,
    access_key_at_setup,
    name_violation,
    shared_account,
    no_owner,
    owner_departed,
    account_report_missing_root,
    account_root_email_not_alias,
)
# Checks that also need read-only IAM API facts: they run on fetched reports only.
API_CHECKS: tuple[Check, ...] = (root_hardware_mfa, password_policy_weak, direct_admin, can_become_admin)
# Checks that other evidence decides (root activity from CloudTrail, Identity Center): in the catalog, never
# evaluated on a report.
CHECKS_BY_ID: dict[str, Check] = {
    c.id: c for c in (*REPORT_CHECKS, *API_CHECKS, *EVENT_CHECKS, *IDENTITY_CENTER_CHECKS, *RETIRED_EVENT_CHECKS)
}
EVENT_CHECK_IDS: frozenset[str] = frozenset(c.id for c in EVENT_CHECKS)
RETIRED_CHECK_IDS: frozenset[str] = frozenset(c.id for c in RETIRED_EVENT_CHECKS)


def checks_for(context: CheckContext, report: CredentialReport | None = None) -> tuple[Check, ...]:
    """The checks that can decide. Without `report`: every check this kind of run makes (the API-backed ones only
    with API facts). With it: less those the run lacks the evidence for, root checks without a root row and the
    API checks whose calls were denied. The one rule for "not evaluated is not resolved": a check left out here
    leaves its findings exactly as they were."""
    checks = (*REPORT_CHECKS, *API_CHECKS) if context.api is not None else REPORT_CHECKS
    if report is None:
        return checks
    missing = context.api.missing if context.api is not None else {}
    return tuple(c for c in checks if c.id not in missing and not (report.root is None and c.id.startswith("root.")))


def evaluate_report(report: CredentialReport, context: CheckContext, now: datetime) -> list[Result]:
    """Run every check that can decide this report, as of `now` (the report's generated time)."""
    return [result for c in checks_for(context, report) for result in c(report, context, now)]


__all__ = [
    "ACCOUNT_PRINCIPAL",
    "API_CHECKS",
    "CHECKS_BY_ID",
    "EVENT_CHECKS",
    "EVENT_CHECK_IDS",
    "IDENTITY_CENTER_CHECKS",
    "REPORT_CHECKS",
    "RETIRED_CHECK_IDS",
    "SEVERITY_ORDER",
    "ApiFacts",
    "Check",
    "CheckContext",
    "Result",
    "Severity",
    "Thresholds",
    "checks_for",
    "evaluate_report",
]
