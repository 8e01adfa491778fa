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


_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def _optional(call: str, fetch: Callable[[], Any], missing: dict[str, str], checks: tuple[str, ...]) -> Any:
    """One optional read-only call: its answer, or None when the role may not make it (the checks that need it are
    then not evaluated, and the run is partial). Any other error fails the run as the failure model says."""
    try:
        return fetch()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _DENIED:
            raise _fail(exc, call) from exc
        missing.update(dict.fromkeys(checks, call))
        return None
    except AWS_ERRORS as exc:
        raise _fail(exc, call) from exc


def _password_policy(client: Any) -> dict[str, Any]:
    try:
        return {"policy": client.get_account_password_policy()["PasswordPolicy"]}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
        return {"policy": None}  # the account has no policy: AWS's weak defaults apply


def _authorization_details(client: Any) -> dict[str, list[dict[str, Any]]]:
    details: dict[str, list[dict[str, Any]]] = {"UserDetailList": [], "GroupDetailList": [], "Policies": []}
    pages = client.get_paginator("get_account_authorization_details").paginate(
        Filter=["User", "Group", "LocalManagedPolicy"]  # AWS managed policies are judged by ARN
    )
    for page in pages:
        for key in details:
            details[key].extend(page.get(key, []))
    return details


def fetch_api_facts(client: Any) -> ApiFacts:
    """The read-only API facts behind password_policy_weak, direct_admin, hardware_mfa and the alias; a call the
    role may not make leaves its checks out (ApiFacts.missing) instead of failing the run."""
    missing: dict[str, str] = {}
    policy = _optional("iam:GetAccountPasswordPolicy", lambda: _password_policy(client), missing, ("account.password_policy_weak",))
    details = _optional(
        "iam:GetAccountAuthorizationDetails", lambda: _authorization_details(client), missing, ("user.direct_admin",)
    )
    virtual = _optional(
        "iam:ListVirtualMFADevices",
        lambda: [
            device
            for page in client.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned")
            for device in page.get("VirtualMFADevices", [])
        ],
        missing,
        ("root.hardware_mfa",),
    )
    aliases = _optional("iam:ListAccountAliases", lambda: client.list_account_aliases().get("AccountAliases", []), missing, ())
    return ApiFacts(
        password_policy=policy["policy"] if policy else None,
        admin_users=admin_users(details) if details else {},
        root_virtual_mfa=any(str(d.get("User", {}).get("Arn", "")).endswith(":root") for d in virtual or []),
        alias=aliases[0] if aliases else "",
        missing=missing,
    )
