"""Fetch runs: request a run, execute it (AWS, then one all-or-nothing transaction), fan out a fleet.

Plain functions with plain arguments: the Celery tasks, `manage.py run_audit` and the "Run now"
button all call these, and tests call them without Celery.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.aws import AccountAccess, AwsAccessError, account_session, iam_client
from accounts.models import AwsAccount
from audits.alerts import alerts_for_run
from audits.fetch import FetchError, fetch_api_facts, fetch_credential_report
from audits.models import STORED, AuditRun, RunSource, RunStatus
from audits.report import ReportError, parse_report
from audits.services import ensure_report_belongs, evaluation_time, open_finding_count, report_ingest

ACTIVE = (RunStatus.PENDING, RunStatus.RUNNING)
RETRYING = "retrying after: "
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What a run step stored: notes for the run, and the checks it could not decide, with why (a partial run)."""

    notes: list[str] = field(default_factory=list)
    not_evaluated: dict[str, str] = field(default_factory=dict)


class RunStep(Protocol):
    """Evidence an app above audits reads in the same fetch run as the report (cloudtrail: root events from
    LookupEvents). `read` calls AWS before the run's transaction; `store` writes inside it, after the report, in a
    savepoint of its own. A step that fails in either, for any reason, never costs the run its report: `failed`
    says what that leaves undecided, and the run is partial."""

    def read(self, access: AccountAccess, account: AwsAccount, now: datetime) -> Any: ...

    def store(self, run: AuditRun, data: Any) -> StepOutcome: ...

    def failed(self, reason: str) -> StepOutcome: ...


@dataclass(frozen=True, slots=True)
class StepFailed:
    """What a step's read gives when it raised: the reason, in one line."""

    reason: str


def _one_line(exc: BaseException) -> str:
    said = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {said}" if said else type(exc).__name__


def _read_step(step: RunStep, access: AccountAccess, account: AwsAccount, now: datetime) -> Any:
    try:
        return step.read(access, account, now)
    except Exception as exc:
        log.exception("run step %s failed to read account %s", type(step).__name__, account.account_id)
        return StepFailed(_one_line(exc))


RUN_STEPS: list[RunStep] = []

# The work of runs that are not a credential-report fetch (identitycenter: a read of Identity Center), by source.
# It reads AWS, then stores in one transaction; it raises AwsAccessError (`transient` if it may pass) for AWS's
# faults, and run_execute gives it the fetch's claim, retries, time limit and failure handling.
RUN_WORK: dict[str, Callable[[AuditRun], None]] = {}


def register_run_work(source: str, work: Callable[[AuditRun], None]) -> None:
    """Called from an app's ready(): runs of `source` do `work` from then on."""
    RUN_WORK[source] = work


def register_run_step(step: RunStep) -> None:
    """Called from an app's ready(): its step runs in every fetch run from then on."""
    if not any(type(s) is type(step) for s in RUN_STEPS):
        RUN_STEPS.append(step)


def _store_steps(run: AuditRun, read: list[tuple[RunStep, Any]]) -> None:
    for step, data in read:
        if isinstance(data, StepFailed):
            outcome = step.failed(data.reason)
        else:
            try:
                with transaction.atomic():  # a savepoint: what the step wrote goes, the report stays
                    outcome = step.store(run, data)
            except Exception as exc:
                log.exception("run step %s failed to store run %s", type(step).__name__, run.pk)
                outcome = step.failed(_one_line(exc))
        run.warnings = [*run.warnings, *outcome.notes]
        if outcome.not_evaluated:
            run.not_evaluated = {**run.not_evaluated, **outcome.not_evaluated}
            run.status = RunStatus.PARTIAL
    if read:
        run.save(update_fields=["warnings", "not_evaluated", "status"])


# The task is killed this long after its soft time limit; a run running longer than both has no live worker.
HARD_LIMIT_MARGIN = 10


class Interrupted(BaseException):
    """The process was told to stop (SIGTERM, SIGINT) while a run was under way; the run is failed "interrupted"."""


class TransientRunError(Exception):
    """The run failed for a reason that may pass (throttling, a network fault); it was put back to pending."""


class RunBusy(Exception):
    """Another attempt holds the run and may still be alive; try again after `retry_in` seconds."""

    def __init__(self, run_id: int, retry_in: float) -> None:
        super().__init__(f"run {run_id} is being executed by another worker; retry in {retry_in:.0f} s")
        self.retry_in = retry_in


def stale_after() -> timedelta:
    """How long a running attempt may last: past this, its worker is certainly dead (hard time limit passed)."""
    return timedelta(seconds=settings.IAMWATCH_RUN_TIME_LIMIT + HARD_LIMIT_MARGIN + 5)


def retry_delay(retries: int) -> float:
    """Seconds before a worker tries a transiently failed run again: base x 2^retries, with +-20 % jitter.

    The jitter spreads a throttled fleet's retries, so that they do not hit AWS again all at the same second.
    """
    # A spread, not a secret: the standard generator is the right one.
    return settings.IAMWATCH_RETRY_BASE_SECONDS * 2**retries * random.uniform(0.8, 1.2)  # noqa: S311 # nosec B311


def run_request(*, account: AwsAccount, requested_by: str, source: str = RunSource.FETCH) -> AuditRun:
    """A pending run of `source` for `account`, or the one of that source already pending or running (a double
    click queues one run)."""
    with transaction.atomic():
        AwsAccount.objects.select_for_update().filter(pk=account.pk).first()  # serialise requests per account
        existing = AuditRun.objects.filter(account=account, source=source, status__in=ACTIVE).order_by("-requested_at").first()
        if existing is not None:
            return existing
        return AuditRun.objects.create(account=account, source=source, requested_at=timezone.now(), requested_by=requested_by)


def _claim(run_id: int) -> bool:
    """Compare-and-set: move the run to running if it is pending, or running but abandoned by a dead worker.

    True: this caller owns the run. False: the run is finished (a duplicate delivery; drop it).
    RunBusy: another attempt is running and may be alive; the caller tries again later.
    """
    now = timezone.now()
    claimable = Q(status=RunStatus.PENDING) | Q(status=RunStatus.RUNNING, started_at__lt=now - stale_after())
    claimed = AuditRun.objects.filter(claimable, pk=run_id).update(
        status=RunStatus.RUNNING, started_at=now, attempts=F("attempts") + 1
    )
    if claimed == 1:
        return True
    running = AuditRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).values_list("started_at", flat=True).first()
    if running is not None:
        raise RunBusy(run_id, max(1.0, (running + stale_after() - now).total_seconds() + 1))
    return False


def _finish(run: AuditRun, status: str, error: str) -> None:
    AuditRun.objects.filter(pk=run.pk).update(status=status, error=error[:4000], finished_at=timezone.now())
    run.refresh_from_db()


def run_execute(*, run_id: int, final_attempt: bool = True) -> AuditRun | None:
    """Execute one run (a credential-report fetch, or the registered work of its source) and store it whole.
    Returns None when the run was already finished (a duplicate delivery).

    Idempotent: a duplicate delivery finds the run finished and does nothing, or running and raises
    RunBusy; the data of a report lands in one transaction, and a unique constraint keeps one
    succeeded run per report time.
    """
    if not _claim(run_id):
        return None
    run = AuditRun.objects.select_related("account").get(pk=run_id)
    account = run.account
    try:
        RUN_WORK.get(run.source, _fetch_report)(run)
        # A run that succeeded after a retry keeps no "retrying after" of its earlier attempt.
        AuditRun.objects.filter(pk=run.pk, error__startswith=RETRYING).update(error="")
    except (FetchError, AwsAccessError) as exc:
        if exc.transient and not final_attempt:
            AuditRun.objects.filter(pk=run.pk).update(status=RunStatus.PENDING, error=f"{RETRYING}{exc}")
            raise TransientRunError(str(exc)) from exc
        _finish(run, RunStatus.FAILED, str(exc))
    except ReportError as exc:
        _finish(run, RunStatus.FAILED, str(exc))
    except IntegrityError:
        # Another run stored the same report time in the meantime.
        _finish(run, RunStatus.UNCHANGED, "another run stored this report first")
    except Exception as exc:
        # A bug, or a time limit: this account's run fails with what happened, and the next account runs.
        log.exception("run %s of %s failed", run.pk, account.account_id)
        _finish(run, RunStatus.FAILED, f"run {run.pk} stopped: {type(exc).__name__}: {exc}".rstrip(": "))
    except BaseException as exc:
        # Told to stop (Interrupted, KeyboardInterrupt, SystemExit): the data transaction rolled back; say so, stop.
        _finish(run, RunStatus.FAILED, f"interrupted ({type(exc).__name__}{': ' + str(exc) if str(exc) else ''}); nothing stored")
        raise
    run.refresh_from_db()
    return run


def _fetch_report(run: AuditRun) -> None:
    """A fetch run's work: the account's credential report, its API facts and the run steps, stored in one transaction."""
    account = run.account
    access = account_session(account)
    client = iam_client(access)
    fetched = fetch_credential_report(
        client, max_wait=settings.IAMWATCH_REPORT_MAX_WAIT, first_wait=settings.IAMWATCH_REPORT_FIRST_POLL
    )
    facts = fetch_api_facts(client)
    read = [(step, _read_step(step, access, account, timezone.now())) for step in RUN_STEPS]
    report = parse_report(fetched.content)
    ensure_report_belongs(report=report, account=account)
    when = evaluation_time(report=report, stated=fetched.aws_generated_at, received_at=fetched.received_at)
    with transaction.atomic():
        latest = (
            AuditRun.objects.stored_reports().filter(account=account, generated_at__gte=when.at).order_by("-generated_at").first()
        )
        if latest is not None:
            # AWS hands out the same report for up to 4 hours: nothing new to store.
            _finish(
                run,
                RunStatus.UNCHANGED,
                f"AWS returned the report already stored by run {latest.pk} (generated {latest.generated_at:%Y-%m-%d %H:%M}Z)",
            )
            return
        run.aws_generated_at = fetched.aws_generated_at
        report_ingest(run=run, report=report, content=fetched.content, at=when.at, warnings=when.warnings, api_facts=facts)
        _store_steps(run, read)
        AuditRun.objects.filter(pk=run.pk).update(open_finding_count=open_finding_count(account))  # the steps' findings too
        AwsAccount.objects.filter(pk=account.pk).update(alias=facts.alias)
        transaction.on_commit(lambda: alerts_for_run(run_id=run.pk))


@dataclass(frozen=True, slots=True)
class FleetRequest:
    runs: list[AuditRun]
    skipped_recent: list[AwsAccount]


def fleet_request(*, requested_by: str, force: bool = False, accounts: list[AwsAccount] | None = None) -> FleetRequest:
    """One pending run per active account; unless forced, skip accounts fetched within the minimum interval."""
    since = timezone.now() - timedelta(hours=settings.IAMWATCH_MIN_FETCH_INTERVAL_HOURS)
    targets = accounts if accounts is not None else list(AwsAccount.objects.filter(is_active=True))
    runs, skipped = [], []
    for account in targets:
        recent = AuditRun.objects.filter(account=account, status__in=STORED, source=RunSource.FETCH, requested_at__gte=since)
        if not force and recent.exists():
            skipped.append(account)
            continue
        runs.append(run_request(account=account, requested_by=requested_by))
    return FleetRequest(runs=runs, skipped_recent=skipped)


def runs_reap_stale() -> int:
    """Fail runs a dead worker left running past the time limit, or that sat unqueued for a day."""
    now = timezone.now()
    running = Q(status=RunStatus.RUNNING, started_at__lt=now - timedelta(seconds=2 * settings.IAMWATCH_RUN_TIME_LIMIT))
    pending = Q(status=RunStatus.PENDING, requested_at__lt=now - timedelta(days=1))
    return AuditRun.objects.filter(running | pending).update(
        status=RunStatus.FAILED, error="no worker finished this run; the next run will try again", finished_at=now
    )
