"""audits 0016: the repeated "opened" events a fetch run with CloudTrail events used to write are dropped, one kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

BEFORE, AFTER = [("audits", "0015_identity_center_runs")], [("audits", "0016_finding_event_once_per_run")]
T = datetime(2026, 10, 1, tzinfo=UTC)


def test_repeated_run_events_are_dropped_and_then_refused(migrator: Any) -> None:
    old = migrator(BEFORE)
    account = old.get_model("accounts", "AwsAccount").objects.create(account_id="111122223333", name="sandbox")
    run = old.get_model("audits", "AuditRun").objects.create(account=account, source="fetch", status="succeeded", requested_at=T, generated_at=T)
    Finding = old.get_model("audits", "Finding")
    first, second = (
        Finding.objects.create(account=account, check_id=check, principal="JSmith", severity="high", status="open",
                               first_seen=T, last_seen=T, first_run=run, last_run=run)
        for check in ("user.console_without_mfa", "user.no_owner")
    )  # fmt: skip
    Event = old.get_model("audits", "FindingEvent")
    for finding, kind in ((first, "opened"), (first, "opened"), (second, "opened"), (first, "accepted"), (first, "accepted")):
        Event.objects.create(finding=finding, run=run, at=T, kind=kind)
    kept = Event.objects.filter(finding=first, kind="opened").order_by("pk").first().pk

    migrator(AFTER)
    from audits.models import FindingEvent

    assert sorted(FindingEvent.objects.values_list("finding_id", "kind")) == sorted(
        [(first.pk, "opened"), (second.pk, "opened"), (first.pk, "accepted"), (first.pk, "accepted")]
    )  # a review may accept a finding again within one run's life; a run opens it once
    assert FindingEvent.objects.filter(finding_id=first.pk, kind="opened").get().pk == kept
    with pytest.raises(IntegrityError), transaction.atomic():
        FindingEvent.objects.create(finding_id=second.pk, run_id=run.pk, at=T, kind="opened")
