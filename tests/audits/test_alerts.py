"""Alerts to the security distribution list: once per event, never repeated by a re-run or re-import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client

from accounts.models import AwsAccount
from audits.models import Alert
from audits.report import ReportError
from audits.services import report_import
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def account(sandbox: AwsAccount) -> AwsAccount:
    sandbox.alert_email = "aws-security@example.com"
    sandbox.save()
    return sandbox


def imported(content: bytes, at: datetime, capture) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        report_import(account=sandbox_of(), content=content, generated_at=at)


def sandbox_of() -> AwsAccount:
    return AwsAccount.objects.get(account_id="111122223333")


def test_new_root_use_sends_exactly_one_email_and_a_second_import_none(
    account: AwsAccount, sample_bytes: bytes, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    imported(sample_bytes, T, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["aws-security@example.com"] and "root password used in sandbox" in mail.outbox[0].subject
    with pytest.raises(ReportError):
        imported(sample_bytes, T, django_capture_on_commit_callbacks)  # the same report again
    imported(sample_bytes, T + timedelta(days=1), django_capture_on_commit_callbacks)  # the same report, fetched a day later
    assert len(mail.outbox) == 1
    assert Alert.objects.count() == 1 and Alert.objects.get().sent_at is not None


def test_a_root_access_key_and_a_new_critical_finding_alert(account: AwsAccount, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    root = root_row(mfa_active="false", access_key_1_active="true", access_key_1_last_rotated="2020-01-01T00:00:00+00:00")
    imported(build_report(root, user_row("JSmith")), T, django_capture_on_commit_callbacks)
    kinds = sorted(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["critical_finding", "root_access_key"]  # root.mfa_disabled is critical too
    assert len(mail.outbox) == 2
    imported(build_report(root, user_row("JSmith")), T + timedelta(days=1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_the_organisation_default_list_serves_accounts_without_their_own(
    sandbox: AwsAccount, sample_bytes: bytes, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ALERT_EMAIL = "security-team@example.com"
    imported(sample_bytes, T, django_capture_on_commit_callbacks)
    assert mail.outbox[0].to == ["security-team@example.com"]


def test_with_no_list_configured_the_alert_is_recorded_with_the_reason(
    sandbox: AwsAccount, sample_bytes: bytes, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ALERT_EMAIL = ""
    imported(sample_bytes, T, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert not mail.outbox and alert.sent_at is None and "no security distribution list" in alert.error


def test_a_failing_mail_server_never_fails_the_run(
    account: AwsAccount, sample_bytes: bytes, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there
    imported(sample_bytes, T, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert "e-mail: ConnectionRefusedError" in alert.error
    assert alert.sent_at is None  # not delivered anywhere: never marked sent (issue 28 point 10)
    assert sandbox_of().last_success_at == T


def test_a_line_break_in_a_subject_is_flattened_and_an_undelivered_alert_is_not_sent(sandbox: AwsAccount) -> None:
    from django.utils import timezone

    from audits.alerts import _deliver
    from audits.models import AuditRun

    run = AuditRun.objects.create(account=sandbox, source="import", status="succeeded", requested_by="t", requested_at=timezone.now())
    alert = Alert.objects.create(
        account=sandbox, run=run, kind="critical_finding", key="k-1", subject="IAMWatch: evil\r\nBcc: attacker@example.com", body="b",
        recipients="aws-security@example.com",
    )  # fmt: skip
    _deliver(alert)
    alert.refresh_from_db()
    assert mail.outbox[-1].subject == "IAMWatch: evil Bcc: attacker@example.com" and mail.outbox[-1].bcc == []
    assert alert.sent_at is not None and alert.error == ""


def test_a_chat_webhook_gets_the_alert_too(
    account: AwsAccount, sample_bytes: bytes, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    settings.IAMWATCH_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        imported(sample_bytes, T, django_capture_on_commit_callbacks)
    finally:
        server.server_close()
    assert len(received) == 1 and "root password used in sandbox" in received[0]["text"]
    assert Alert.objects.get().error == ""


def test_the_alert_history_page_and_its_csv(
    account: AwsAccount, sample_bytes: bytes, alice_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    imported(sample_bytes, T, django_capture_on_commit_callbacks)
    assert "root password used in sandbox" in alice_client.get("/alerts/").content.decode()
    body = b"".join(alice_client.get("/alerts/?format=csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert body.count("\r\n") == 2 and "aws-security@example.com" in body
