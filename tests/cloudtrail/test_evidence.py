"""The review's evidence pack holds root's CloudTrail events of the period, each with the findings that decide it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from accounts.models import AwsAccount
from audits.services import report_import
from cloudtrail.services import cloudtrail_import
from demo.trail import api_call, log_file, sign_in
from reviews.evidence import evidence_zip
from reviews.services import review_open
from tests.conftest import SAMPLE_T, staff_user
from tests.reviews.test_reviews import sha256sum_check, signed, unpack

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)


def test_the_pack_lists_the_periods_root_events_with_the_findings_that_decide_them(sandbox: AwsAccount, sample_bytes: bytes, tmp_path: Path) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    records = [
        sign_in(T, mfa="No", event_id="in-period"), api_call(T + timedelta(hours=1), "CreateUser", ip="192.0.2.4", event_id="call"),
        sign_in(datetime(2026, 10, 30, tzinfo=UTC), event_id="october"),
    ]  # fmt: skip
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(*records))], actor="t")
    review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[sandbox], actor=staff_user("preparer"))
    signed(review)
    root = unpack(evidence_zip(review), tmp_path / "pack")
    assert sha256sum_check(root).returncode == 0
    events = list(csv.DictReader(io.StringIO((root / "root_events.csv").read_text())))
    assert [(e["event_id"], e["event_name"], e["source_ip"], e["mfa_used"]) for e in events] == [
        ("in-period", "ConsoleLogin", "203.0.113.10", "no"), ("call", "CreateUser", "192.0.2.4", "yes"),
    ]  # fmt: skip
    decided = {r["finding_id"]: r["check_id"] for r in csv.DictReader(io.StringIO((root / "dispositions.csv").read_text()))}
    assert sorted(decided[i] for i in events[0]["finding_ids"].split()) == ["root.console_login", "root.login_without_mfa"]
    assert [decided[i] for i in events[1]["finding_ids"].split()] == ["root.api_activity"]
