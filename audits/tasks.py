"""Celery tasks: thin wrappers with explicit names around the plain functions of audits.runs."""

from __future__ import annotations

import logging
import signal
import threading

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError

from audits.models import AuditRun, RunStatus
from audits.runs import (
    HARD_LIMIT_MARGIN,
    Interrupted,
    RunBusy,
    TransientRunError,
    fleet_request,
    retry_delay,
    run_execute,
    runs_reap_stale,
)

log = logging.getLogger(__name__)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(f"{signal.Signals(signum).name} to the worker process")


class QueueUnavailable(Exception):
    """The broker cannot take the task; the run was marked failed with the reason."""


# Idempotency: the run row exists before the task is sent, and run_execute claims it with a
# compare-and-set (pending -> running), so a second delivery of the same message does nothing.
# acks_late + a worker killed mid-run: the message comes back after the visibility timeout; while the
# dead attempt could still be alive the claim says RunBusy and the task looks again later, then claims
# the stale run. The half-done attempt stored nothing: a report's data lands in one transaction.
# Retries are for transient AWS faults (and RunBusy) only.
@shared_task(
    name="audits.fetch_account",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
    soft_time_limit=settings.IAMWATCH_RUN_TIME_LIMIT,
    time_limit=settings.IAMWATCH_RUN_TIME_LIMIT + HARD_LIMIT_MARGIN,
)
def fetch_account(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    """Execute a pending run: one account's credential report, or a run of a registered source (Identity Center)."""
    # Run in the calling process (eager: `make run`, a small install), there is no later attempt to hand a
    # retry to: the first attempt is the last, and the run ends failed with its error rather than pending.
    eager = bool(self.request.is_eager)
    # In a worker's pool process, Celery's cold shutdown (and a revoke with terminate) sends SIGTERM: the run
    # under way is then marked failed "interrupted" before the process exits (billiard's own handler would
    # exit with a bare SystemExit). Eager runs are in a web or command process, which has its own handling.
    # Signal handlers belong to a process's main thread: a thread pool (--pool threads) is stopped by Celery alone.
    in_pool_process = not eager and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_pool_process else None
    try:
        run = run_execute(run_id=run_id, final_attempt=eager or self.request.retries >= self.max_retries)
    except Interrupted as exc:
        return f"interrupted: {exc}"  # the run is failed "interrupted"; the pool process is being stopped
    except TransientRunError as exc:
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc
    except RunBusy as exc:
        if eager:
            return "busy: another worker is running it"
        # A redelivered message while an earlier attempt may still be alive: look again once it cannot be.
        raise self.retry(exc=exc, countdown=exc.retry_in, max_retries=None) from exc
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return "duplicate delivery" if run is None else run.status


def enqueue_run(run: AuditRun, *, background: bool = False) -> None:
    """Send a run to the workers (in-process when eager; with `background`, as a page asks, to the web process's
    pool so that the request never waits on AWS); mark it failed and raise QueueUnavailable if the broker is down."""
    if background and fetch_account.app.conf.task_always_eager:
        from audits.background import submit

        submit(run)
        return
    try:
        fetch_account.apply_async(args=[run.pk], retry=False)
    except OperationalError as exc:
        log.warning("cannot queue run %s: %s", run.pk, exc)
        AuditRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
            status=RunStatus.FAILED, error="could not be queued: the task broker (Redis) is unreachable"
        )
        raise QueueUnavailable("runs cannot be queued right now: the task broker (Redis) is unreachable") from exc


@shared_task(name="audits.fetch_fleet")
def fetch_fleet(force: bool = False) -> int:
    """The scheduler's task: one fetch task per active account (fan-out)."""
    request = fleet_request(requested_by="schedule", force=force)
    queued = 0
    for run in request.runs:
        try:
            enqueue_run(run)
            queued += 1
        except QueueUnavailable:
            log.exception("fleet fan-out: run %s not queued", run.pk)
    return queued


@shared_task(name="audits.reap_stale_runs")
def reap_stale_runs() -> int:
    """Fail runs abandoned by dead workers so that nobody waits on them."""
    return runs_reap_stale()
