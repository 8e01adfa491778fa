"""Checks on each IAM user's row of the credential report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from accounts.naming import shared_words
from audits.report import CredentialReport
from people.matching import Owner

from .base import CheckContext, Result, Severity, check, day, older_than


@check(
    id="user.console_without_mfa",
    severity=Severity.HIGH,
    title="Console password without MFA",
    reference="CIS 1.10, SH IAM.5",
    rationale="A console password alone is one phishing e-mail away from the account.",
)
def console_without_mfa(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    for row in report.users:
        if row.password_enabled and not row.mfa_active:
            yield Result("user.console_without_mfa", row.user, row.arn, "console password enabled, MFA not active")


@check(
    id="user.password_unused",
    severity=Severity.MEDIUM,
    title="Console password unused",
    reference="CIS 1.12, SH IAM.22",
    rationale="Credentials nobody uses are attack surface nobody watches; remove them.",
)
def password_unused(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    days = ctx.thresholds.password_unused_days
    for row in report.users:
        if not row.password_enabled:
            continue
        if row.password_last_used is not None:
            if older_than(row.password_last_used, now, days):
                yield Result(
                    "user.password_unused",
                    row.user,
                    row.arn,
                    f"password last used {day(row.password_last_used)}, over {days} days before the report",
                )
            continue
        set_at = row.password_last_changed or row.user_creation_time
        if set_at is not None and older_than(set_at, now, days):
            yield Result(
                "user.password_unused",
                row.user,
                row.arn,
                f"password never used, set {day(set_at)}, over {days} days before the report",
            )


@check(
    id="user.access_key_unused",
    severity=Severity.MEDIUM,
    title="Active access key unused",
    reference="CIS 1.12, SH IAM.22",
    rationale="An active key nobody uses can only be used by somebody it was not meant for.",
)
def access_key_unused(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    days = ctx.thresholds.access_key_unused_days
    for row in report.users:
        stale = []
        for n, key in row.access_keys:
            if not key.active:
                continue
            if key.last_used is not None:
                if older_than(key.last_used, now, days):
                    stale.append(f"key {n} last used {day(key.last_used)}")
            elif key.last_rotated is not None and older_than(key.last_rotated, now, days):
                stale.append(f"key {n} never used, created {day(key.last_rotated)}")
        if stale:
            yield Result("user.access_key_unused", row.user, row.arn, f"{'; '.join(stale)} (over {days} days before the report)")


@check(
    id="user.access_key_not_rotated",
    severity=Severity.MEDIUM,
    title="Active access key not rotated",
    reference="CIS 1.14, SH IAM.3",
    rationale="Long-lived keys leak through laptops, CI logs and repositories; rotate them.",
)
def access_key_not_rotated(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    days = ctx.thresholds.access_key_rotation_days
    for row in report.users:
        old = [
            f"key {n} last rotated {day(key.last_rotated)}"
            for n, key in row.access_keys
            if key.active and key.last_rotated is not None and older_than(key.last_rotated, now, days)
        ]
        if old:
            yield Result(
                "user.access_key_not_rotated", row.user, row.arn, f"{'; '.join(old)} (over {days} days before the report)"
            )


@check(
    id="user.multiple_active_keys",
    severity=Severity.LOW,
    title="Two active access keys",
    reference="CIS 1.13",
    rationale="Two active keys are meant only for the minutes of a rotation.",
)
def multiple_active_keys(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    for row in report.users:
        if row.access_key_1.active and row.access_key_2.active:
            yield Result("user.multiple_active_keys", row.user, row.arn, "access keys 1 and 2 are both active")


@check(
    id="user.access_key_at_setup",
    severity=Severity.LOW,
    title="Access key created with a console user and never used",
    reference="CIS 1.11",
    rationale="Keys handed out at user set-up by default are keys nobody asked for.",
)
def access_key_at_setup(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    for row in report.users:
        if not row.password_enabled:
            continue
        unused = [str(n) for n, key in row.access_keys if key.active and key.last_used is None]
        if unused:
            yield Result(
                "user.access_key_at_setup",
                row.user,
                row.arn,
                f"console user with never-used active access key(s): {', '.join(unused)}",
            )


@check(
    id="user.name_violation",
    severity=Severity.MEDIUM,
    title="User name breaks the naming standard",
    reference="practice",
    rationale="A standard name lets an auditor tell which person owns which user.",
)
def name_violation(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    rule = ctx.naming
    for row in report.users:
        if not rule.fits(row.user) and rule.exemption(row.user) is None:
            example = f", e.g. {rule.example}" if rule.example else ""
            yield Result("user.name_violation", row.user, row.arn, f"does not fit {rule.label}{example}")


def _owners(ctx: CheckContext, user: str) -> tuple[Owner, ...] | None:
    """The user's owners in the directory; None when no directory is loaded."""
    return None if ctx.people is None else ctx.people.resolve(user)


@check(
    id="user.shared_account",
    severity=Severity.HIGH,
    title="Shared or role login",
    reference="practice",
    rationale="A shared login ties no action to a person; give every person their own user.",
)
def shared_account(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    """Raised on a role or team word in the name, or on a console password and keys on a user nobody owns; never
    on a user with neither a console password nor an active key (there is nothing to share).

    The signals: role or team words in the name; a console password and an active access key on the same
    user (a person at a desk and a script sharing one identity); no owner in the people directory. The
    name alone is enough; the other two only together, since developers often hold both a password and
    a key, and never on a name that fits the naming standard: a person-shaped name missing from the
    directory is user.no_owner's to report, not a shared login. The detail lists every signal that fired.
    """
    for row in report.users:
        if ctx.naming.exemption(row.user) is not None:
            continue
        if not row.password_enabled and not (row.access_key_1.active or row.access_key_2.active):
            continue  # no console password and no active key: nothing anyone could share
        words = shared_words(row.user)
        both = row.password_enabled and (row.access_key_1.active or row.access_key_2.active)
        owners = _owners(ctx, row.user)
        unowned = owners is not None and len(owners) != 1
        person_shaped = ctx.naming.pattern is not None and ctx.naming.fits(row.user)
        if not words and not (both and unowned and not person_shaped):
            continue
        signals = []
        if words:
            signals.append(f"name suggests a role or shared login ({', '.join(words)})")
        if both:
            signals.append("console password and active access key on one user")
        if unowned:
            signals.append("no owner in the people directory")
        yield Result("user.shared_account", row.user, row.arn, "signals: " + "; ".join(signals))


@check(
    id="user.no_owner",
    severity=Severity.MEDIUM,
    title="User belongs to nobody in the people directory",
    reference="practice",
    rationale="Every IAM user should tie back to one person, so that every action does.",
)
def no_owner(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if ctx.people is None:
        return
    for row in report.users:
        if ctx.naming.exemption(row.user) is not None:
            continue
        owners = ctx.people.resolve(row.user)
        if not owners:
            rule = ctx.naming
            if rule.pattern is not None and rule.fits(row.user):
                why = f"fits {rule.label} but names nobody in the people directory (a leaver taken out of it, or a typo)"
            elif rule.pattern is not None:
                why = f"maps to no person in the people directory and does not fit {rule.label}" + (
                    f" (e.g. {rule.example})" if rule.example else ""
                )
            else:
                why = "maps to no person in the people directory"
            yield Result("user.no_owner", row.user, row.arn, f"{why}; link it by hand or remove it")
        elif len(owners) > 1:
            who = ", ".join(o.describe() for o in sorted(owners, key=lambda o: o.employee_id))
            yield Result(
                "user.no_owner", row.user, row.arn, f"the name fits {len(owners)} people ({who}); link it to its owner by hand"
            )


@check(
    id="user.owner_departed",
    severity=Severity.HIGH,
    title="User belongs to a person who has left",
    reference="practice",
    rationale="Leavers keep no access: a departed person's users are removed on their last day.",
)
def owner_departed(report: CredentialReport, ctx: CheckContext, now: datetime) -> Iterator[Result]:
    if ctx.people is None:
        return
    for row in report.users:
        owners = ctx.people.resolve(row.user)
        if len(owners) == 1 and not owners[0].active:
            yield Result(
                "user.owner_departed",
                row.user,
                row.arn,
                f"owned by {owners[0].describe()} ({owners[0].how}), who is inactive in the people directory",
            )
