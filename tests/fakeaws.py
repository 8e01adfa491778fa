"""A fleet of fake AWS accounts on a moto server, with IAM permissions enforced, and a faulty proxy in front of it.

Seeding (DESIGN.md): with authorisation off, create IAMWatch's own user and key in the account it runs in,
then in each member account a role `IAMWatchAudit` with (or without) a read policy and a few IAM users;
then switch authorisation on, so that every later call is checked like real AWS would.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3

from tests import motogaps
from tests.motogaps import Boundaries

HOME_ACCOUNT = "123456789012"  # moto's default: the account IAMWatch runs in
ROLE_NAME = "IAMWatchAudit"
READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:GenerateCredentialReport", "iam:Get*", "iam:List*"], "Resource": "*"}],
}
# A role with only the report's two permissions (the credential report lands; the API-backed checks cannot run).
REPORT_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:GenerateCredentialReport", "iam:GetCredentialReport"], "Resource": "*"}],
}
# IAMWatch's own user, as the README's permissions say: assume the audit roles, and read the organisation's accounts
# with their tags and OUs (sync_organization).
ASSUME_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "sts:AssumeRole", "organizations:ListAccounts", "organizations:ListTagsForResource",
                "organizations:ListParents", "organizations:DescribeOrganizationalUnit",
            ],
            "Resource": "*",
        }
    ],
}  # fmt: skip
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
}


def _moto_api(endpoint: str, path: str, body: bytes = b"") -> None:
    request = urllib.request.Request(endpoint + path, data=body, method="POST", headers={"Content-Type": "text/plain"})
    # A reset walks every account backend the server has made (with AWS managed policies, thousands of rows each):
    # seconds on a busy machine.
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


@dataclass(frozen=True, slots=True)
class Fleet:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    accounts: dict[str, bool | str]  # account id -> whether its role may read IAM ("report": the report alone)

    def env(self) -> dict[str, str]:
        """Environment for an IAMWatch process acting as the tool's own IAM user against this fleet."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "IAMWATCH_CLOUDTRAIL_LOOKUP": "false",  # moto does not implement CloudTrail's LookupEvents
        }

    def role_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{ROLE_NAME}"

    def register(self) -> list[Any]:
        """Register every account of the fleet in IAMWatch, named `acct-` and the last three digits of its id."""
        from accounts.services import account_create

        return [
            account_create(
                account_id=a, name=f"acct-{a[-3:]}", role_arn=self.role_arn(a), external_id="iamwatch-ext", naming_preset="initial_lastname"
            )
            for a in self.accounts
        ]


def seed_fleet(
    endpoint: str,
    accounts: dict[str, bool | str],
    *,
    users: int = 3,
    admin_policy: bool = True,
    enforce_auth: bool = True,
    reset: bool = True,
) -> Fleet:
    """Reset the moto server (unless reset=False) and seed it: IAMWatch's user and key, and per account a role and
    `users` IAM users.

    enforce_auth=False leaves moto accepting any credentials: a fleet a restarted server can be seeded with again
    (moto keeps nothing across a restart, and IAMWatch's key would be a new one)."""
    if reset:
        _moto_api(endpoint, "/moto-api/reset")
    _moto_api(endpoint, "/moto-api/reset-auth", b"inf")
    seed = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "seed", "aws_secret_access_key": "seed"}
    iam = boto3.client("iam", **seed)
    iam.create_user(UserName="iamwatch")
    iam.put_user_policy(UserName="iamwatch", PolicyName="assume-audit-roles", PolicyDocument=json.dumps(ASSUME_POLICY))
    key = iam.create_access_key(UserName="iamwatch")["AccessKey"]
    sts = boto3.client("sts", **seed)
    for account_id, readable in accounts.items():
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/seed", RoleSessionName="seed")["Credentials"]
        member = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        member.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
        if readable:
            policy = REPORT_ONLY_POLICY if readable == "report" else READ_POLICY
            member.put_role_policy(RoleName=ROLE_NAME, PolicyName="iamwatch-read", PolicyDocument=json.dumps(policy))
        for n in range(users):
            name = ("JSmith", "networkAdmin", "AWhite", "ci-deploy")[n % 4] + ("" if n < 4 else str(n))
            member.create_user(UserName=name)
            if n % 4 == 1:
                member.create_login_profile(UserName=name, Password="Shared-passw0rd!")
                if admin_policy:
                    member.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    if enforce_auth:
        _moto_api(endpoint, "/moto-api/reset-auth", b"0")  # from here on, every call is authorised like real AWS
    return Fleet(endpoint, key["AccessKeyId"], key["SecretAccessKey"], dict(accounts))


def seed_organization(endpoint: str, members: int) -> list[str]:
    """Reset the moto server and create an AWS Organization in the home account with `members` member accounts.

    moto picks the member account ids; seed_fleet(..., reset=False) then gives each its audit role and users."""
    _moto_api(endpoint, "/moto-api/reset")
    _moto_api(endpoint, "/moto-api/reset-auth", b"inf")
    org = boto3.client(
        "organizations", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="seed", aws_secret_access_key="seed"
    )
    org.create_organization(FeatureSet="ALL")
    ids = []
    for n in range(members):
        status = org.create_account(Email=f"aws-root+{n}@example.com", AccountName=f"member-{n:05d}")["CreateAccountStatus"]
        ids.append(status["AccountId"])
    return ids


THROTTLED = (
    b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>iamwatch-test</RequestId></ErrorResponse>"
)


JSON_THROTTLED = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'


class FaultyAws:
    """An HTTP proxy in front of moto that throttles or holds chosen actions, then forwards faithfully.

    Actions of the query protocol (IAM, STS) are named by the body's Action=, those of the JSON protocol (sso-admin,
    identitystore) by the X-Amz-Target header. The calls moto lacks (tests.motogaps) are answered by `gaps`."""

    def __init__(self, upstream: str, gaps: Boundaries | None = None) -> None:
        self.gaps = gaps
        self.upstream = urlsplit(upstream)
        self.throttle: dict[str, int] = {}  # action -> how many more calls to throttle
        self.hold: dict[str, threading.Event] = {}  # action -> released when set
        self.seen: list[str] = []
        self.held = threading.Event()  # set once a held call has arrived
        # action -> calls to let through first; then every call of it gets an HTML 500 until another action comes
        self.garble_after: dict[str, int] = {}
        self.garble_status = 500  # the garbled answers' HTTP status (200: a success AWS never sends, unparseable)
        self.latency = 0.0  # seconds every call waits before it is forwarded (AWS's round trip, for benchmarks)
        self.answers: dict[str, bytes] = {}  # action -> the JSON the proxy answers itself (after the latency)
        self._garbling = ""

    def action_of(self, body: bytes, target: str = "") -> str:
        if target:
            return target.rpartition(".")[2]
        for part in body.decode(errors="replace").split("&"):
            if part.startswith("Action="):
                return part.removeprefix("Action=")
        return ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0) or 0))
        target = handler.headers.get("X-Amz-Target", "")
        action = self.action_of(body, target)
        self.seen.append(action)
        if self.gaps is not None and target in motogaps.TARGETS and not self.throttle.get(action, 0):
            status, answer = self.gaps.answer(json.loads(body or b"{}"))
            self._send(handler, status, json.dumps(answer).encode(), "application/x-amz-json-1.1")
            return
        if self._garbling and action != self._garbling:
            self.garble_after.pop(self._garbling, None)
            self._garbling = ""
        if action in self.garble_after:
            if self.garble_after[action] > 0:
                self.garble_after[action] -= 1
            else:
                self._garbling = action
                self._send(handler, self.garble_status, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                return
        if self.throttle.get(action, 0) > 0:
            self.throttle[action] -= 1
            if target:
                self._send(handler, 400, JSON_THROTTLED, "application/x-amz-json-1.1")
            else:
                self._send(handler, 400, THROTTLED, "text/xml")
            return
        if self.latency:
            time.sleep(self.latency)
        if action in self.answers:
            self._send(handler, 200, self.answers[action], "application/x-amz-json-1.1")
            return
        if action in self.hold:
            self.held.set()
            self.hold[action].wait(timeout=120)
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers: dict[str, Any] = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
        connection.request(handler.command, handler.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        handler.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


@contextmanager
def faulty_proxy(upstream: str, gaps: Boundaries | None = None) -> Iterator[tuple[FaultyAws, str]]:
    """Start a FaultyAws proxy on 127.0.0.1 and a free port; yields it and its endpoint URL."""
    faults = FaultyAws(upstream, gaps)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            faults.handle(self)

        def do_GET(self) -> None:
            faults.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield faults, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        for event in faults.hold.values():
            event.set()
        server.shutdown()
        server.server_close()
