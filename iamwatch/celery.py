"""The Celery application: broker and eager mode come from settings (CELERY_* names)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_shutting_down

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")

app = Celery("iamwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_shutting_down.connect
def _bound_warm_shutdown(how: str = "", **kwargs: Any) -> None:
    """A warm shutdown (SIGTERM, the first Ctrl-C) waits for the tasks under way, but not for ever.

    After IAMWATCH_WORKER_SHUTDOWN_GRACE seconds the worker turns it into Celery's cold shutdown (SIGQUIT),
    which sends SIGTERM to the pool processes still running a task; a run under way is then marked failed
    "interrupted" (audits.tasks) before its process exits.
    """
    if how != "Warm":
        return
    from django.conf import settings

    timer = threading.Timer(settings.IAMWATCH_WORKER_SHUTDOWN_GRACE, os.kill, args=(os.getpid(), signal.SIGQUIT))
    timer.daemon = True  # a worker whose tasks finished in time exits without waiting for it
    timer.start()
