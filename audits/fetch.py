"""Fetch a credential report and the read-only API facts of one account through boto3.

Nothing here touches the database: it returns bytes and plain dataclasses for the ingest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from accounts.aws import AWS_ERRORS, describe_error, is_transient
from audits.checks.api import ApiFacts
from audits.policies import grants_admin, is_aws_admin_policy

# The report is being (re)generated: generate and wait again.
_REGENERATE_CODES = frozenset({"ReportInProgress", "ReportNotPresent", "ReportExpired"})


class FetchError(Exception):
    """A fetch failed; `transient` says whether trying again later may succeed."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def _fail(exc: Exception, call: str) -> FetchError:
    return FetchError(describe_error(exc, call=call), transient=is_transient(exc))


@dataclass(frozen=True, slots=True)
class FetchedReport:
    content: bytes
    aws_generated_at: datetime | None
    received_at: datetime


def fetch_credential_report(
    client: Any,
    *,
    max_wait: float,
    first_wait: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FetchedReport:
    """GenerateCredentialReport, poll with backoff for at most `max_wait` seconds, then GetCredentialReport."""
    deadline = clock() + max_wait
    delay = first_wait
    state = "STARTED"
    while True:
        try:
            state = client.generate_credential_report()["State"]
        except AWS_ERRORS as exc:
            raise _fail(exc, "iam:GenerateCredentialReport") from exc
        if state == "COMPLETE":
            try:
                response = client.get_credential_report()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _REGENERATE_CODES:
                    raise _fail(exc, "iam:GetCredentialReport") from exc
                state = exc.response["Error"]["Code"]
            except AWS_ERRORS as exc:
                raise _fail(exc, "iam:GetCredentialReport") from exc
            else:
                generated = response.get("GeneratedTime")
                return FetchedReport(
                    content=response["Content"],
                    aws_generated_at=generated.astimezone(UTC) if generated else None,
                    received_at=datetime.now(UTC),
                )
        if clock() + delay > deadline:
            raise FetchError(f"iam:GenerateCredentialReport: the report was still {state} after {max_wait:.0f} s; giving up")
        sleep(delay)
        delay = min(delay * 2, 30.0)


def admin_users(details: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[str, ...]]:
    """Users holding administrator rights (audits.policies: from the documents, never the names), directly, inline
    or through a group."""
    full_policies = {
        policy["Arn"]
        for policy in details.get("Policies", [])
        if any(v.get("IsDefaultVersion") and grants_admin(v.get("Document")) for v in policy.get("PolicyVersionList", []))
    }

    def reasons_of(entity: dict[str, Any], inline_key: str, via: str) -> list[str]:
        found = [
            f"{p['PolicyName']}{via}" for p in entity.get("AttachedManagedPolicies", []) if p["PolicyArn"] in full_policies
            or is_aws_admin_policy(p["PolicyArn"])
        ]  # fmt: skip
        found += [
            f"inline {p['PolicyName']}{via}" for p in entity.get(inline_key, []) if grants_admin(p.get("PolicyDocument"))
        ]
        return found

    groups = {
        g["GroupName"]: reasons_of(g, "GroupPolicyList", f" via group {g['GroupName']}")
        for g in details.get("GroupDetailList", [])
    }
    result: dict[str, tuple[str, ...]] = {}
    for user in details.get("UserDetailList", []):
        reasons = reasons_of(user, "UserPolicyList", "")
        for group in user.get("GroupList", []):
            reasons += groups.get(group, [])
        if reasons:
            result[user["UserName"]] = tuple(reasons)
    return result


def fetch_api_facts(client: Any) -> ApiFacts:
    """The read-only API facts behind password_policy_weak, direct_admin, hardware_mfa and the alias."""
    try:
        policy: dict[str, Any] | None = client.get_account_password_policy()["PasswordPolicy"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise _fail(exc, "iam:GetAccountPasswordPolicy") from exc
        policy = None
    except AWS_ERRORS as exc:
        raise _fail(exc, "iam:GetAccountPasswordPolicy") from exc
    details: dict[str, list[dict[str, Any]]] = {"UserDetailList": [], "GroupDetailList": [], "Policies": []}
    try:
        pages = client.get_paginator("get_account_authorization_details").paginate(
            Filter=["User", "Group", "LocalManagedPolicy"]  # AWS managed policies are judged by ARN
        )
        for page in pages:
            for key in details:
                details[key].extend(page.get(key, []))
        virtual = [
            device
            for page in client.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned")
            for device in page.get("VirtualMFADevices", [])
        ]
        aliases = client.list_account_aliases().get("AccountAliases", [])
    except AWS_ERRORS as exc:
        raise _fail(exc, "iam read-only API") from exc
    root_virtual = any(str(d.get("User", {}).get("Arn", "")).endswith(":root") for d in virtual)
    return ApiFacts(
        password_policy=policy,
        admin_users=admin_users(details),
        root_virtual_mfa=root_virtual,
        alias=aliases[0] if aliases else "",
    )
