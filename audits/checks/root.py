"""Checks on the root user's row of the credential report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from audits.report import ROOT_USER, CredentialReport

from .base import ACCOUNT_PRINCIPAL, CheckContext, Result, Severity, check, stamp, within


@check(
    id="root.access_key_exists",
    severity=Severity.CRITICAL,
    title="Root user has an active access key",
    reference="CIS 1.4, SH IAM.4",
    rationale="Root keys cannot be limited by any policy; delete them and use roles for automation.",
)
def root_access_key_exists(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    root = report.root
    if root is None:
        return
    active = [str(n) for n, key in root.access_keys if key.active]
    if active:
        yield Result("root.access_key_exists", ROOT_USER, root.arn, f"active root access key(s): {', '.join(active)}")


@check(
    id="root.mfa_disabled",
    severity=Severity.CRITICAL,
    title="Root user has no MFA",
    reference="CIS 1.5, SH IAM.9",
    rationale="Anyone with the root password (or a reset of the root mailbox) owns the account without MFA.",
)
def root_mfa_disabled(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    root = report.root
    if root is None or root.mfa_active:
        return
    # Centrally managed root access: no password (false, not not_supported) and no key means nothing to protect.
    if root.password_enabled is False and not any(key.active for _, key in root.access_keys):
        return
    yield Result("root.mfa_disabled", ROOT_USER, root.arn, "root MFA is not active")


@check(
    id="root.recent_use",
    severity=Severity.HIGH,
    title="Root user used recently",
    reference="CIS 1.7",
    rationale="Root is for break-glass only; every use must be explained in the review.",
)
def root_recent_use(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    root = report.root
    if root is None:
        return
    uses = [
        (t, what)
        for t, what in (
            (root.password_last_used, "password"),
            (root.access_key_1.last_used, "access key 1"),
            (root.access_key_2.last_used, "access key 2"),
        )
        if t is not None
    ]
    if not uses:
        return
    latest, what = max(uses)
    if within(latest, now, ctx.thresholds.root_recent_use_days):
        days = ctx.thresholds.root_recent_use_days
        yield Result("root.recent_use", ROOT_USER, root.arn, f"root {what} last used {stamp(latest)}, within {days} days")


@check(
    id="account.report_missing_root",
    severity=Severity.LOW,
    title="Credential report has no root row",
    reference="-",
    rationale="Without the root row IAMWatch cannot tell whether root was used; moto and partial reports omit it.",
)
def account_report_missing_root(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if report.root is None:
        yield Result("account.report_missing_root", ACCOUNT_PRINCIPAL, "", f"the report has no {ROOT_USER} row")
