"""Fetch a credential report and the read-only API facts of one account through boto3.

Nothing here touches the database: it returns bytes and plain dataclasses for the ingest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from accounts.aws import AWS_ERRORS, NOT_AWS_ERRORS, describe_error, is_transient, not_aws
from audits.checks import ApiFacts
from audits.policies import Policy, Verdict, evaluate, is_aws_admin_policy, known_document

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
        except NOT_AWS_ERRORS as exc:
            raise FetchError(not_aws(exc, "iam:GenerateCredentialReport")) from exc
        if state == "COMPLETE":
            try:
                response = client.get_credential_report()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _REGENERATE_CODES:
                    raise _fail(exc, "iam:GetCredentialReport") from exc
                state = exc.response["Error"]["Code"]
            except AWS_ERRORS as exc:
                raise _fail(exc, "iam:GetCredentialReport") from exc
            except NOT_AWS_ERRORS as exc:
                raise FetchError(not_aws(exc, "iam:GetCredentialReport")) from exc
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


def _default_documents(details: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The default version's document of each managed policy in the details, by ARN."""
    return {
        policy["Arn"]: version.get("Document")
        for policy in details.get("Policies", [])
        for version in policy.get("PolicyVersionList", [])
        if version.get("IsDefaultVersion")
    }


def evaluate_users(details: dict[str, list[dict[str, Any]]], managed: Mapping[str, Any] | None = None) -> dict[str, Verdict]:
    """Each user's policies evaluated together (audits.policies: from the documents, never the names): its managed
    and inline policies, its groups' and its permissions boundary. `managed`: AWS managed policies' documents by
    ARN (the account's own come in the details); one whose document is unknown grants nothing."""
    documents = {**(managed or {}), **_default_documents(details)}

    def policies_of(entity: dict[str, Any], inline_key: str, via: str) -> list[Policy]:
        found = [
            Policy(f"{p['PolicyName']}{via}", doc)
            for p in entity.get("AttachedManagedPolicies", [])
            if (doc := known_document(p["PolicyArn"], documents)) is not None
        ]
        return found + [Policy(f"inline {p['PolicyName']}{via}", p.get("PolicyDocument")) for p in entity.get(inline_key, [])]

    groups = {
        g["GroupName"]: policies_of(g, "GroupPolicyList", f" via group {g['GroupName']}")
        for g in details.get("GroupDetailList", [])
    }
    verdicts: dict[str, Verdict] = {}
    for user in details.get("UserDetailList", []):
        policies = policies_of(user, "UserPolicyList", "")
        for group in user.get("GroupList", []):
            policies += groups.get(group, [])
        arn = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", "")
        bound = known_document(arn, documents) if arn else None
        boundary = Policy(f"boundary {arn.rsplit('/', 1)[-1]}", bound) if bound is not None else None
        verdicts[user["UserName"]] = evaluate(policies, boundary)
    return verdicts


def admin_users(details: dict[str, list[dict[str, Any]]], managed: Mapping[str, Any] | None = None) -> dict[str, tuple[str, ...]]:
    """Users who are administrators, with the policies that make them so."""
    return {user: v.admin_through() for user, v in evaluate_users(details, managed).items() if v.admin}


def aws_managed_arns(details: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The AWS managed policies users and groups hold (or are bounded by) whose documents decide their rights."""
    arns = {
        p["PolicyArn"]
        for entity in (*details.get("UserDetailList", []), *details.get("GroupDetailList", []))
        for p in entity.get("AttachedManagedPolicies", [])
    }
    arns |= {
        u["PermissionsBoundary"]["PermissionsBoundaryArn"]
        for u in details.get("UserDetailList", [])
        if (u.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    }
    return sorted(a for a in arns if ":iam::aws:policy/" in a and not is_aws_admin_policy(a))


# AWS managed policies' documents by (ARN, version): a version never changes, and every account holds the same.
_MANAGED_VERSIONS: dict[tuple[str, str], Any] = {}


def read_managed_policy(client: Any, arn: str) -> Any:
    """An AWS managed policy's default document (iam:GetPolicy, then iam:GetPolicyVersion once per version seen by
    this process); None where the account does not know the policy."""
    try:
        version = client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        if (arn, version) not in _MANAGED_VERSIONS:
            _MANAGED_VERSIONS[(arn, version)] = client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise
    return _MANAGED_VERSIONS[(arn, version)]


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
    except NOT_AWS_ERRORS as exc:
        raise FetchError(not_aws(exc, call)) from exc


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
    """The read-only API facts behind password_policy_weak, direct_admin, can_become_admin, hardware_mfa and the
    alias (AWS managed policies' documents are read with iam:GetPolicy and iam:GetPolicyVersion); a call the
    role may not make leaves its checks out (ApiFacts.missing) instead of failing the run."""
    missing: dict[str, str] = {}
    policy = _optional("iam:GetAccountPasswordPolicy", lambda: _password_policy(client), missing, ("account.password_policy_weak",))
    admin_checks = ("user.direct_admin", "user.can_become_admin")
    details = _optional("iam:GetAccountAuthorizationDetails", lambda: _authorization_details(client), missing, admin_checks)
    managed = (
        _optional(
            "iam:GetPolicyVersion",
            lambda: {arn: read_managed_policy(client, arn) for arn in aws_managed_arns(details)},
            missing,
            admin_checks,
        )
        if details
        else None
    )
    verdicts = evaluate_users(details, {a: d for a, d in (managed or {}).items() if d is not None}) if details else {}
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
        admin_users={user: v.admin_through() for user, v in verdicts.items() if v.admin},
        escalating_users={user: str(v.escalation) for user, v in verdicts.items() if v.can_become_admin},
        root_virtual_mfa=any(str(d.get("User", {}).get("Arn", "")).endswith(":root") for d in virtual or []),
        alias=aliases[0] if aliases else "",
        missing=missing,
    )
