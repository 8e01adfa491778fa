"""AWS sessions for an account: assume its role with the ExternalId, or the default credential chain.

Credentials are short-lived STS credentials held in memory for one run; nothing here is stored.
`AWS_ENDPOINT_URL` (honoured by boto3 itself) points every client at a fake AWS such as moto's server.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from django.conf import settings

from accounts.models import AwsAccount

SESSION_NAME_PREFIX = "IAMWatch"


def boto_config(attempts: int | None = None) -> Config:
    """Adaptive retries back off on throttling (Throttling, TooManyRequests) with client-side rate limiting.

    IAMWATCH_AWS_MAX_ATTEMPTS counts every attempt, the first included (botocore's `total_max_attempts`; its
    `max_attempts` would count retries only, one more request than the setting says); `attempts`, fewer for a call
    whose failure costs nothing but a later read."""
    return Config(
        retries={"mode": "adaptive", "total_max_attempts": attempts or settings.IAMWATCH_AWS_MAX_ATTEMPTS},
        connect_timeout=10,
        read_timeout=30,
        user_agent_appid="IAMWatch",
    )


# The failure model (README, "Faults"): an error that may pass is retried (botocore's backoff, then the run's own
# retries), then the run fails with the last one; any other fails the run at once, with a hint.
TRANSIENT_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled",
        "ServiceUnavailable", "InternalFailure", "InternalError", "RequestTimeout", "RequestTimeoutException",
        "ExpiredToken", "ExpiredTokenException",  # the 15-minute role session ran out mid-run: the next attempt assumes anew
    }
)  # fmt: skip
# Every error a boto3 call can raise: AWS's answer (ClientError), no usable answer (connection refused or reset,
# read timeout: BotoCoreError) and an answer that is not AWS's format (an HTML 500 from a proxy).
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
# What botocore's parsers raise from inside a call on an answer that is not AWS's (a 200 HTML page from a proxy):
# caught around the call only, so that they say what happened instead of passing for a bug.
NOT_AWS_ERRORS: tuple[type[Exception], ...] = (KeyError, IndexError, TypeError)


def not_aws(exc: Exception, call: str) -> str:
    """One line for an answer botocore could not read."""
    return (
        f"{call}: the answer was not AWS's (botocore could not read it: {type(exc).__name__}: {exc}); "
        "is a proxy or another service answering at the endpoint?"
    )
_HINTS = {
    "AccessDenied": "the role lacks this permission (README, Registering a real AWS account)",
    "AccessDeniedException": "the role lacks this permission (README, Registering a real AWS account)",
    "NoSuchEntity": "no such role: create it in the account, or correct the role ARN",
    "InvalidClientTokenId": "IAMWatch's own credentials are not valid",
}


def is_transient(exc: Exception) -> bool:
    """Whether trying again later may succeed: throttling, AWS's 5xx, no answer, or an answer not in AWS's format."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return exc.response.get("Error", {}).get("Code", "") in TRANSIENT_CODES or status >= 500
    return isinstance(exc, AWS_ERRORS)


class AwsAccessError(Exception):
    """A call to AWS failed; the message says which call and why. `transient`: trying again later may succeed."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def describe_error(exc: Exception, *, call: str) -> str:
    """One line naming the call and the AWS error code (with a hint for the usual permanent ones)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Error")
        hint = _HINTS.get(code, "")
        if code == "AccessDenied" and call.startswith("sts:AssumeRole"):
            hint = "the role's trust policy does not let IAMWatch in: check its principal and its sts:ExternalId condition"
        return f"{call}: {code}: {one_line(str(error.get('Message', ''))) or 'no message'}" + (f" ({hint})" if hint else "")
    return f"{call}: {type(exc).__name__}: {one_line(str(exc))}"


_HTML = re.compile(r"(?is)<!doctype\s+html|<html[\s>]|<body[\s>]")
_TITLE = re.compile(r"(?is)<title>(.*?)</title>")
MAX_SAID = 300


def one_line(text: str) -> str:
    """An error's message as one line of at most MAX_SAID characters: an HTML page (a proxy's or a fake AWS's error
    page in place of AWS's answer) is said to be one, by its title, never repeated whole."""
    if _HTML.search(text):
        title = _TITLE.search(text)
        return "an HTML page, not AWS's answer" + (f" (\"{' '.join(title.group(1).split())[:100]}\")" if title else "")
    said = " ".join(text.split())
    return said if len(said) <= MAX_SAID else said[: MAX_SAID - 1] + "…"


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


@functools.cache
def _base_session() -> boto3.Session:
    # One boto3 session per process: creating one loads service models, which costs more than a whole run.
    return boto3.Session(region_name=_region())


@dataclass(frozen=True, slots=True)
class AccountAccess:
    """How to call AWS as a given account: temporary credentials from STS, or the default chain (None)."""

    credentials: dict[str, str] | None

    def client(self, service: str, region: str | None = None, *, attempts: int | None = None) -> Any:
        """A client of `service` in `region` (default: the process's region); `attempts`: see boto_config."""
        keys: dict[str, Any] = {} if self.credentials is None else dict(self.credentials)
        if region is not None:
            keys["region_name"] = region
        return _base_session().client(service, config=boto_config(attempts), **keys)


def account_session(account: AwsAccount) -> AccountAccess:
    """Access to `account`: its role assumed with the ExternalId if one is set, else the default credential chain."""
    if not account.role_arn:
        return AccountAccess(None)
    params: dict[str, Any] = {
        "RoleArn": account.role_arn,
        "RoleSessionName": f"{SESSION_NAME_PREFIX}-{account.account_id}",
        "DurationSeconds": 900,
    }
    if account.external_id:
        params["ExternalId"] = account.external_id
    try:
        credentials = AccountAccess(None).client("sts").assume_role(**params)["Credentials"]
    except AWS_ERRORS as exc:
        raise AwsAccessError(describe_error(exc, call=f"sts:AssumeRole {account.role_arn}"), transient=is_transient(exc)) from exc
    return AccountAccess(
        {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    )


def iam_client(access: AccountAccess) -> Any:
    return access.client("iam")


@dataclass(frozen=True, slots=True)
class ConnectionStep:
    call: str
    ok: bool
    detail: str
    state: str = ""  # what the call found, where a caller keeps it (the push rule's ENABLED or DISABLED)


NO_CREDENTIALS = (
    "no AWS credentials: give the account a role ARN, or give the IAMWatch processes credentials of their own "
    "(an instance or task role, or AWS_PROFILE; never a stored access key)"
)
# The read-only calls IAMWatch makes in a member account; the first two are required.
CONNECTION_CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("iam:GenerateCredentialReport", "generate_credential_report", {}),
    ("iam:GetCredentialReport", "get_credential_report", {}),
    ("iam:GetAccountPasswordPolicy", "get_account_password_policy", {}),
    ("iam:GetAccountAuthorizationDetails", "get_account_authorization_details", {"MaxItems": 1}),
    ("iam:GetPolicyVersion", "get_policy_version", {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "VersionId": "v1"}),
    ("iam:ListVirtualMFADevices", "list_virtual_mfa_devices", {"MaxItems": 1}),
    ("iam:ListAccountAliases", "list_account_aliases", {}),
)
# The calls of root activity from CloudTrail (cloudtrail.fetch), tried when IAMWATCH_CLOUDTRAIL_LOOKUP is on.
TRAIL_CALLS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("ec2:DescribeRegions", "ec2", "describe_regions", {"AllRegions": False}),
    ("cloudtrail:LookupEvents", "cloudtrail", "lookup_events", {"MaxResults": 1}),
)
# Error codes that prove the permission is there (the call itself was allowed).
_ALLOWED_ANYWAY = {"NoSuchEntity", "ReportNotPresent", "ReportInProgress", "ReportExpired"}


def connection_test(account: AwsAccount) -> list[ConnectionStep]:
    """Try each call IAMWatch needs and say exactly which one fails and why."""
    if account.role_arn:
        try:
            session = account_session(account)
        except AwsAccessError as exc:
            return [ConnectionStep("sts:AssumeRole", False, str(exc))]
        steps = [ConnectionStep("sts:AssumeRole", True, f"acting through {account.role_arn}")]
    else:  # the default chain: say so plainly when it has no credentials, or they do not work, before any IAM call
        if _base_session().get_credentials() is None:
            return [ConnectionStep("credentials", False, NO_CREDENTIALS)]
        session = AccountAccess(None)
        try:
            who = session.client("sts").get_caller_identity()["Arn"]
        except AWS_ERRORS as exc:
            return [ConnectionStep("sts:GetCallerIdentity", False, describe_error(exc, call="sts:GetCallerIdentity"))]
        steps = [ConnectionStep("credentials", True, f"acting as {who} (the default credential chain)")]
    client = iam_client(session)
    for call, method, kwargs in CONNECTION_CALLS:
        try:
            getattr(client, method)(**kwargs)
            steps.append(ConnectionStep(call, True, "allowed"))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _ALLOWED_ANYWAY:
                steps.append(ConnectionStep(call, True, f"allowed ({code})"))
            else:
                steps.append(ConnectionStep(call, False, describe_error(exc, call=call)))
        except (BotoCoreError, ResponseParserError) as exc:  # no usable answer: the next calls would say the same
            steps.append(ConnectionStep(call, False, describe_error(exc, call=call) + "; the remaining calls were not tried"))
            return steps
    if settings.IAMWATCH_CLOUDTRAIL_LOOKUP:  # root's CloudTrail events, read in every fetch run
        for call, service, method, kwargs in TRAIL_CALLS:
            try:
                getattr(session.client(service), method)(**kwargs)
                steps.append(ConnectionStep(call, True, "allowed"))
            except (ClientError, BotoCoreError, ResponseParserError) as exc:
                steps.append(ConnectionStep(call, False, describe_error(exc, call=call)))
    if settings.IAMWATCH_ROOT_EVENTS_QUEUE_URL:  # the push path: is the account's root activity rule there and on?
        steps.append(push_rule_step(session))
    return steps


PUSH_RULE_CALL = "events:DescribeRule"


def push_rule_step(session: AccountAccess) -> ConnectionStep:
    """The account's root activity rule (deploy/root-events.yaml) as events:DescribeRule finds it: ok when ENABLED.
    The step's state is the rule's (empty when it was not found; its detail says why)."""
    name, region = settings.IAMWATCH_ROOT_EVENTS_RULE, settings.IAMWATCH_ROOT_EVENTS_RULE_REGION
    call = f"{PUSH_RULE_CALL} {name} in {region}"
    try:
        state = str(session.client("events", region).describe_rule(Name=name).get("State", ""))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return ConnectionStep(call, False, "not found: root events are not pushed from this account (deploy deploy/root-events.yaml)")
        return ConnectionStep(call, False, describe_error(exc, call=call))
    except (BotoCoreError, ResponseParserError) as exc:
        return ConnectionStep(call, False, describe_error(exc, call=call))
    if state == "ENABLED":
        return ConnectionStep(call, True, "ENABLED: root events are pushed within minutes", state)
    return ConnectionStep(call, False, f"{state or 'no state'}: the rule is there but does not push root events; enable it", state)


class OrganizationReadError(Exception):
    """AWS Organizations refused or failed a call; the message names it."""


def organization_members(client: Any) -> list[dict[str, Any]]:
    """Every member account (ListAccounts) with its tags (Tags: key -> value) and its OU names from the root down
    (OuPath), for sync_organization; OU names are read once each. Raises OrganizationReadError naming the call."""
    ou_names: dict[str, str] = {}

    def call(name: str, **params: Any) -> list[dict[str, Any]]:
        key = {"list_accounts": "Accounts", "list_tags_for_resource": "Tags", "list_parents": "Parents"}[name]
        try:
            return [item for page in client.get_paginator(name).paginate(**params) for item in page[key]]
        except AWS_ERRORS as exc:
            action = "".join(part.title() for part in name.split("_"))
            raise OrganizationReadError(describe_error(exc, call=f"organizations:{action}")) from None

    def ou_path(child: str) -> list[str]:
        path: list[str] = []
        while True:
            parents = call("list_parents", ChildId=child)
            if not parents or parents[0]["Type"] != "ORGANIZATIONAL_UNIT":
                return path[::-1]
            child = parents[0]["Id"]
            if child not in ou_names:
                try:
                    ou_names[child] = client.describe_organizational_unit(OrganizationalUnitId=child)["OrganizationalUnit"]["Name"]
                except AWS_ERRORS as exc:
                    raise OrganizationReadError(describe_error(exc, call="organizations:DescribeOrganizationalUnit")) from None
            path.append(ou_names[child])

    members = call("list_accounts")
    for member in members:
        member["Tags"] = {t["Key"]: t["Value"] for t in call("list_tags_for_resource", ResourceId=member["Id"])}
        member["OuPath"] = ou_path(member["Id"])
    return members
