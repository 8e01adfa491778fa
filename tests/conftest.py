from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import settings as hypothesis_settings

from accounts.models import AwsAccount
from accounts.services import account_create
from tests import motogaps  # before any boto3 client: it registers its handler as moto does

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis (tests/fuzz): "ci" in make test, a fixed seed and a bounded number of examples; "fuzz" for make fuzz.
hypothesis_settings.register_profile("ci", max_examples=120, derandomize=True, deadline=None, database=None, print_blob=True)
hypothesis_settings.register_profile("fuzz", max_examples=20_000, deadline=None, database=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A copy of ../shared/samples (real-format reports), so that the suite needs nothing outside the checkout.
SAMPLES = ROOT / "tests" / "samples"
SAMPLE_REPORT = SAMPLES / "credential_report_111122223333.csv"
SAMPLE_ACCOUNT = "111122223333"
SAMPLE_T = datetime.fromisoformat("2026-11-01T00:00:00+00:00")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `make test` promises nothing skipped: a skip there is a failure.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("IAMWATCH_FORBID_SKIPS") and reporter is not None and reporter.stats.get("skipped"):
        print("\nIAMWATCH_FORBID_SKIPS: tests were skipped; the suite must run every test")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After every test that passed and touched the database, before its data is rolled back: the tally of open
    findings kept by each write (FindingTally) still equals a count of the findings, whatever the test did."""
    result = yield
    if item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(getattr(item, "fixturenames", ())):
        from django.db import connection

        from audits.models import FindingTally
        from audits.selectors import tally_drift

        if FindingTally._meta.db_table not in connection.introspection.table_names():
            return result  # a migration test left the schema before the tally

        drift = tally_drift()
        assert not drift, f"the tally of open findings drifted from the findings: (account, check, severity): (tallied, counted) {drift}"
    return result


@pytest.fixture
def sample_bytes() -> bytes:
    return SAMPLE_REPORT.read_bytes()


def manage(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    """A migrated throwaway SQLite database for commands run in a real process."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert manage("migrate", "--noinput", db_url=url).returncode == 0
    return url


@pytest.fixture
def sandbox(db: None) -> AwsAccount:
    """The samples' account, held to the JSmith (initial_lastname) standard."""
    return account_create(account_id=SAMPLE_ACCOUNT, name="sandbox", naming_preset="initial_lastname")


def member_of(role: str, username: str) -> User:
    from django.contrib.auth.models import Group

    user = User.objects.create_user(username, password="correct horse battery")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def staff_user(username: str) -> User:
    """A login by name (created on first use), for services that record who acted."""
    return User.objects.get_or_create(username=username)[0]


@pytest.fixture
def alice(db: None) -> User:
    """Alice, an auditor: a viewer who reads everything and exports."""
    return member_of("viewer", "alice")


def client_for(user: User) -> Client:
    """A logged-in client; for a user who must use 2FA, one that has passed it (a confirmed TOTP device)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from staff.twofactor import requires_two_factor

    client = Client()
    client.force_login(user)
    if requires_two_factor(user):
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def personas(db: None) -> dict[str, Client]:
    """Logged-in clients for an admin, a reviewer, a viewer and an outsider (a login with no role)."""
    return {
        role or "outsider": client_for(member_of(role, f"{role or 'outsider'}-user"))
        for role in ("admin", "reviewer", "viewer", "")
    }


@pytest.fixture
def alice_client(alice: User) -> Client:
    return client_for(alice)


@pytest.fixture
def report_for() -> Callable[..., bytes]:
    """Build a credential report (CSV bytes) from a few rows given as dicts of the columns that matter."""
    from tests.reports import build_report

    return build_report


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """AWS faked in-process by moto: test credentials, no endpoint override.

    AWS managed policies (AdministratorAccess, ...) only for tests marked `aws_managed_policies`: moto loads all
    1,300 of them into every account it touches, at start and again at reset, over a second per test.
    """
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    managed = request.node.get_closest_marker("aws_managed_policies") is not None
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true" if managed else "false",
    }.items():
        monkeypatch.setenv(name, value)
    motogaps.installed = motogaps.Boundaries()
    with mock_aws():
        # moto's report has no root row; an account without users would be a report with no row at all, which no
        # real account gives and IAMWatch refuses. One user, as every account the tests fetch has one.
        import boto3

        boto3.client("iam").create_user(UserName="JSmith")
        try:
            yield
        finally:
            motogaps.installed = None


def migrated_to(targets: list[tuple[str, str]]) -> Any:
    """Migrate the test database to `targets` ((app, migration) pairs); the historical models there (its apps).
    Use it through the `migrator` fixture, which migrates every app forward again after the test."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator(transactional_db: None) -> Iterator[Callable[[list[tuple[str, str]]], Any]]:
    """migrated_to; afterwards every app at its latest migration again (going back unapplies what depends on it)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield migrated_to
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def boundaries(aws: None) -> motogaps.Boundaries | None:
    """The permissions boundaries moto cannot hold (tests.motogaps): attach one with `.attach(arn, ...)`."""
    return motogaps.installed


@pytest.fixture(autouse=True)
def no_cloudtrail_lookup(settings) -> None:  # type: ignore[no-untyped-def]
    """moto does not implement CloudTrail's LookupEvents: fetch runs read no CloudTrail, except in the tests of
    tests/cloudtrail that switch it on and answer it with botocore's Stubber."""
    settings.IAMWATCH_CLOUDTRAIL_LOOKUP = False


@pytest.fixture(autouse=True)
def fresh_aws_session() -> None:
    """IAMWatch keeps one boto3 session per process; tests change AWS credentials and endpoints between them."""
    from accounts.aws import _base_session

    _base_session.cache_clear()


@pytest.fixture(autouse=True)
def runs_inline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run a page starts goes, in eager mode, to a thread pool of the web process (audits.background), whose
    threads cannot see a test's uncommitted transaction: unless a test asks for the real pool (`background_runs`,
    with a transactional database), it runs inline, as the pool's thread would run it."""
    if request.node.get_closest_marker("background_runs") is not None:
        return
    import audits.background
    from audits.runs import RunBusy, run_execute

    def inline(run: Any) -> None:
        with contextlib.suppress(RunBusy):
            run_execute(run_id=run.pk, final_attempt=True)

    monkeypatch.setattr(audits.background, "submit", inline)


@pytest.fixture
def lead() -> User:
    """An admin (the role) with staff status, not a superuser: may manage viewers and reviewers in the admin."""
    user = member_of("admin", "lead")
    user.is_staff = True
    user.save()
    return user


def locked_out(username: str = "bob", address: str = "127.0.0.9") -> Any:
    """A lockout on record: five failed sign-ins of `username` from `address` (django-axes' AccessAttempt)."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects.get_or_create(
        username=username, ip_address=address, defaults={"failures_since_start": 5, "user_agent": "x"}
    )[0]
