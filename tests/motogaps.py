"""The AWS calls IAMWatch makes that moto does not implement, answered as AWS answers them.

moto 5 implements sso-admin without permissions boundaries: GetPermissionsBoundaryForPermissionSet raises
NotImplementedError in-process and fails on its server. `Boundaries` holds the boundaries a test attaches and gives
AWS's answer, ResourceNotFoundException for a set without one. Two ways in, one answer:

- in-process (moto's decorator): a botocore `before-call` handler, registered the way moto registers its own
  (`BUILTIN_HANDLERS`, picked up by every client created after this module is imported), which answers only
  while a test has installed a `Boundaries`; moto's handler runs later (`before-send`) and never sees the call;
- on the moto server: `tests.fakeaws.FaultyAws` asks the same object (`answer`) for the call's JSON body.

Only the calls named in `TARGETS` are answered; every other call goes to moto.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

TARGETS = {"SWBExternalService.GetPermissionsBoundaryForPermissionSet"}


class Boundaries:
    """Permissions boundaries by permission set ARN, as PutPermissionsBoundaryToPermissionSet would attach them."""

    def __init__(self) -> None:
        self.by_set: dict[str, dict[str, Any]] = {}

    def attach(self, permission_set_arn: str, *, managed_arn: str = "", name: str = "", path: str = "/") -> None:
        boundary: dict[str, Any] = (
            {"ManagedPolicyArn": managed_arn} if managed_arn else {"CustomerManagedPolicyReference": {"Name": name, "Path": path}}
        )
        self.by_set[permission_set_arn] = boundary

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) of GetPermissionsBoundaryForPermissionSet for the request `body`."""
        boundary = self.by_set.get(str(body.get("PermissionSetArn", "")))
        if boundary is None:
            return 400, {"__type": "ResourceNotFoundException", "Message": "Could not find a permissions boundary"}
        return 200, {"PermissionsBoundary": boundary}


installed: Boundaries | None = None


def _before_call(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    target = f"SWBExternalService.{model.name}"
    if installed is None or target not in TARGETS:
        return None
    status, body = installed.answer(json.loads(params.get("body") or b"{}"))
    response = AWSResponse(params.get("url", ""), status, {}, None)
    if status >= 300:
        return response, {
            "Error": {"Code": body["__type"], "Message": body["Message"]},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
    return response, {**body, "ResponseMetadata": {"HTTPStatusCode": status}}


BUILTIN_HANDLERS.append(("before-call.sso-admin.*", _before_call))
