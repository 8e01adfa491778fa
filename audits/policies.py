"""Administrator rights read from IAM policy documents, never from a policy's name. Pure: no Django, no AWS.

A policy grants administrator rights when one of its statements allows, on every resource, every action (`*`,
`*:*`) or every IAM action (`iam:*`: whoever holds it can grant themselves the rest), or allows everything but a
list (`NotAction`) that does not keep IAM out; and no statement of the same policy denies that back. AWS's own
managed AdministratorAccess is known by its exact ARN (its document is not fetched).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from fnmatch import fnmatchcase
from typing import Any

AWS_ADMIN_POLICY = re.compile(r"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::aws:policy/AdministratorAccess")
_ADMIN_ACTIONS = frozenset({"*", "*:*", "iam:*"})
# An IAM action that lets its holder grant themselves anything: a NotAction that leaves it allowed leaves IAM open.
_ESCALATION = "iam:attachuserpolicy"


def document(doc: Any) -> dict[str, Any]:
    """A policy document as a dict; boto3 usually decodes them, some endpoints return URL-encoded JSON text."""
    if isinstance(doc, str):
        return dict(json.loads(urllib.parse.unquote(doc)))
    return dict(doc or {})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(doc: Any) -> list[dict[str, Any]]:
    return [s for s in _as_list(document(doc).get("Statement", [])) if isinstance(s, dict)]


def _on_everything(statement: dict[str, Any]) -> bool:
    return "*" in {str(r) for r in _as_list(statement.get("Resource", []))}


def _covers_iam(statement: dict[str, Any]) -> bool:
    """Whether the statement's actions reach every IAM action (Action) or leave them all in (NotAction)."""
    if "NotAction" in statement:
        excluded = [str(a).lower() for a in _as_list(statement["NotAction"])]
        return not any(fnmatchcase(_ESCALATION, pattern) for pattern in excluded)
    return bool({str(a).lower() for a in _as_list(statement.get("Action", []))} & _ADMIN_ACTIONS)


def grants_admin(doc: Any) -> bool:
    """Whether the policy document grants administrator rights (see the module's docstring)."""
    statements = _statements(doc)
    allowed = any(s.get("Effect") == "Allow" and _on_everything(s) and _covers_iam(s) for s in statements)
    denied = any(
        s.get("Effect") == "Deny" and _on_everything(s) and _covers_iam(s) and "Condition" not in s for s in statements
    )
    return allowed and not denied


def is_aws_admin_policy(arn: str) -> bool:
    return AWS_ADMIN_POLICY.fullmatch(arn) is not None
