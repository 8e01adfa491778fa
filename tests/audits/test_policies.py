"""audits.policies: IAM policies evaluated together, as AWS does, for "administrator" and "can become administrator",
each with the statement that decides it. The table is the reference: every row is a principal's policies (and
boundary), the answer, and what decides it."""

from __future__ import annotations

from typing import Any

import pytest

from audits.policies import ADMINISTRATOR_ACCESS, ESCALATIONS, Policy, evaluate


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# AWS's IAMFullAccess and PowerUserAccess, as AWS publishes them.
IAM_FULL_ACCESS = doc(allow(["iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
                             "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy",
                             "organizations:ListChildren", "organizations:ListParents",
                             "organizations:ListPoliciesForTarget", "organizations:ListRoots", "organizations:ListPolicies",
                             "organizations:ListTargetsForPolicy"]))  # fmt: skip
POWER_USER = doc(
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
    allow(["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization",
           "account:ListRegions", "account:GetAccountInformation"]),
)  # fmt: skip
READ_ONLY = doc(allow(["s3:Get*", "ec2:Describe*", "iam:Get*", "iam:List*"]))
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}

ADMIN, BECOME, NO = "admin", "can become", "no"

# (why, policies [(name, document)], boundary document or None, answer, what decides it)
TABLE: list[tuple[str, list[tuple[str, Any]], Any, str, str]] = [
    ("AdministratorAccess", [("AdministratorAccess", ADMINISTRATOR_ACCESS)], None, ADMIN, "AdministratorAccess statement 1"),
    ("*:* in a list of one", [("p", doc({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}))], None, ADMIN, "p statement 1"),
    ("a single statement, not a list", [("p", {"Statement": allow("*")})], None, ADMIN, "p statement 1"),
    ("URL-encoded JSON, as some endpoints return it",
     [("p", "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D")],
     None, ADMIN, "p statement 1"),
    ("a Sid names the statement", [("p", doc(allow("*", Sid="Everything")))], None, ADMIN, "p statement Everything"),
    ("an Allow with an MFA condition still makes an administrator",
     [("p", doc(allow("*", Condition=MFA)))], None, ADMIN, "p statement 1"),
    ("everything, on one bucket only", [("p", doc(allow("*", "arn:aws:s3:::b")))], None, NO, ""),
    ("a Deny of everything", [("p", doc(deny("*")))], None, NO, ""),
    ("a Deny of everything in a second policy", [("AdministratorAccess", ADMINISTRATOR_ACCESS), ("guard", doc(deny("*")))], None, NO, ""),
    ("AdministratorAccess and an inline Deny of iam:*",
     [("AdministratorAccess", ADMINISTRATOR_ACCESS), ("inline guard", doc(deny("iam:*")))], None, NO, ""),
    ("a Deny of s3:* elsewhere: no longer everything, and still free to remove it",
     [("AdministratorAccess", ADMINISTRATOR_ACCESS), ("inline guard", doc(deny("s3:*")))], None, BECOME,
     "iam:CreatePolicyVersion allowed by AdministratorAccess statement 1"),
    ("a conditional Deny may not apply", [("p", doc(allow("*"), deny("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})))],
     None, ADMIN, "p statement 1"),
    ("iam:* can grant itself the rest", [("p", doc(allow("iam:*")))], None, BECOME, "iam:CreatePolicyVersion allowed by p statement 1"),
    ("IAMFullAccess", [("IAMFullAccess", IAM_FULL_ACCESS)], None, BECOME, "iam:CreatePolicyVersion allowed by IAMFullAccess statement 1"),
    ("PowerUserAccess keeps IAM out", [("PowerUserAccess", POWER_USER)], None, NO, ""),
    ("NotAction leaving iam:Put* in", [("p", doc({"Effect": "Allow", "NotAction": ["iam:Attach*", "iam:Detach*"], "Resource": "*"}))],
     None, BECOME, "iam:CreatePolicyVersion allowed by p statement 1"),
    ("NotAction of one S3 call: everything else", [("p", doc({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "*"}))],
     None, BECOME, "iam:CreatePolicyVersion allowed by p statement 1"),
    ("only iam:PutUserPolicy", [("inline put", doc(allow("iam:PutUserPolicy")))], None, BECOME, "iam:PutUserPolicy allowed by inline put statement 1"),
    ("actions are case-insensitive", [("p", doc(allow("IAM:putuserpolicy")))], None, BECOME, "iam:PutUserPolicy allowed by p statement 1"),
    ("wildcards inside an action", [("p", doc(allow("iam:Put*Policy")))], None, BECOME, "iam:PutUserPolicy allowed by p statement 1"),
    ("? matches one character", [("p", doc(allow("iam:AddUserToGrou?")))], None, BECOME, "iam:AddUserToGroup allowed by p statement 1"),
    ("a bracket is a literal, not a character class", [("p", doc(allow("iam:[A]ddUserToGroup")))], None, NO, ""),
    ("read-only IAM", [("ReadOnly", READ_ONLY)], None, NO, ""),
    ("CreateAccessKey on every user", [("p", doc(allow("iam:CreateAccessKey", "arn:aws:iam::*:user/*")))], None, BECOME,
     "iam:CreateAccessKey allowed by p statement 1"),
    ("CreateAccessKey on its own user only is not broad", [("p", doc(allow("iam:CreateAccessKey", "arn:aws:iam::*:user/${aws:username}")))],
     None, NO, ""),
    ("an IAM action on an S3 ARN grants nothing", [("p", doc(allow("iam:PutUserPolicy", "arn:aws:s3:::*")))], None, NO, ""),
    ("NotResource on an Allow reaches every other resource",
     [("p", doc({"Effect": "Allow", "Action": "iam:AttachUserPolicy", "NotResource": "arn:aws:iam::*:user/root-breakglass"}))],
     None, BECOME, "iam:AttachUserPolicy allowed by p statement 1"),
    ("a Deny with NotResource spares what it lists",
     [("p", doc(allow("iam:PutUserPolicy"), {"Effect": "Deny", "Action": "iam:*", "NotResource": "arn:aws:iam::*:user/dev-*"}))],
     None, BECOME, "iam:PutUserPolicy allowed by p statement 1"),
    ("a Deny of the one escalation allowed", [("a", doc(allow("iam:PutUserPolicy"))), ("b", doc(deny("iam:PutUserPolicy")))], None, NO, ""),
    ("the first escalation denied, a later one allowed",
     [("a", doc(allow(["iam:CreatePolicyVersion", "iam:CreateLoginProfile"]))), ("b", doc(deny("iam:CreatePolicyVersion")))],
     None, BECOME, "iam:CreateLoginProfile allowed by a statement 1"),
    ("UpdateAssumeRolePolicy", [("p", doc(allow("iam:UpdateAssumeRolePolicy", "arn:aws:iam::*:role/*")))], None, BECOME,
     "iam:UpdateAssumeRolePolicy allowed by p statement 1"),
    ("PassRole with RunInstances, in two policies", [("pass", doc(allow("iam:PassRole"))), ("ec2", doc(allow("ec2:*")))], None, BECOME,
     "iam:PassRole with ec2:RunInstances allowed by pass statement 1 and ec2 statement 1"),
    ("PassRole with Lambda", [("p", doc(allow(["iam:PassRole", "lambda:CreateFunction"])))], None, BECOME,
     "iam:PassRole with lambda:CreateFunction allowed by p statement 1"),
    ("PassRole alone hands a role to nothing", [("p", doc(allow("iam:PassRole")))], None, NO, ""),
    ("compute alone has no role to pass", [("p", doc(allow(["ec2:RunInstances", "lambda:*"])))], None, NO, ""),
    ("AdministratorAccess inside a read-only boundary", [("AdministratorAccess", ADMINISTRATOR_ACCESS)], READ_ONLY, NO, ""),
    ("AdministratorAccess inside an IAM boundary", [("AdministratorAccess", ADMINISTRATOR_ACCESS)], IAM_FULL_ACCESS, BECOME,
     "iam:CreatePolicyVersion allowed by AdministratorAccess statement 1"),
    ("AdministratorAccess inside an AdministratorAccess boundary", [("AdministratorAccess", ADMINISTRATOR_ACCESS)], ADMINISTRATOR_ACCESS,
     ADMIN, "AdministratorAccess statement 1"),
    ("a boundary grants nothing by itself", [("ReadOnly", READ_ONLY)], ADMINISTRATOR_ACCESS, NO, ""),
    ("a Deny in the boundary denies", [("p", doc(allow("iam:PutUserPolicy")))], doc(allow("*"), deny("iam:Put*")), NO, ""),
    ("an empty boundary lets nothing through", [("AdministratorAccess", ADMINISTRATOR_ACCESS)], doc(), NO, ""),
    ("a group's policy counts like the user's own", [("inline all via group ops", doc(allow("*")))], None, ADMIN,
     "inline all via group ops statement 1"),
    ("not a policy at all", [("p", "{not json"), ("q", doc({"Effect": "Maybe", "Action": "*", "Resource": "*"}))], None, NO, ""),
    ("no policies", [], None, NO, ""),
]  # fmt: skip


def test_the_table_covers_at_least_thirty_documents() -> None:
    assert len(TABLE) >= 30


@pytest.mark.parametrize(("why", "policies", "boundary", "answer", "decided_by"), TABLE, ids=[row[0] for row in TABLE])
def test_each_principal_gets_its_answer_and_the_statement_that_decides_it(
    why: str, policies: list[tuple[str, Any]], boundary: Any, answer: str, decided_by: str
) -> None:
    verdict = evaluate([Policy(n, d) for n, d in policies], Policy("boundary", boundary) if boundary is not None else None)
    got = ADMIN if verdict.admin else BECOME if verdict.can_become_admin else NO
    assert got == answer, verdict.describe()
    if answer == ADMIN:
        assert ", ".join(str(s) for s in verdict.admin_by) == decided_by
        assert verdict.describe() == f"administrator: everything allowed by {decided_by}"
    elif answer == BECOME:
        assert str(verdict.escalation) == decided_by
        assert verdict.describe().startswith(f"can become administrator: {decided_by}")
    else:
        assert verdict.describe() == "not administrator"


@pytest.mark.parametrize("action", ESCALATIONS)
def test_every_escalation_action_alone_is_one_step_from_administrator(action: str) -> None:
    verdict = evaluate([Policy("p", doc(allow(action)))])
    assert verdict.can_become_admin and verdict.escalation is not None and verdict.escalation.actions == (action,)
    assert not evaluate([Policy("p", doc(allow(action))), Policy("q", doc(deny(action)))]).can_become_admin


def test_a_statement_held_back_is_named() -> None:
    verdict = evaluate([Policy("AdministratorAccess", ADMINISTRATOR_ACCESS), Policy("inline guard", doc(deny("s3:*")))])
    assert verdict.held_back_by is not None and str(verdict.held_back_by) == "inline guard statement 1"
    assert "(inline guard statement 1 keeps it from everything)" in verdict.describe()



@pytest.mark.parametrize(
    ("arn", "admin"),
    [
        ("arn:aws:iam::aws:policy/AdministratorAccess", True),
        ("arn:aws-us-gov:iam::aws:policy/AdministratorAccess", True),
        ("arn:aws:iam::aws:policy/AdministratorAccess-Amplify", False),
        ("arn:aws:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk", False),
        ("arn:aws:iam::aws:policy/job-function/AdministratorAccessReadOnly", False),
        ("arn:aws:iam::111122223333:policy/AdministratorAccess", False),  # a customer's policy of that name: read it
    ],
)
def test_only_aws_own_administrator_access_is_known_as_administrator_without_its_document(arn: str, admin: bool) -> None:
    """Issue 30 point 7: AWS-managed policies whose names start with AdministratorAccess (Amplify's, Beanstalk's)
    grant a service's administration, not the account's: unknown until their document is read."""
    from audits.policies import is_aws_admin_policy, known_document

    assert is_aws_admin_policy(arn) is admin
    assert (known_document(arn, {}) is ADMINISTRATOR_ACCESS) is admin
