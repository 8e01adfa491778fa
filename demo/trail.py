"""CloudTrail records shaped as CloudTrail writes them (AWS CloudTrail User Guide, record contents and sign-in
events): the demo's root activity, and the tests' and the benchmark's."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime
from typing import Any

ACCOUNT = "111122223333"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36"


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def root_identity(account: str = ACCOUNT, **extra: Any) -> dict[str, Any]:
    return {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account, **extra}


def sign_in(
    at: datetime, *, success: bool = True, mfa: str | None = "Yes", ip: str = "203.0.113.10", account: str = ACCOUNT,
    event_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A root ConsoleLogin: Success or Failure, MFAUsed Yes, No or (failures) absent."""
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": root_identity(account, accessKeyId=""),
        "eventTime": _stamp(at),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": BROWSER,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No"},
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if mfa is not None:
        record["additionalEventData"]["MFAUsed"] = mfa
    if not success:
        record["errorMessage"] = "Failed authentication"
    return record


def api_call(
    at: datetime, name: str = "CreateUser", *, source: str = "iam.amazonaws.com", ip: str = "203.0.113.10",
    mfa: bool = True, error: str = "", account: str = ACCOUNT, region: str = "us-east-1", event_id: str | None = None,
    access_key: str = "ASIAEXAMPLEROOTSESSION",
) -> dict[str, Any]:  # fmt: skip
    """A call root made with a console session (ASIA key, the default) or its own access key (AKIA...)."""
    identity = root_identity(
        account,
        accessKeyId=access_key,
        sessionContext={"attributes": {"creationDate": _stamp(at), "mfaAuthenticated": "true" if mfa else "false"}},
    )
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": _stamp(at),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.17.0 Python/3.11.9 Linux/6.1 exe/x86_64.debian.12",
        "requestParameters": {"userName": "temp"} if name == "CreateUser" else {},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": name.startswith(("Get", "List", "Describe")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"], record["errorMessage"] = error, f"{error} for root"
    return record


def iam_user_call(at: datetime, account: str = ACCOUNT) -> dict[str, Any]:
    record = api_call(at, "ListUsers", account=account)
    record["userIdentity"] = {
        "type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{account}:user/JSmith",
        "accountId": account, "accessKeyId": "AKIAEXAMPLE", "userName": "JSmith",
    }  # fmt: skip
    return record


def log_file(*records: dict[str, Any], gz: bool = False) -> bytes:
    """A log file as CloudTrail delivers it to S3."""
    content = json.dumps({"Records": list(records)}).encode()
    return gzip.compress(content) if gz else content


def lookup_events(*records: dict[str, Any]) -> bytes:
    """`aws cloudtrail lookup-events` output: each record a JSON string in CloudTrailEvent."""
    events = [
        {"EventId": r["eventID"], "EventName": r["eventName"], "EventTime": r["eventTime"], "CloudTrailEvent": json.dumps(r)}
        for r in records
    ]
    return json.dumps({"Events": events}).encode()


def pushed(record: dict[str, Any]) -> str:
    """The EventBridge envelope an SQS target receives for `record` (a root sign-in or call), as a message body."""
    kind = "AWS Console Sign In via CloudTrail" if record["eventName"] == "ConsoleLogin" else "AWS API Call via CloudTrail"
    return json.dumps(
        {
            "version": "0", "id": f"envelope-{record['eventID']}", "detail-type": kind,
            "source": "aws.signin" if record["eventName"] == "ConsoleLogin" else f"aws.{record['eventSource'].split('.')[0]}",
            "account": record["userIdentity"]["accountId"], "time": record["eventTime"], "region": record["awsRegion"],
            "resources": [], "detail": record,
        }
    )  # fmt: skip
