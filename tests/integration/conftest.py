"""Real servers for the integration tests: Redis, a moto server, Celery worker processes on the test database."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools as kombu_pools

from iamwatch.celery import app as celery_app
from tests import servers


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with servers.redis() as url:
        yield url


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with servers.moto_server() as url:
        yield url


def database_url_for_others() -> str:
    """The URL of the database pytest-django created, for processes outside this one."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def _reset_pools() -> None:
    # Connections and producers are cached per broker URL (celery's and kombu's global pools): drop them all.
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def sending_to(broker_url: str) -> Iterator[None]:
    """This process sends tasks to `broker_url` instead of running them eagerly."""
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    _reset_pools()
    celery_app.conf.update(broker_url=broker_url, task_always_eager=False)
    try:
        yield
    finally:
        _reset_pools()
        celery_app.conf.update(saved)


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    """This process sends tasks to the real Redis broker (emptied first)."""
    with sending_to(redis_url):
        with celery_app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
        yield redis_url


@pytest.fixture
def process_env(transactional_db: None, redis_url: str) -> dict[str, str]:
    """The environment of a project process (worker, manage.py) that shares this test's database and broker."""
    venv = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "DATABASE_URL": database_url_for_others(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "IAMWATCH_REPORT_MAX_WAIT": "20",
        # moto does not implement CloudTrail's LookupEvents: tests/cloudtrail reads it through botocore's Stubber.
        "IAMWATCH_CLOUDTRAIL_LOOKUP": "false",
    }
