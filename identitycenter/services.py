"""An Identity Center run: read the organisation's instance, store the access paths as history and the sso.*
findings of every registered account, all or nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.aws import AwsAccessError, account_session, describe_error
from accounts.models import AwsAccount
from accounts.selectors import default_standard
from audits.checks import IDENTITY_CENTER_CHECKS
from audits.models import AuditRun, RunSource, RunStatus
from audits.services import state_findings_record
from identitycenter.access import Directory, Path, owners_by_key, person_of
from identitycenter.checks import evaluate_identity_center
from identitycenter.fetch import Instance, instances, read_directory
from identitycenter.models import AccessPath
from people.matching import PeopleIndex, PersonFacts, people_index
from people.selectors import directory_people

CHECK_IDS = frozenset(c.id for c in IDENTITY_CENTER_CHECKS)
log = logging.getLogger(__name__)


class IdentityCenterError(Exception):
    """Identity Center could not be read: one line, naming the call."""


@dataclass(frozen=True, slots=True)
class Changes:
    added: int
    removed: int


def _key(account_pk: int, p: Path) -> tuple[int, str, str, str]:
    return (account_pk, p.user.user_id, p.permission_set.arn, p.group.group_id if p.group else "")


def record_paths(*, run: AuditRun, directory: Directory, accounts: dict[str, AwsAccount], at: datetime) -> Changes:
    """Open the paths that are new, close those Identity Center no longer grants; inside the run's transaction."""
    current = {_key(accounts[p.account_id].pk, p): p for p in directory.paths() if p.account_id in accounts}
    open_paths = {(a.account_id, a.user_id, a.permission_set_arn, a.group_id): a.pk for a in AccessPath.objects.filter(valid_to__isnull=True)}
    gone = [pk for key, pk in open_paths.items() if key not in current]
    AccessPath.objects.filter(pk__in=gone).update(valid_to=at)
    AccessPath.objects.filter(valid_to__isnull=True).update(last_run=run)
    new = [
        AccessPath(
            account_id=key[0], user_id=p.user.user_id, user_name=p.user.user_name, email=p.user.email,
            employee_number=p.user.employee_number, permission_set_arn=p.permission_set.arn,
            permission_set_name=p.permission_set.name, admin=p.permission_set.is_admin,
            group_id=p.group.group_id if p.group else "", group_name=p.group.name if p.group else "",
            valid_from=at, first_run=run, last_run=run,
        )
        for key, p in current.items()
        if key not in open_paths
    ]  # fmt: skip
    AccessPath.objects.bulk_create(new, batch_size=1000)
    return Changes(added=len(new), removed=len(gone))


def _resolver(people: list[PersonFacts], index: PeopleIndex | None):  # type: ignore[no-untyped-def]
    by_employee_id, by_email = owners_by_key((p.employee_id, p.email, p.owner("by the directory")) for p in people)
    return lambda user: person_of(user, by_employee_id=by_employee_id, by_email=by_email, index=index)


def identity_center_ingest(*, run: AuditRun, directory: Directory) -> AuditRun:
    """Store one read of Identity Center for every registered account; call inside a transaction."""
    at = run.generated_at
    if at is None:
        raise ValueError(f"run {run.pk} has no time")
    registered = list(AwsAccount.objects.all())
    accounts = {a.account_id: a for a in registered}
    changes = record_paths(run=run, directory=directory, accounts=accounts, at=at)
    standard = default_standard()
    people = directory_people()
    index = people_index(people, preset=standard.preset, company_initials=settings.IAMWATCH_COMPANY_INITIALS) if standard and people else None
    results = evaluate_identity_center(
        directory,
        resolve=_resolver(people, index),
        production={a.account_id for a in registered if a.environment == "prod"},
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
        f"permission sets, {len(directory.assignments)} assignments; access paths: {changes.added} added, {changes.removed} removed"
    ]
    run.save()
    return run


def identity_center_run(*, requested_by: str) -> AuditRun:
    """Read Identity Center now (IAMWATCH_IDENTITY_CENTER_ACCOUNT and _REGION), one run: stored whole, or failed
    with the call that failed and nothing stored."""
    holder = AwsAccount.objects.filter(account_id=settings.IAMWATCH_IDENTITY_CENTER_ACCOUNT).first()
    if holder is None:
        raise IdentityCenterError(
            "Identity Center is not configured: set IAMWATCH_IDENTITY_CENTER_ACCOUNT to the registered account that holds it"
        )
    now = timezone.now()
    run = AuditRun.objects.create(account=holder, source=RunSource.IDENTITY_CENTER, status=RunStatus.RUNNING, requested_at=now, requested_by=requested_by, started_at=now)
    region = settings.IAMWATCH_IDENTITY_CENTER_REGION
    try:
        access = account_session(holder)
        sso, store = access.client("sso-admin", region), access.client("identitystore", region)
        found = instances(sso)
        if not found:
            raise IdentityCenterError(f"no Identity Center instance in account {holder.account_id}, region {region}")
        directory = read_directory(sso, store, Instance(found[0].instance_arn, found[0].identity_store_id), list(AwsAccount.objects.values_list("account_id", flat=True)))
        with transaction.atomic():
            run.generated_at = timezone.now()
            identity_center_ingest(run=run, directory=directory)
    except (ClientError, BotoCoreError) as exc:
        call = f"identitycenter:{getattr(exc, 'operation_name', type(exc).__name__)}"
        _failed(run, f"{describe_error(exc, call=call)}; nothing stored")
    except (AwsAccessError, IdentityCenterError) as exc:
        _failed(run, f"{exc}; nothing stored")
    except Exception as exc:
        log.exception("Identity Center run %s failed", run.pk)
        _failed(run, f"run {run.pk} stopped: {type(exc).__name__}: {exc}; nothing stored")
    run.refresh_from_db()
    return run


def _failed(run: AuditRun, error: str) -> None:
    AuditRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:4000])
