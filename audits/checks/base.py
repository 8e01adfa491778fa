"""What every check shares: metadata as data, the evaluation context and exact duration helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from accounts.naming import NO_STANDARD, NamingRule
from audits.report import CredentialReport
from people.matching import PeopleIndex


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_ORDER: dict[str, int] = {s.value: i for i, s in enumerate(Severity)}
ACCOUNT_PRINCIPAL = ""  # account-level findings name no principal


@dataclass(frozen=True, slots=True)
class Thresholds:
    root_recent_use_days: int = 30
    password_unused_days: int = 45
    access_key_unused_days: int = 45
    access_key_rotation_days: int = 90


@dataclass(frozen=True, slots=True)
class ApiFacts:
    """What the read-only IAM API told beyond the credential report (the checks of audits.checks.api read it)."""

    password_policy: Mapping[str, Any] | None  # None: the account has no password policy
    admin_users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # user: the policies making it administrator
    escalating_users: Mapping[str, str] = field(default_factory=dict)  # user: the step that would make it one
    root_virtual_mfa: bool = False
    alias: str = ""
    # check id -> the permission whose call was denied: those checks are not evaluated (the run is partial)
    missing: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Account settings a check may read: never the ORM, the clock or django.conf."""

    thresholds: Thresholds = Thresholds()
    naming: NamingRule = NO_STANDARD
    api: ApiFacts | None = None  # read-only IAM API facts; None for an imported file
    people: PeopleIndex | None = None  # the people directory under the account's standard; None when none is loaded
    account_id: str = ""
    root_email: str = ""
    # The security distribution list's pattern: "aws-root+{account_id}@example.com" or "@example.com"; "" = not configured.
    root_email_rule: str = ""


@dataclass(frozen=True, slots=True)
class Result:
    check_id: str
    principal: str
    arn: str
    detail: str
    # What an event finding is about (a CloudTrail event id, a UTC day, a day and an address): several findings of
    # one check and principal. Empty for the checks of a state (one finding per check and principal).
    subject: str = ""
    # This finding's severity when it is not the check's (a root session is as bad as what it was); "" = the check's.
    severity: str = ""


CheckFunction = Callable[[CredentialReport, CheckContext, datetime], Iterator[Result]]


@dataclass(frozen=True, slots=True)
class Check:
    do_not_call_in_templates = True  # a Check is callable; templates read its metadata

    id: str
    severity: Severity
    title: str
    reference: str
    rationale: str
    evaluate: CheckFunction

    def __call__(self, report: CredentialReport, context: CheckContext, now: datetime) -> list[Result]:
        return list(self.evaluate(report, context, now))


def check(*, id: str, severity: Severity, title: str, reference: str, rationale: str) -> Callable[[CheckFunction], Check]:
    """Declare a check: the function yields Results, the metadata sits beside it."""

    def wrap(fn: CheckFunction) -> Check:
        return Check(id=id, severity=severity, title=title, reference=reference, rationale=rationale, evaluate=fn)

    return wrap


def older_than(t: datetime, now: datetime, days: int) -> bool:
    """t < now - days x 24 h, exact to the second (not a count of calendar days)."""
    return t < now - timedelta(days=days)


def within(t: datetime, now: datetime, days: int) -> bool:
    """now - days x 24 h <= t; a time after `now` counts as within (it cannot be older)."""
    return t >= now - timedelta(days=days)


def day(t: datetime | None) -> str:
    """A stable, date-only rendering for details (details must not change while the facts do not)."""
    return t.strftime("%Y-%m-%d") if t is not None else "never"


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
