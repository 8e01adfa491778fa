"""Checks that need read-only IAM API facts beyond the credential report. They never run on an imported file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from audits.report import ROOT_USER, CredentialReport

from .base import ACCOUNT_PRINCIPAL, CheckContext, Result, Severity, check

MIN_PASSWORD_LENGTH = 14
MIN_PASSWORD_LENGTH_WITHOUT_MFA = 15  # NIST SP 800-63B: 15 where MFA is not enforced
MIN_REUSE_PREVENTION = 24


@check(
    id="account.password_policy_weak",
    severity=Severity.MEDIUM,
    title="Weak account password policy",
    reference="CIS 1.8, 1.9; NIST SP 800-63B",
    rationale="Short or reused passwords fall to guessing and credential stuffing.",
)
def password_policy_weak(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if ctx.api is None:
        return
    policy = ctx.api.password_policy
    if policy is None:
        yield Result(
            "account.password_policy_weak",
            ACCOUNT_PRINCIPAL,
            "",
            "no password policy: AWS defaults allow 8-character passwords and reuse",
        )
        return
    mfa_gap = any(row.password_enabled and not row.mfa_active for row in report.users)
    needed = MIN_PASSWORD_LENGTH_WITHOUT_MFA if mfa_gap else MIN_PASSWORD_LENGTH
    problems = []
    length = int(policy.get("MinimumPasswordLength", 0))
    if length < needed:
        why = (
            " (NIST: 15 where MFA is not enforced, and console users without MFA exist)"
            if mfa_gap and length >= MIN_PASSWORD_LENGTH
            else ""
        )
        problems.append(f"minimum length {length} < {needed}{why}")
    reuse = int(policy.get("PasswordReusePrevention", 0) or 0)
    if reuse < MIN_REUSE_PREVENTION:
        problems.append(f"reuse prevention {reuse} < {MIN_REUSE_PREVENTION}")
    if problems:
        if policy.get("ExpirePasswords") or policy.get("MaxPasswordAge"):
            problems.append("note: NIST SP 800-63B advises against forced periodic expiry")
        yield Result("account.password_policy_weak", ACCOUNT_PRINCIPAL, "", "; ".join(problems))


@check(
    id="user.direct_admin",
    severity=Severity.HIGH,
    title="User holds administrator rights",
    reference="CIS 1.16, practice",
    rationale="Admins should log in read-only and assume a privileged role, so that every privileged action is deliberate and logged.",
)
def direct_admin(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if ctx.api is not None:
        said = {user: f"administrator rights through {', '.join(reasons)}" for user, reasons in ctx.api.admin_users.items()}
        yield from _per_user("user.direct_admin", report, said)


def _per_user(check_id: str, report: CredentialReport, said: Mapping[str, str]) -> Iterator[Result]:
    """A finding per user of `said` (user: what the finding says), with the user's ARN from the report."""
    arns = {row.user: row.arn for row in report.users}
    for user, detail in sorted(said.items()):
        yield Result(check_id, user, arns.get(user, ""), detail)


@check(
    id="user.can_become_admin",
    severity=Severity.HIGH,
    title="User can make itself administrator",
    reference="Rhino Security Labs IAM privilege escalation; practice",
    rationale="A user allowed to write or attach policies, take over another user's credentials or pass a role to new compute is one call away from full administrator rights.",
)
def can_become_admin(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if ctx.api is not None:
        said = {user: f"can become administrator: {step}" for user, step in ctx.api.escalating_users.items()}
        yield from _per_user("user.can_become_admin", report, said)


@check(
    id="root.hardware_mfa",
    severity=Severity.MEDIUM,
    title="Root MFA is virtual, not hardware",
    reference="CIS 1.6, SH IAM.6",
    rationale="A virtual MFA lives on a phone that can be lost, cloned or restored; root deserves a hardware key in a safe.",
)
def root_hardware_mfa(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    root = report.root
    if ctx.api is None or root is None or not root.mfa_active:
        return
    if ctx.api.root_virtual_mfa:
        yield Result("root.hardware_mfa", ROOT_USER, root.arn, "root MFA is a virtual device")
