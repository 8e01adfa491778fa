"""IAM policies evaluated together, as AWS evaluates them, for two questions about a principal: is it an
administrator, and can it make itself one. Pure: no Django, no AWS. The IAM user checks (audits.fetch) and the
Identity Center checks (identitycenter.access) both ask here, so both sides answer alike.

What is evaluated (AWS IAM User Guide, "Policy evaluation logic", for identity-based policies in one account):

- every identity policy of the principal together: its managed policies (AWS's and the account's), its inline
  policies and, for an IAM user, those of its groups; for a permission set, its managed, customer-managed and
  inline policies as the account holds them;
- an explicit `Deny` in any of them wins over every `Allow`; an action no statement allows is denied;
- `Action` and `NotAction`, `Resource` and `NotResource`, with IAM's `*` and `?` wildcards, case-insensitively
  for actions;
- a permissions boundary, when there is one: an action is allowed only when the boundary allows it too, and a
  `Deny` in the boundary denies it.

The answers are the worst case an auditor needs: an `Allow` with a `Condition` counts (the principal may be able
to meet it, e.g. by signing in with MFA), a `Deny` with a `Condition` does not (it may not apply).

- **administrator**: every action on every resource is allowed (`Action` `*` on `Resource` `*`) and nothing takes
  any of it back (no unconditional `Deny`, a boundary that allows all of it too). Decided by the statements that
  allow everything.
- **can become administrator**: not an administrator, but allowed, on every resource of its kind (`*`, or a
  resource pattern such as `arn:aws:iam::*:user/*`), one of the ESCALATIONS below: each is one step to
  administrator rights (attach or write a policy granting everything, take over another user's credentials, change
  who may assume a role, or hand a role to new compute). Decided by the statement that allows it.

Not evaluated (limits, README "Administrator rights"): service control and resource control policies, resource-
based policies (a role's trust policy, a bucket policy), session policies, condition keys and policy variables
(a resource pattern naming only the principal's own user is not broad), and chains of several steps.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

AWS_ADMIN_POLICY = re.compile(r"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::aws:policy/AdministratorAccess")
# AWS's AdministratorAccess, whose document is public and fixed: known without a call.
ADMINISTRATOR_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# The privilege-escalation actions (README "Administrator rights" names the sources: Rhino Security Labs' "AWS IAM
# Privilege Escalation" methods 1-10, 12 and 16-21, as Pacu's iam__privesc_scan and Cloudsplaining check them).
ESCALATIONS: tuple[str, ...] = (
    "iam:CreatePolicyVersion",  # a new default version of a policy the principal holds: anything
    "iam:SetDefaultPolicyVersion",  # an older, wider version of a policy it holds
    "iam:AttachUserPolicy",  # AdministratorAccess on itself
    "iam:AttachGroupPolicy",  # ... on a group it is in
    "iam:AttachRolePolicy",  # ... on a role it can assume
    "iam:PutUserPolicy",  # an inline policy granting everything on itself
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",  # into the administrators' group
    "iam:CreateAccessKey",  # keys for another user, an administrator
    "iam:CreateLoginProfile",  # a console password for another user
    "iam:UpdateLoginProfile",  # ... or a new one
    "iam:UpdateAssumeRolePolicy",  # let itself assume an administrator role
)
# iam:PassRole hands an existing (administrator) role to compute the principal then controls; each with the
# action that creates that compute.
HAND_ROLE = "iam:PassRole"
COMPUTE_CREATE: tuple[str, ...] = (
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "glue:CreateDevEndpoint",
    "cloudformation:CreateStack",
    "datapipeline:CreatePipeline",
    "sagemaker:CreateNotebookInstance",
    "codebuild:CreateProject",
    "ecs:RunTask",
)


def document(doc: Any) -> dict[str, Any]:
    """A policy document as a dict; boto3 usually decodes them, some endpoints return URL-encoded JSON text."""
    if isinstance(doc, str):
        found = json.loads(urllib.parse.unquote(doc))
        return found if isinstance(found, dict) else {}
    return dict(doc) if isinstance(doc, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` any one; everything else literal (no fnmatch classes)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.IGNORECASE | re.DOTALL)


def _matches(pattern: str, value: str) -> bool:
    return _pattern(pattern).fullmatch(value) is not None


def _broad(pattern: str, service: str) -> bool:
    """Whether a resource pattern covers every resource an action of `service` may name: `*`, or an ARN pattern
    of that service whose resource part is `*` or `<type>/*` (every user, every role...)."""
    if pattern == "*":
        return True
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0].lower() != "arn" or not _matches(parts[2], service):
        return False
    resource = parts[5]
    return resource == "*" or re.fullmatch(r"[A-Za-z-]+/\*", resource) is not None


@dataclass(frozen=True, slots=True)
class Statement:
    policy: str  # the policy as a reviewer names it: "AdministratorAccess", "inline deploy", "ops via group ops"
    index: int  # 1-based, in the policy's order
    sid: str
    allow: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditional: bool

    def __str__(self) -> str:
        return f"{self.policy} statement {self.sid or self.index}"

    def acts_on(self, action: str) -> bool:
        hit = any(_matches(p, action) for p in self.actions)
        return not hit if self.not_action else hit

    def on_all(self, action: str) -> bool:
        """Whether the statement reaches every resource of the action's kind (a NotResource Allow leaves out only
        what it lists, so it reaches the rest: counted for an Allow, never for a Deny, which then spares some)."""
        service = action.split(":", 1)[0]
        if self.not_resource:
            return self.allow and not any(_broad(p, service) for p in self.resources)
        return any(_broad(p, service) for p in self.resources)

    @property
    def everything(self) -> bool:
        """Every action on every resource."""
        return not self.not_action and not self.not_resource and "*" in self.resources and any(p in ("*", "*:*") for p in self.actions)


def statements(name: str, doc: Any) -> list[Statement]:
    """The statements of one policy document; one that is not a policy (bad JSON, no statements) has none."""
    try:
        parsed = document(doc)
    except (ValueError, TypeError):
        return []
    found = []
    for index, s in enumerate(_as_list(parsed.get("Statement")), start=1):
        if not isinstance(s, dict) or s.get("Effect") not in ("Allow", "Deny"):
            continue
        not_action, not_resource = "NotAction" in s, "NotResource" in s
        found.append(
            Statement(
                policy=name,
                index=index,
                sid=str(s.get("Sid") or ""),
                allow=s["Effect"] == "Allow",
                actions=tuple(str(a) for a in _as_list(s.get("NotAction" if not_action else "Action"))),
                not_action=not_action,
                resources=tuple(str(r) for r in _as_list(s.get("NotResource" if not_resource else "Resource"))),
                not_resource=not_resource,
                conditional=bool(s.get("Condition")),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    document: Any


@dataclass(frozen=True, slots=True)
class Decision:
    """One action on every resource: allowed by `by`, or not (by None: denied, not allowed, or outside the boundary)."""

    action: str
    by: Statement | None = None

    @property
    def allowed(self) -> bool:
        return self.by is not None


@dataclass(frozen=True, slots=True)
class Escalation:
    """A step to administrator: the action(s) and the statements that allow them."""

    actions: tuple[str, ...]
    by: tuple[Statement, ...]

    def __str__(self) -> str:
        steps = " with ".join(self.actions)
        return f"{steps} allowed by {' and '.join(dict.fromkeys(str(s) for s in self.by))}"


@dataclass(frozen=True, slots=True)
class Verdict:
    admin_by: tuple[Statement, ...] = ()  # the statements allowing everything, when nothing takes it back
    escalation: Escalation | None = None  # when not an administrator: the first step to it that is allowed
    held_back_by: Statement | None = None  # a Deny or boundary statement that keeps everything from being allowed

    @property
    def admin(self) -> bool:
        return bool(self.admin_by)

    @property
    def can_become_admin(self) -> bool:
        return not self.admin_by and self.escalation is not None

    def admin_through(self) -> tuple[str, ...]:
        """The policies that make the principal an administrator, each once, in order."""
        return tuple(dict.fromkeys(s.policy for s in self.admin_by))

    def describe(self) -> str:
        if self.admin_by:
            return f"administrator: everything allowed by {', '.join(dict.fromkeys(str(s) for s in self.admin_by))}"
        if self.escalation is not None:
            held = f" ({self.held_back_by} keeps it from everything)" if self.held_back_by is not None else ""
            return f"can become administrator: {self.escalation}{held}"
        return "not administrator"


class Evaluation:
    """A principal's identity policies (and boundary, None for none) evaluated together."""

    def __init__(self, policies: Iterable[Policy], boundary: Policy | None = None) -> None:
        self.identity = [s for p in policies for s in statements(p.name, p.document)]
        self.boundary = statements(boundary.name, boundary.document) if boundary is not None else None

    def _denied(self, action: str) -> Statement | None:
        everywhere = self.identity + (self.boundary or [])
        return next((s for s in everywhere if not s.allow and not s.conditional and s.acts_on(action) and s.on_all(action)), None)

    def decide(self, action: str) -> Decision:
        """Whether `action` is allowed on every resource of its kind."""
        if self._denied(action) is not None:
            return Decision(action)
        by = next((s for s in self.identity if s.allow and s.acts_on(action) and s.on_all(action)), None)
        if by is None:
            return Decision(action)
        if self.boundary is not None and not any(s.allow and s.acts_on(action) and s.on_all(action) for s in self.boundary):
            return Decision(action)
        return Decision(action, by=by)

    def _admin(self) -> tuple[tuple[Statement, ...], Statement | None]:
        granting = tuple(s for s in self.identity if s.allow and s.everything)
        if not granting:
            return (), None
        taking_back = [s for s in self.identity + (self.boundary or []) if not s.allow and not s.conditional and s.actions]
        if taking_back:
            return (), taking_back[0]
        if self.boundary is not None and not any(s.allow and s.everything for s in self.boundary):
            first = next((s for s in self.boundary if s.allow), None)
            return (), first
        return granting, None

    def verdict(self) -> Verdict:
        admin_by, held_back_by = self._admin()
        if admin_by:
            return Verdict(admin_by=admin_by)
        return Verdict(escalation=self.escalation(), held_back_by=held_back_by)

    def escalation(self) -> Escalation | None:
        for action in ESCALATIONS:
            decided = self.decide(action)
            if decided.by is not None:
                return Escalation((action,), (decided.by,))
        passing = self.decide(HAND_ROLE)
        if passing.by is not None:
            for action in COMPUTE_CREATE:
                decided = self.decide(action)
                if decided.by is not None:
                    return Escalation((HAND_ROLE, action), (passing.by, decided.by))
        return None


def evaluate(policies: Sequence[Policy], boundary: Policy | None = None) -> Verdict:
    """The two answers for a principal holding `policies` (within `boundary`, if any); see the module docstring."""
    return Evaluation(policies, boundary).verdict()


def is_aws_admin_policy(arn: str) -> bool:
    return AWS_ADMIN_POLICY.fullmatch(arn) is not None


def known_document(arn: str, documents: Mapping[str, Any]) -> Any:
    """A managed policy's document: read (`documents`, by ARN), or AWS's AdministratorAccess, known; None if neither."""
    if arn in documents:
        return documents[arn]
    return ADMINISTRATOR_ACCESS if is_aws_admin_policy(arn) else None

