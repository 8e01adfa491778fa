"""Where each root event came from, and AWS's own record over a file's (issue 23, point 4): a doctored file stored first
cannot hide a root sign-in that LookupEvents later returns under the same eventID."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from accounts.models import AwsAccount
from audits.alerts import alerts_for_run
from audits.models import Alert, AuditRun, Finding, RunSource, RunStatus
from cloudtrail.models import EventConflict, RootEvent, TrailFile
from cloudtrail.records import sort_records
from cloudtrail.services import cloudtrail_import, store_root_events
from demo.trail import ACCOUNT, log_file, sign_in

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 22, 23, 1, 2, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
OFFICE, OUTSIDE = "203.0.113.10", "198.51.100.77"


@pytest.fixture
def account(sandbox: AwsAccount, settings) -> AwsAccount:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_KNOWN_NETWORKS = ["203.0.113.0/24"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    sandbox.save()
    return sandbox


def lookup_run(account: AwsAccount, *records: dict[str, object]) -> AuditRun:
    """A fetch run whose LookupEvents step returned `records` (AWS's own), stored as the step stores them."""
    with transaction.atomic():
        run = AuditRun.objects.create(account=account, source=RunSource.FETCH, status=RunStatus.SUCCEEDED, requested_at=NOW, generated_at=NOW, finished_at=NOW)
        store_root_events(run=run, records=sort_records("lookup", records, ACCOUNT).root, origin=RootEvent.Origin.LOOKUP)
    alerts_for_run(run_id=run.pk)
    return run


def test_each_event_keeps_the_file_it_came_from_and_who_uploaded_it(account: AwsAccount) -> None:
    content = log_file(sign_in(T, event_id="e1"))
    result = cloudtrail_import(account=account, files=[("root-nov.json", content)], actor="mallory")
    event = RootEvent.objects.select_related("file").get(event_id="e1")
    assert event.file is not None and event.file.run == result.run
    assert (event.file.name, event.file.sha256, event.file.uploaded_by) == ("root-nov.json", hashlib.sha256(content).hexdigest(), "mallory")
    assert event.source.startswith("file root-nov.json (SHA-256 ") and "uploaded by mallory" in event.source
    run = lookup_run(account, sign_in(T, event_id="e2"))
    assert RootEvent.objects.get(event_id="e2").source == f"CloudTrail LookupEvents in run {run.pk}"


def test_aws_own_record_replaces_a_doctored_file_and_raises_a_critical_finding_and_alerts(account: AwsAccount, client: Client) -> None:
    doctored = sign_in(T, success=False, mfa="Yes", ip=OFFICE, event_id="real-event")
    cloudtrail_import(account=account, files=[("innocent.json", log_file(doctored))], actor="mallory")
    (told,) = Finding.objects.filter(check_id="root.session")  # as the file tells it: a failed sign-in from the office
    assert (told.subject, told.severity) == ("real-event", "high") and "none succeeded" in told.detail
    mail.outbox.clear()

    run = lookup_run(account, sign_in(T, success=True, mfa="No", ip=OUTSIDE, event_id="real-event"))

    event = RootEvent.objects.get(event_id="real-event")
    assert (event.success, event.mfa_used, event.source_ip, event.origin, event.run_id, event.file) == (True, False, OUTSIDE, "lookup", run.pk, None)
    conflict = EventConflict.objects.get()
    assert conflict.file == TrailFile.objects.get(name="innocent.json") and conflict.aws_run == run
    assert set(conflict.differences) == {"source_ip", "mfa_used", "success", "error"} and conflict.file_raw["sourceIPAddress"] == OFFICE
    session = Finding.objects.get(check_id="root.session")  # the same session's finding, now as AWS recorded it
    assert (session.subject, session.severity, session.last_run) == ("real-event", "critical", run)
    assert "no MFA" in session.detail and f"outside the known networks ({OUTSIDE})" in session.detail
    assert set(Finding.objects.filter(first_run=run).values_list("check_id", flat=True)) == {"root.evidence_conflict"}
    finding = Finding.objects.get(check_id="root.evidence_conflict")
    assert finding.severity == "critical" and "innocent.json" in finding.detail and "mallory" in finding.detail
    subjects = [m.subject for m in mail.outbox]
    assert any("contradicts AWS" in s for s in subjects) and any("root signed in" in s and "OUTSIDE" in s for s in subjects)
    assert any("mallory" in m.body and "innocent.json" in m.body for m in mail.outbox)
    assert Alert.objects.filter(key=f"evidence-conflict:real-event:{conflict.file_id}").exists()


def test_a_file_that_agrees_with_aws_is_no_conflict(account: AwsAccount) -> None:
    record = sign_in(T, event_id="same")
    cloudtrail_import(account=account, files=[("good.json", log_file(record))], actor="alice")
    lookup_run(account, record)
    assert not EventConflict.objects.exists() and not Finding.objects.filter(check_id="root.evidence_conflict").exists()
    assert RootEvent.objects.get(event_id="same").file is not None  # nothing to correct: the file's copy stays its source


def test_a_file_never_overrules_a_record_aws_gave_first(account: AwsAccount) -> None:
    lookup_run(account, sign_in(T, success=True, mfa="No", ip=OUTSIDE, event_id="x"))
    cloudtrail_import(account=account, files=[("late.json", log_file(sign_in(T, success=False, ip=OFFICE, event_id="x")))], actor="mallory")
    event = RootEvent.objects.get(event_id="x")
    assert (event.success, event.source_ip, event.origin) == (True, OUTSIDE, "lookup")
