"""Identity Center's access model and checks, as pure functions: paths, admin from policies, people, the five checks."""

from __future__ import annotations

import json

import pytest

from identitycenter.access import (
    Assignment,
    Boundary,
    Directory,
    PermissionSet,
    PolicyRef,
    SsoGroup,
    SsoUser,
    owners_by_key,
    person_of,
)
from identitycenter.checks import evaluate_identity_center
from people.matching import PersonFacts, people_index

EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}]}
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PROD, DEV = "210987654321", "410987654321"


IAM_ALL = {"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
DEPLOY, GUARD = PolicyRef("Deploy", "/ci/"), PolicyRef("Guard")


def pset(
    name: str,
    *,
    managed: tuple[str, ...] = (),
    inline: object = None,
    customer: tuple[PolicyRef, ...] = (),
    boundary: Boundary | None = None,
) -> PermissionSet:
    return PermissionSet(f"arn:aws:sso:::permissionSet/ssoins-1/ps-{name.lower()}", name, managed, inline, customer, boundary)


def answer(permission_set: PermissionSet, documents: dict[PolicyRef, object], managed: dict[str, object] | None = None) -> str:
    verdict = permission_set.verdict_in(documents, managed)
    return "admin" if verdict.admin else "can become" if verdict.can_become_admin else "no"


IAM_FULL = {"Statement": [{"Effect": "Allow", "Action": ["iam:*", "organizations:DescribeAccount"], "Resource": "*"}]}
IAM_FULL_ARN = "arn:aws:iam::aws:policy/IAMFullAccess"


@pytest.mark.parametrize(
    ("permission_set", "documents", "expected"),
    [
        (pset("AdministratorAccess", managed=(ADMIN_ARN,)), {}, "admin"),
        (pset("Admin", managed=(READ_ONLY_ARN,), inline=json.dumps(READ_ONLY)), {}, "no"),  # named admin, grants read-only
        (pset("ReadOnly", inline=EVERYTHING), {}, "admin"),  # named read-only, grants *:*
        # A customer-managed policy grants what the account's own copy says; one the account lacks grants nothing.
        (pset("Deployer", customer=(DEPLOY,)), {DEPLOY: EVERYTHING}, "admin"),
        (pset("Deployer", customer=(DEPLOY,)), {DEPLOY: IAM_ALL}, "can become"),  # all of IAM: one step away
        (pset("Deployer", customer=(DEPLOY,)), {DEPLOY: READ_ONLY}, "no"),
        (pset("Deployer", customer=(DEPLOY,)), {}, "no"),
        # A boundary lets administrator rights through only if it grants them too.
        (pset("Admins", managed=(ADMIN_ARN,), boundary=Boundary(managed_arn=READ_ONLY_ARN)), {}, "no"),
        (pset("Admins", managed=(ADMIN_ARN,), boundary=Boundary(managed_arn=ADMIN_ARN)), {}, "admin"),
        (pset("Admins", inline=EVERYTHING, boundary=Boundary(customer=GUARD)), {GUARD: READ_ONLY}, "no"),
        (pset("Admins", inline=EVERYTHING, boundary=Boundary(customer=GUARD)), {GUARD: EVERYTHING}, "admin"),
        (pset("Admins", inline=EVERYTHING, boundary=Boundary(customer=GUARD)), {GUARD: IAM_ALL}, "can become"),
        (pset("Admins", inline=EVERYTHING, boundary=Boundary(customer=GUARD)), {}, "no"),  # the boundary is missing there
        (pset("Viewer", inline=READ_ONLY, boundary=Boundary(managed_arn=ADMIN_ARN)), {}, "no"),  # a boundary grants nothing
        (pset("Empty"), {}, "no"),
        # An AWS managed policy is judged by its document, like any other (IAMFullAccess is one step away).
        (pset("IamAdmins", managed=(IAM_FULL_ARN,)), {}, "no"),  # its document unread: it grants nothing
        # AdministratorAccess with an inline Deny of IAM: every policy of the set is evaluated together.
        (pset("Guarded", managed=(ADMIN_ARN,), inline={"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}), {}, "no"),
    ],
)  # fmt: skip
def test_a_permission_set_is_admin_by_its_policies_and_boundary_never_its_name(
    permission_set: PermissionSet, documents: dict[PolicyRef, object], expected: str
) -> None:
    assert answer(permission_set, documents) == expected


def test_an_aws_managed_policy_of_a_set_is_judged_by_its_document() -> None:
    iam_full = pset("IamAdmins", managed=(IAM_FULL_ARN,))
    assert answer(iam_full, {}, {IAM_FULL_ARN: IAM_FULL}) == "can become"
    verdict = iam_full.verdict_in({}, {IAM_FULL_ARN: IAM_FULL})
    assert verdict.escalation is not None and str(verdict.escalation) == "iam:CreatePolicyVersion allowed by IAMFullAccess statement 1"
    power = {"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}]}
    assert answer(pset("Power", managed=("arn:aws:iam::aws:policy/PowerUserAccess",)), {}, {"arn:aws:iam::aws:policy/PowerUserAccess": power}) == "no"
    assert answer(pset("Admins", managed=(ADMIN_ARN,), boundary=Boundary(managed_arn=IAM_FULL_ARN)), {}, {IAM_FULL_ARN: IAM_FULL}) == "can become"


def test_the_same_permission_set_is_admin_in_the_account_whose_customer_policy_grants_it() -> None:
    deployer = pset("Deployer", customer=(DEPLOY,))
    d = Directory(
        users=(SsoUser("u-1", "alice"),), permission_sets=(deployer,),
        assignments=(Assignment(PROD, deployer.arn, "USER", "u-1"), Assignment(DEV, deployer.arn, "USER", "u-1")),
        documents={PROD: {DEPLOY: READ_ONLY}, DEV: {DEPLOY: EVERYTHING}},
    )  # fmt: skip
    assert [(p.account_id, p.admin) for p in d.paths()] == [(PROD, False), (DEV, True)]
    assert str(DEPLOY) == "/ci/Deploy" and DEPLOY.arn(DEV) == f"arn:aws:iam::{DEV}:policy/ci/Deploy"


ALICE = SsoUser("u-1", "alice", "alice@example.com", "1001")
BOB = SsoUser("u-2", "bob", "bob@example.com")
CAROL = SsoUser("u-3", "CSmith")
ADMINS = SsoGroup("g-1", "Admins", frozenset({"u-1", "u-2", "u-gone"}))
EMPTY = SsoGroup("g-2", "Auditors")
ADMIN, READ = pset("AdministratorAccess", managed=(ADMIN_ARN,)), pset("ReadOnly", managed=(READ_ONLY_ARN,))


def directory(*assignments: Assignment, users: tuple[SsoUser, ...] = (ALICE, BOB, CAROL)) -> Directory:
    return Directory(users=users, groups=(ADMINS, EMPTY), permission_sets=(ADMIN, READ), assignments=assignments)


def test_paths_go_directly_or_through_a_group_to_each_account() -> None:
    d = directory(
        Assignment(PROD, ADMIN.arn, "GROUP", "g-1"), Assignment(PROD, READ.arn, "USER", "u-3"),
        Assignment(DEV, "arn:aws:sso:::permissionSet/ssoins-1/ps-deleted", "USER", "u-3"),
    )  # fmt: skip
    assert [p.describe() for p in d.paths()] == [
        f"CSmith directly with ReadOnly to {PROD}",
        f"alice through group Admins with AdministratorAccess to {PROD}",
        f"bob through group Admins with AdministratorAccess to {PROD}",
    ]  # the member u-gone is no user any more, the deleted permission set opens nothing


PEOPLE = [
    PersonFacts(1, "1001", "Alice", "Jones", "alice.jones@example.com", True),
    PersonFacts(2, "1002", "Bob", "Brown", "bob@example.com", False),
    PersonFacts(3, "1003", "Carol", "Smith", "carol@example.com", True),
]


def resolver():  # type: ignore[no-untyped-def]
    by_employee_id, by_email = owners_by_key((p.employee_id, p.email, p.owner("by directory")) for p in PEOPLE)
    index = people_index(PEOPLE, preset="initial_lastname")
    return lambda user: person_of(user, by_employee_id=by_employee_id, by_email=by_email, index=index)


def test_a_user_maps_by_employee_id_then_e_mail_then_name_under_the_naming_rules() -> None:
    resolve = resolver()
    assert [o.employee_id for o in resolve(ALICE)] == ["1001"]  # employeeNumber, though the e-mail differs
    assert [o.employee_id for o in resolve(BOB)] == ["1002"]  # by e-mail
    assert [o.employee_id for o in resolve(CAROL)] == ["1003"]  # CSmith under initial_lastname
    assert resolve(SsoUser("u-9", "contractor", "c@elsewhere.example")) == ()


@pytest.mark.parametrize(
    ("directory_email", "sso_email"), [("bob@example.com", "Bob@Example.COM"), ("Bob.Brown@Example.com", "bob.brown@example.com")]
)
def test_an_e_mail_reaches_its_person_whatever_its_case(directory_email: str, sso_email: str) -> None:
    """Issue 30 point 8: e-mail addresses are matched without regard to case (the HR export and Identity Center
    rarely agree on it), so that a leaver reached by e-mail alone is still found."""
    people = [PersonFacts(2, "1002", "Bob", "Brown", directory_email, False)]
    by_employee_id, by_email = owners_by_key((p.employee_id, p.email, p.owner("by directory")) for p in people)
    user = SsoUser("u-2", "bobby-contractor", sso_email)  # no employee number, a name no naming rule reads
    assert [o.employee_id for o in person_of(user, by_employee_id=by_employee_id, by_email=by_email, index=None)] == ["1002"]


def checks(d: Directory, *, production: set[str] = {PROD}, max_admins: int = 5) -> list[tuple[str, str, str, str]]:  # noqa: B006
    return [
        (a, r.check_id, r.principal, r.subject)
        for a, r in evaluate_identity_center(d, resolve=resolver(), production=production, max_admins_prod=max_admins)
    ]


def test_a_departed_person_and_a_user_of_nobody_are_flagged_in_each_account_they_reach() -> None:
    stranger = SsoUser("u-9", "contractor")
    d = directory(
        Assignment(PROD, READ.arn, "GROUP", "g-1"), Assignment(DEV, READ.arn, "USER", "u-9"), users=(ALICE, BOB, CAROL, stranger)
    )
    assert checks(d) == [
        (PROD, "sso.user_departed", "sso-user:bob", ""),  # Bob Brown has left
        (DEV, "sso.user_no_person", "sso-user:contractor", ""),
    ]


def test_an_admin_permission_set_assigned_to_a_user_directly_not_through_a_group() -> None:
    d = directory(
        Assignment(DEV, ADMIN.arn, "USER", "u-1"),
        Assignment(DEV, READ.arn, "USER", "u-3"),
        Assignment(DEV, ADMIN.arn, "GROUP", "g-1"),
    )
    flagged = [c for c in checks(d) if c[1] == "sso.admin_direct_assignment"]
    assert flagged == [(DEV, "sso.admin_direct_assignment", "sso-user:alice", "AdministratorAccess")]


@pytest.mark.parametrize(("max_admins", "flagged"), [(2, False), (1, True)])
def test_more_people_than_the_maximum_with_admin_on_a_production_account(max_admins: int, flagged: bool) -> None:
    # alice reaches prod as admin twice (directly and through Admins): one person; bob is the second.
    d = directory(
        Assignment(PROD, ADMIN.arn, "GROUP", "g-1"),
        Assignment(PROD, ADMIN.arn, "USER", "u-1"),
        Assignment(DEV, ADMIN.arn, "GROUP", "g-1"),
    )
    prod = [c for c in checks(d, max_admins=max_admins) if c[1] == "sso.admin_in_production"]
    assert prod == ([(PROD, "sso.admin_in_production", "", "")] if flagged else [])  # never the dev account


def test_an_assigned_group_without_members_but_not_an_unassigned_one() -> None:
    d = directory(Assignment(DEV, READ.arn, "GROUP", "g-2"))
    assert checks(d) == [(DEV, "sso.group_empty_assignment", "sso-group:Auditors", "")]
    assert checks(directory()) == []


@pytest.mark.django_db
def test_an_open_path_follows_its_sets_policies_and_names_and_keeps_the_change(sandbox) -> None:  # type: ignore[no-untyped-def]
    """Issue 27, point 5: a set narrowed to read-only (or renamed) after a path opened: the path says so from that run."""
    from datetime import UTC, datetime, timedelta

    from audits.models import AuditRun, RunSource, RunStatus
    from identitycenter.models import AccessPath
    from identitycenter.services import identity_center_ingest

    t = datetime(2026, 11, 1, tzinfo=UTC)

    def read(d: Directory, at: datetime) -> AuditRun:
        run = AuditRun.objects.create(account=sandbox, source=RunSource.IDENTITY_CENTER, status=RunStatus.RUNNING, requested_at=at, generated_at=at)
        return identity_center_ingest(run=run, directory=d)

    assignment = Assignment(sandbox.account_id, ADMIN.arn, "USER", ALICE.user_id)
    first = read(Directory(users=(ALICE,), groups=(), permission_sets=(ADMIN,), assignments=(assignment,)), t)
    path = AccessPath.objects.get()
    assert path.admin and path.admin_since_run == first and path.changes == []
    narrowed = PermissionSet(ADMIN.arn, "Admins-ReadOnly", (READ_ONLY_ARN,))  # the same set, its policy narrowed
    second = read(Directory(users=(ALICE,), groups=(), permission_sets=(narrowed,), assignments=(assignment,)), t + timedelta(days=1))
    path.refresh_from_db()
    assert (path.pk, path.admin, path.permission_set_name, path.admin_since_run) == (path.pk, False, "Admins-ReadOnly", second)
    assert {(c["run"], c["field"], c["before"], c["after"]) for c in path.changes} == {
        (second.pk, "admin", True, False), (second.pk, "permission_set_name", ADMIN.name, "Admins-ReadOnly"),
    }  # fmt: skip
    assert AccessPath.objects.count() == 1  # the same path, still open: not closed and opened again


def test_a_user_whose_name_fits_two_people_is_flagged_naming_both() -> None:
    """Issue 27, point 4: sso.user_no_person fired only for nobody; the IAM check flags "or to two"."""
    john, jane = PersonFacts(7, "2001", "John", "Smith", "", True), PersonFacts(8, "2002", "Jane", "Smith", "", True)
    smith = SsoUser("u-7", "JSmith")
    d = Directory(users=(smith,), groups=(), permission_sets=(READ,), assignments=(Assignment(PROD, READ.arn, "USER", "u-7"),))
    results = evaluate_identity_center(
        d, resolve=lambda user: (john.owner("name"), jane.owner("name")), production=set(), max_admins_prod=5
    )
    (finding,) = [r for _, r in results if r.check_id == "sso.user_no_person"]
    assert "maps to 2 people" in finding.detail and "John Smith" in finding.detail and "Jane Smith" in finding.detail


@pytest.mark.django_db
def test_an_identity_center_user_linked_by_hand_maps_to_that_person(sandbox) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from accounts.models import NamingStandard
    from audits.models import AuditRun, Finding, RunSource, RunStatus
    from identitycenter.models import AccessPath, SsoOwnerLink
    from identitycenter.services import identity_center_ingest
    from people.models import Person

    NamingStandard.objects.create(name="default", preset="initial_lastname", is_default=True)
    john = Person.objects.create(employee_id="2001", first_name="John", last_name="Smith", email="john@example.com")
    Person.objects.create(employee_id="2002", first_name="Jane", last_name="Smith", email="jane@example.com")
    smith = SsoUser("u-7", "JSmith")
    d = Directory(users=(smith,), groups=(), permission_sets=(READ,), assignments=(Assignment(sandbox.account_id, READ.arn, "USER", "u-7"),))
    t = datetime(2026, 11, 1, tzinfo=UTC)

    def read(at: datetime) -> None:
        run = AuditRun.objects.create(account=sandbox, source=RunSource.IDENTITY_CENTER, status=RunStatus.RUNNING, requested_at=at, generated_at=at)
        identity_center_ingest(run=run, directory=d)

    read(t)
    finding = Finding.objects.get(check_id="sso.user_no_person")
    assert finding.status == "open" and "maps to 2 people" in finding.detail and AccessPath.objects.get().person is None
    SsoOwnerLink.objects.create(user_name="jsmith", person=john, reason="John's login, confirmed with him", linked_by="admin")
    read(t + timedelta(days=1))
    finding.refresh_from_db()
    assert finding.status == "resolved" and AccessPath.objects.get().person == john
