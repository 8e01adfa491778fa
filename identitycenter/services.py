"""An Identity Center run: read the organisation's instance, store the access paths as history and the sso.*
findings of every registered account, all or nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.aws import AWS_ERRORS, AwsAccessError, account_session, describe_error, iam_client, is_transient
from accounts.environments import is_production
from accounts.models import AwsAccount
from accounts.selectors import default_standard
from audits.alerts import alerts_for_run
from audits.checks import IDENTITY_CENTER_CHECKS
from audits.fetch import read_managed_policy
from audits.models import AuditRun, RunSource, RunStatus
from audits.runs import RunBusy, run_execute, run_request
from audits.services import state_findings_record
from identitycenter.access import Directory, Path, PolicyRef, SsoUser, owners_by_key, person_of
from identitycenter.checks import evaluate_identity_center
from identitycenter.fetch import instances, read_directory
from identitycenter.models import AccessPath, SsoOwnerLink
from people.matching import Owner, PeopleIndex, PersonFacts, people_index
from people.selectors import directory_people

CHECK_IDS = frozenset(c.id for c in IDENTITY_CENTER_CHECKS)


class IdentityCenterError(AwsAccessError):
    """Identity Center is not configured, or not where it is said to be: one line, and the run (if any) fails."""


@dataclass(frozen=True, slots=True)
class Changes:
    added: int
    removed: int


def _key(account_pk: int, p: Path) -> tuple[int, str, str, str]:
    return (account_pk, p.user.user_id, p.permission_set.arn, p.group.group_id if p.group else "")


def record_paths(
    *, run: AuditRun, directory: Directory, accounts: dict[str, AwsAccount], at: datetime, persons: dict[str, int | None]
) -> Changes:
    """Open the paths that are new, close those Identity Center no longer grants, and bring the open ones up to what
    this run read (administrator or not, the user's, set's and group's names; each change kept on the path, an
    administrator flag that changed dated from this run); inside the run's transaction. `persons`: the person each
    Identity Center user maps to now (by user id), kept on every open path."""
    current = {_key(accounts[p.account_id].pk, p): p for p in directory.paths() if p.account_id in accounts}
    open_paths: dict[tuple[int, str, str, str], int] = {}
    remapped: dict[int | None, list[int]] = defaultdict(list)  # person: the open paths that map to them from now on
    stale: dict[int, dict[str, object]] = {}  # open paths whose flag or names this run reads otherwise: what changed
    for pk, account_pk, user_id, arn, group_id, mapped, *said in AccessPath.objects.filter(valid_to__isnull=True).values_list(
        "pk", "account_id", "user_id", "permission_set_arn", "group_id", "person_id", *REFRESHED
    ):
        key = (account_pk, user_id, arn, group_id)
        open_paths[key] = pk
        if persons.get(user_id) != mapped:
            remapped[persons.get(user_id)].append(pk)
        if key in current:
            now = _refreshed(current[key])
            different = {f: now[f] for f, before in zip(REFRESHED, said, strict=True) if now[f] != before}
            if different:
                stale[pk] = different
    gone = [pk for key, pk in open_paths.items() if key not in current]
    AccessPath.objects.filter(pk__in=gone).update(valid_to=at)
    _refresh(run=run, at=at, stale=stale)
    AccessPath.objects.filter(valid_to__isnull=True).update(last_run=run)
    for target, pks in remapped.items():  # the directory changed (a person imported, a name fixed): few, if any
        AccessPath.objects.filter(pk__in=pks, valid_to__isnull=True).update(person_id=target)
    new = [
        AccessPath(
            account_id=key[0], user_id=p.user.user_id, user_name=p.user.user_name, email=p.user.email,
            employee_number=p.user.employee_number, permission_set_arn=p.permission_set.arn,
            permission_set_name=p.permission_set.name, admin=p.admin,
            group_id=p.group.group_id if p.group else "", group_name=p.group.name if p.group else "",
            person_id=persons.get(p.user.user_id), valid_from=at, first_run=run, last_run=run, admin_since_run=run,
        )
        for key, p in current.items()
        if key not in open_paths
    ]  # fmt: skip
    AccessPath.objects.bulk_create(new, batch_size=1000)
    return Changes(added=len(new), removed=len(gone))


REFRESHED = ("admin", "user_name", "permission_set_name", "group_name")


def _refreshed(p: Path) -> dict[str, object]:
    return dict(zip(REFRESHED, (p.admin, p.user.user_name, p.permission_set.name, p.group.name if p.group else ""), strict=True))


def _refresh(*, run: AuditRun, at: datetime, stale: dict[int, dict[str, object]]) -> None:
    """Bring open paths up to what this run read, each change appended to the path's `changes`; a changed
    administrator flag dates from this run. Few, if any: a set's policy or boundary changed, something was renamed."""
    changed = []
    for path in AccessPath.objects.filter(pk__in=stale).only("pk", "changes", "admin_since_run", *REFRESHED):
        different = stale[path.pk]
        path.changes = [
            *path.changes,
            *({"run": run.pk, "at": at.isoformat(), "field": f, "before": getattr(path, f), "after": v} for f, v in different.items()),
        ]
        if "admin" in different:
            path.admin_since_run = run
        for f, v in different.items():
            setattr(path, f, v)
        changed.append(path)
    AccessPath.objects.bulk_update(changed, [*REFRESHED, "changes", "admin_since_run"], batch_size=500)


def _resolver(people: list[PersonFacts], index: PeopleIndex | None):  # type: ignore[no-untyped-def]
    """Who an Identity Center user belongs to: a link made by hand first (SsoOwnerLink), else person_of."""
    by_employee_id, by_email = owners_by_key((p.employee_id, p.email, p.owner("by the directory")) for p in people)
    facts = {p.person_id: p for p in people}
    linked = {
        name.casefold(): facts[person_id].owner("linked by hand")
        for name, person_id in SsoOwnerLink.objects.values_list("user_name", "person_id")
        if person_id in facts
    }

    def resolve(user: SsoUser) -> tuple[Owner, ...]:
        owner = linked.get(user.user_name.casefold())
        if owner is not None:
            return (owner,)
        return person_of(user, by_employee_id=by_employee_id, by_email=by_email, index=index)

    return resolve


def identity_center_ingest(*, run: AuditRun, directory: Directory, notes: list[str] | None = None) -> AuditRun:
    """Store one read of Identity Center for every registered account; call inside a transaction."""
    at = run.generated_at
    if at is None:
        raise ValueError(f"run {run.pk} has no time")
    registered = list(AwsAccount.objects.all())
    accounts = {a.account_id: a for a in registered}
    standard = default_standard()
    people = directory_people()
    index = (
        people_index(people, preset=standard.preset, company_initials=settings.IAMWATCH_COMPANY_INITIALS)
        if standard and people
        else None
    )
    resolve = _resolver(people, index)
    owners = {u.user_id: resolve(u) for u in directory.users}
    persons = {user_id: found[0].person_id if len(found) == 1 else None for user_id, found in owners.items()}
    changes = record_paths(run=run, directory=directory, accounts=accounts, at=at, persons=persons)
    results = evaluate_identity_center(
        directory,
        resolve=lambda user: owners[user.user_id],
        production={a.account_id for a in registered if is_production(a.environment)},
        max_admins_prod=settings.IAMWATCH_SSO_MAX_ADMINS_PROD,
    )
    counts = state_findings_record(
        run=run, results=[(accounts[a], r) for a, r in results if a in accounts], accounts=registered, checks=CHECK_IDS
    )
    run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
    run.principal_count = len(directory.users)
    run.open_finding_count, run.new_finding_count, run.resolved_finding_count = counts.open, counts.new, counts.resolved
    run.warnings = [
        f"Identity Center: {len(directory.users)} users, {len(directory.groups)} groups, {len(directory.permission_sets)} "
        f"permission sets, {len(directory.assignments)} assignments; access paths: {changes.added} added, {changes.removed} removed",
        *(notes or []),
    ]
    run.save()
    return run


IDENTITY_STORE_CALLS = frozenset({"ListUsers", "ListGroups", "ListGroupMemberships"})


def _action(exc: Exception, region: str) -> str:
    """The IAM action of the failed call, as the role's policy names it (sso:..., identitystore:...)."""
    operation = getattr(exc, "operation_name", "")
    if not operation:
        return f"Identity Center in {region}"
    return f"{'identitystore' if operation in IDENTITY_STORE_CALLS else 'sso'}:{operation}"


class AccountPolicies:
    """The customer-managed policies of each registered account, read there through its audit role (iam:GetPolicy,
    iam:GetPolicyVersion); a policy the account does not hold is noted and grants nothing."""

    def __init__(self, accounts: dict[str, AwsAccount], partition: str, holder: AwsAccount | None = None) -> None:
        self.accounts, self.partition, self.holder = accounts, partition, holder
        self.clients: dict[str, Any] = {}  # by role (accounts without one share the default credentials)
        self.missing: dict[PolicyRef, list[str]] = defaultdict(list)  # policy: the accounts that lack it
        self.unknown: list[str] = []  # AWS managed policies the holder's IAM does not know

    def _client(self, account: AwsAccount) -> Any:
        if account.role_arn not in self.clients:
            self.clients[account.role_arn] = iam_client(account_session(account))
        return self.clients[account.role_arn]

    def managed(self, arn: str) -> Any:
        """An AWS managed policy's document, the same in every account: read once, in the account holding Identity
        Center (iam:GetPolicy, iam:GetPolicyVersion)."""
        if self.holder is None:
            return None
        try:
            found = read_managed_policy(self._client(self.holder), arn)
        except ClientError as exc:
            raise AwsAccessError(describe_error(exc, call=f"iam:{exc.operation_name} {arn}"), transient=is_transient(exc)) from exc
        except AWS_ERRORS as exc:
            raise AwsAccessError(describe_error(exc, call=f"iam:GetPolicy {arn}"), transient=is_transient(exc)) from exc
        if found is None:
            self.unknown.append(arn)
        return found

    def __call__(self, account_id: str, ref: PolicyRef) -> Any:
        iam, arn = self._client(self.accounts[account_id]), ref.arn(account_id, self.partition)
        try:
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            return iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                self.missing[ref].append(account_id)
                return None
            raise AwsAccessError(describe_error(exc, call=f"iam:{exc.operation_name} {arn}"), transient=is_transient(exc)) from exc
        except AWS_ERRORS as exc:
            raise AwsAccessError(describe_error(exc, call=f"iam:GetPolicy {arn}"), transient=is_transient(exc)) from exc

    def notes(self) -> list[str]:
        """One line per policy some accounts lack, naming the first five of them."""
        said = []
        for ref, accounts in sorted(self.missing.items(), key=lambda item: str(item[0])):
            more = f" and {len(accounts) - 5} more" if len(accounts) > 5 else ""
            said.append(f"customer-managed policy {ref} not found in {len(accounts)} account(s) ({', '.join(accounts[:5])}{more}): it grants nothing there")
        said += [f"AWS managed policy {arn} not found: it grants nothing" for arn in sorted(self.unknown)]
        return said


def identity_center_request(*, requested_by: str) -> AuditRun:
    """A pending Identity Center run (on the account that holds it), or the one already pending or running."""
    holder = AwsAccount.objects.filter(account_id=settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT).first()
    if holder is None:
        raise IdentityCenterError(
            "Identity Center is not configured: set IAMWATCH_IDENTITY_CENTER_ACCOUNT to the registered account that holds it"
        )
    return run_request(account=holder, requested_by=requested_by, source=RunSource.IDENTITY_CENTER)


def identity_center_work(run: AuditRun) -> None:
    """The work of an Identity Center run (audits.runs.run_execute calls it): read the instance in
    IAMWATCH_IDENTITY_CENTER_REGION, then store everything in one transaction. AWS's faults are AwsAccessError,
    transient or not, naming the call; nothing is stored unless all of it was read."""
    region = settings.IAMWATCH_IDENTITY_CENTER_REGION
    registered = {a.account_id: a for a in AwsAccount.objects.all()}
    try:
        access = account_session(run.account)
        sso, store = access.client("sso-admin", region), access.client("identitystore", region)
        found = instances(sso)
        if not found:
            raise IdentityCenterError(f"no Identity Center instance in account {run.account.account_id}, region {region}")
        instance = found[0]
        policies = AccountPolicies(registered, partition=instance.instance_arn.split(":")[1], holder=run.account)
        directory = read_directory(sso, store, instance, sorted(registered), policies, policies.managed)
    except AWS_ERRORS as exc:
        raise AwsAccessError(
            f"{describe_error(exc, call=_action(exc, region))}; nothing stored", transient=is_transient(exc)
        ) from exc
    except AwsAccessError as exc:
        raise type(exc)(f"{exc}; nothing stored", transient=exc.transient) from exc
    with transaction.atomic():
        run.generated_at = timezone.now()
        identity_center_ingest(
            run=run,
            directory=directory,
            notes=policies.notes(),
        )
        transaction.on_commit(lambda: alerts_for_run(run_id=run.pk))


def identity_center_run(*, requested_by: str) -> AuditRun:
    """Read Identity Center now, in this process: one run, stored whole or failed with the call that failed."""
    requested = identity_center_request(requested_by=requested_by)
    try:
        run = run_execute(run_id=requested.pk)
    except RunBusy as exc:
        raise IdentityCenterError(f"Identity Center run {requested.pk} is under way in a worker; its result will be on the Identity Center page") from exc
    if run is None:  # finished between the request and the claim, by a worker
        raise IdentityCenterError(f"Identity Center run {requested.pk} was finished by a worker meanwhile")
    return run
