"""The check engine: pure functions over a parsed report, account settings and an evaluation time."""

from __future__ import annotations

from datetime import datetime

from audits.report import CredentialReport

from .base import ACCOUNT_PRINCIPAL, SEVERITY_ORDER, Check, CheckContext, Result, Severity, Thresholds
from .root import account_report_missing_root, root_access_key_exists, root_mfa_disabled, root_recent_use
from .users import (
    access_key_at_setup,
    access_key_not_rotated,
    access_key_unused,
    console_without_mfa,
    multiple_active_keys,
    name_violation,
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
    account_report_missing_root,
)
CHECKS_BY_ID: dict[str, Check] = {c.id: c for c in REPORT_CHECKS}


def evaluate_report(report: CredentialReport, context: CheckContext, now: datetime) -> list[Result]:
    """Run every report check as of `now` (the report's generated time)."""
    return [result for c in REPORT_CHECKS for result in c(report, context, now)]


__all__ = [
    "ACCOUNT_PRINCIPAL",
    "CHECKS_BY_ID",
    "REPORT_CHECKS",
    "SEVERITY_ORDER",
    "Check",
    "CheckContext",
    "Result",
    "Severity",
    "Thresholds",
    "evaluate_report",
]
