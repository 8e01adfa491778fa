"""A new root event alerts the security distribution list at once: one alert per event id, with time, address,
MFA and user agent; its findings do not alert a second time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from accounts.models import AwsAccount
from audits.models import Alert
from cloudtrail.services import cloudtrail_import
from demo.trail import BROWSER, api_call, log_file, sign_in

T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)  # alerts go out when the run's transaction commits
@time_machine.travel(T + timedelta(hours=1), tick=False)
def test_each_new_root_session_alerts_once_with_time_address_mfa_what_it_did_and_why(sandbox: AwsAccount, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    settings.IAMWATCH_KNOWN_NETWORKS = ["203.0.113.0/24"]
    records = [sign_in(T, mfa="No", ip="198.51.100.5", event_id="e-1"), api_call(T + timedelta(minutes=3), "CreateUser", event_id="e-2")]
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(*records))], actor="t")
    (alert,) = Alert.objects.order_by("pk")  # one session: one alert, not one per event
    assert (alert.kind, alert.key) == ("root_event", "root-session:e-1")
    # The subject says when, how bad and from where: a list of alerts never repeats the same line for two sessions.
    assert alert.subject == "[IAMWatch] critical: root signed in in sandbox (111122223333) at 2026-11-22 09:14:03 UTC from OUTSIDE the known networks"
    assert "Time: 2026-11-22 09:14:03 UTC to 2026-11-22 09:17:03 UTC\nAddress: 198.51.100.5, 203.0.113.10 (from OUTSIDE the known networks)\nMFA: NO\n" in alert.body
    assert "Why critical: signed in without MFA; from outside the known networks (198.51.100.5); made changes: iam:CreateUser" in alert.body
    assert f"2026-11-22 09:14:03 UTC sign-in from 198.51.100.5 in us-east-1 ({BROWSER}) [CloudTrail event id e-1]" in alert.body
    assert "2026-11-22 09:17:03 UTC iam:CreateUser from 203.0.113.10 in us-east-1" in alert.body
    assert [m.to for m in mail.outbox] == [["security@example.com"]]
    # The same events again (an overlapping file): no alert twice; and the critical findings sent no alert of their own.
    cloudtrail_import(account=sandbox, files=[("b.json", log_file(*records))], actor="t")
    assert Alert.objects.count() == 1 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
@time_machine.travel(T + timedelta(days=30), tick=False)
def test_history_older_than_a_week_when_found_is_one_summary_not_a_message_per_event(sandbox: AwsAccount, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ALERT_EMAIL = "security@example.com"
    old = [sign_in(T + timedelta(hours=n), event_id=f"old-{n}") for n in range(40)]
    recent = sign_in(T + timedelta(days=27), event_id="recent")
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(*old, recent))], actor="t")
    subjects = [a.subject for a in Alert.objects.order_by("pk")]
    assert subjects == [
        "[IAMWatch] 40 earlier root events found in sandbox (111122223333)",
        "[IAMWatch] medium: root signed in in sandbox (111122223333) at 2026-12-19 09:14:03 UTC",
    ]
    assert "from 2026-11-22 09:14 to 2026-11-24 00:14 UTC, each older than 7 days when found" in Alert.objects.order_by("pk").first().body  # type: ignore[union-attr]
