"""The review's evidence pack holds everything of its period, from the previous review's sign-off to this one exact to
the second (issue 23, point 2): root events from both sources with the findings that decide them, root use from the
reports, runs and alerts; what happened before the period but was stored in it is there too, marked late."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from accounts.models import AwsAccount
from audits.services import report_import
from cloudtrail.services import cloudtrail_import
from demo.trail import api_call, log_file, sign_in
from reviews.evidence import evidence_zip
from reviews.models import Review
from reviews.services import review_open, review_sign
from tests.conftest import SAMPLE_T, staff_user
from tests.reviews.test_reviews import decide_all, sha256sum_check, unpack

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 22, 9, 14, 3, tzinfo=UTC)
FIRST_SIGNOFF = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
SECOND_SIGNOFF = datetime(2026, 12, 28, 9, 0, 0, tzinfo=UTC)


def sign(review: Review, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        decide_all(review)
        review_sign(review=review, actor=staff_user("signer"), comment="reviewed", now=at)


def rows(root: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((root / name).read_text())))


def test_each_pack_holds_its_period_to_the_second_and_late_evidence_lands_in_the_next(sandbox: AwsAccount, sample_bytes: bytes, tmp_path: Path) -> None:
    with time_machine.travel(SAMPLE_T + timedelta(hours=1), tick=False):
        report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    records = [
        sign_in(T, mfa="No", event_id="in-period"), api_call(T + timedelta(hours=1), "CreateUser", ip="192.0.2.4", event_id="call"),
        sign_in(datetime(2026, 10, 30, tzinfo=UTC), event_id="october"),  # before the calendar month: still the period
        sign_in(FIRST_SIGNOFF - timedelta(seconds=1), event_id="last-second"),
    ]  # fmt: skip
    with time_machine.travel(T + timedelta(days=1), tick=False):
        cloudtrail_import(account=sandbox, files=[("a.json", log_file(*records))], actor="t")
    first = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[sandbox], actor=staff_user("preparer"))
    sign(first, FIRST_SIGNOFF)
    with time_machine.travel(FIRST_SIGNOFF + timedelta(hours=2), tick=False):  # after the sign-off: late, and a new one
        cloudtrail_import(
            account=sandbox,
            files=[("late.json", log_file(sign_in(FIRST_SIGNOFF - timedelta(days=1), event_id="late"), sign_in(FIRST_SIGNOFF + timedelta(seconds=1), event_id="next-period")))],
            actor="mallory",
        )

    root = unpack(evidence_zip(first), tmp_path / "first")
    assert sha256sum_check(root).returncode == 0
    events = rows(root, "root_events.csv")
    assert [e["event_id"] for e in events] == ["october", "in-period", "call", "last-second"]
    assert {e["late"] for e in events} == {"no"} and all(e["source"].startswith("file a.json (SHA-256 ") for e in events)
    assert rows(root, "period.csv") == [{"account_id": sandbox.account_id, "period_start": "", "period_end": "2026-11-28T09:00:00Z"}]
    decided = {r["finding_id"]: r["check_id"] for r in rows(root, "dispositions.csv")}
    # The sign-in and its call are one session, decided once: both events name that one finding.
    assert [decided[i] for i in events[1]["finding_ids"].split()] == ["root.session"]
    assert events[2]["finding_ids"] == events[1]["finding_ids"] != events[0]["finding_ids"]
    assert [r["source"] for r in rows(root, "period_runs.csv")] == ["import", "cloudtrail"]

    second = review_open(period_start=date(2026, 12, 1), period_end=date(2026, 12, 31), accounts=[sandbox], actor=staff_user("preparer"))
    sign(second, SECOND_SIGNOFF)
    root = unpack(evidence_zip(second), tmp_path / "second")
    assert sha256sum_check(root).returncode == 0
    events = rows(root, "root_events.csv")
    assert [(e["event_id"], e["late"]) for e in events] == [("late", "yes"), ("next-period", "no")]
    assert "uploaded by mallory" in events[0]["source"] and events[0]["recorded_at"] == "2026-11-28T11:00:00Z"
    assert events[0]["finding_ids"]  # the second review decided the late sign-in's findings
    assert rows(root, "period.csv") == [{"account_id": sandbox.account_id, "period_start": "2026-11-28T09:00:00Z", "period_end": "2026-12-28T09:00:00Z"}]
    assert [r["source"] for r in rows(root, "period_runs.csv")] == ["cloudtrail"]
