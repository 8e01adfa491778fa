"""Runs started from a page, in eager mode (no broker: `make run`, a small install), go to a bounded pool of threads in
the web process, so that no web request waits on AWS: the page answers at once and the run table follows each run
(pending, running, its result) as it moves.

Why threads in the web process rather than a worker `make run` would start: eager mode exists for an install without
Redis, and a page must not depend on a process nobody started. The pool is small (IAMWATCH_EAGER_THREADS) and its
queue is in memory: when the process stops (a gunicorn restart, Ctrl-C), the runs it had not started are failed
"not run", never left pending, and one it was running is failed by the reaper like a dead worker's.
"""

from __future__ import annotations

import atexit
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from audits.models import AuditRun, RunStatus
from audits.runs import RunBusy, run_execute

log = logging.getLogger(__name__)
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_waiting: set[int] = set()  # runs handed to the pool and not started yet


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.IAMWATCH_EAGER_THREADS, thread_name_prefix="iamwatch-run")
        return _pool


def _run(run_id: int) -> None:
    with _lock:
        _waiting.discard(run_id)
    close_old_connections()
    try:
        run_execute(run_id=run_id, final_attempt=True)  # no broker, no retry later: this attempt is the last
    except RunBusy:
        pass  # another process has it
    except BaseException:  # a bug: the run is failed by run_execute; never kill the pool's thread
        log.exception("background run %s", run_id)
    finally:
        connections.close_all()


def submit(run: AuditRun) -> Future[None]:
    """Run `run` in the background of this process; returns at once."""
    with _lock:
        _waiting.add(run.pk)
    return _executor().submit(_run, run.pk)


@atexit.register
def _stop() -> None:
    """The process is stopping: runs not started are failed, not left pending."""
    with _lock:
        pool, left = _pool, set(_waiting)
        _waiting.clear()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    if left:
        try:
            AuditRun.objects.filter(pk__in=left, status=RunStatus.PENDING).update(
                status=RunStatus.FAILED, error="not run: the web process stopped before it could run it", finished_at=timezone.now()
            )
        except Exception:  # the database may be gone too at exit
            log.exception("could not fail runs %s at exit", sorted(left))
