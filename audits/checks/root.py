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


def root_email_expected(rule: str, account_id: str) -> str:
    return rule.replace("{account_id}", account_id)


def root_email_fits(email: str, rule: str, account_id: str) -> bool:
    """Whether a root email is on the security distribution list: the exact alias, or any address at the list's domain."""
    expected = root_email_expected(rule, account_id).lower()
    email = email.strip().lower()
    return email.endswith(expected) if expected.startswith("@") else email == expected


@check(
    id="account.root_email_not_alias",
    severity=Severity.MEDIUM,
    title="Root email is not on the security distribution list",
    reference="practice",
    rationale="A password reset or an AWS notice to root must reach the whole security team, not one person's mailbox.",
)
def account_root_email_not_alias(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if not ctx.root_email_rule:
        return
    if not ctx.root_email:
        yield Result("account.root_email_not_alias", ACCOUNT_PRINCIPAL, "", "the account's root email is not recorded")
    elif not root_email_fits(ctx.root_email, ctx.root_email_rule, ctx.account_id):
        expected = root_email_expected(ctx.root_email_rule, ctx.account_id)
        yield Result(
            "account.root_email_not_alias",
            ACCOUNT_PRINCIPAL,
            "",
            f"root email {ctx.root_email} is not {'at ' if expected.startswith('@') else ''}{expected}",
        )


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
