"""Issue 23, point 6: numbers that two pages gave differently for the same thing, each now compared."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from accounts.models import AwsAccount
from audits.models import Finding
from audits.services import report_import
from cloudtrail.services import cloudtrail_import
from demo.trail import log_file, sign_in
from reviews.evidence import evidence_zip
from reviews.services import Decision, dispositions_carry, review_open, review_sign
from tests.conftest import SAMPLE_T, client_for, member_of, staff_user
from tests.reports import build_report, root_row, user_row
from tests.reviews.test_reviews import decide_all, unpack

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NO_MFA = {"password_enabled": "true", "password_last_used": "2026-11-20T00:00:00+00:00", "mfa_active": "false"}


def severity_legend(client: Client, url: str) -> dict[str, float | None]:
    context = client.get(url).context
    chart = (context.get("fleet_trends") or context.get("trends"))[0]
    return {s.label: s.last for s in chart.series}


@time_machine.travel(NOW, tick=False)
def test_the_trend_legend_counts_what_the_findings_page_counts(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=NOW - timedelta(days=1))
    # CloudTrail adds critical findings after the report run whose summary the month's point stored.
    cloudtrail_import(account=sandbox, files=[("a.json", log_file(sign_in(NOW - timedelta(hours=5), mfa="No")))], actor="t")
    viewer = client_for(member_of("viewer", "auditor"))
    open_now = {s: Finding.objects.filter(status="open", severity=s).count() for s in ("critical", "high", "medium", "low")}
    assert open_now["critical"] >= 1  # the sign-in without MFA: one critical root session
    for url in ("/", f"/accounts/{sandbox.account_id}/"):
        assert severity_legend(viewer, url) == {s: float(n) for s, n in open_now.items()}, url
    page = viewer.get("/findings/?severity=critical").context["page"]
    assert page.paginator.count == open_now["critical"]


def test_the_packs_dispositions_say_which_review_a_decision_was_carried_from(sandbox: AwsAccount, sample_bytes: bytes, tmp_path: Path) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    first = review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[sandbox], actor=staff_user("preparer"))
    with time_machine.travel(NOW, tick=False):
        decide_all(first, Decision(kind="remediation_planned", ticket="SEC-7", due_on=date(2026, 12, 31)))
        review_sign(review=first, actor=staff_user("signer"), comment="October", now=NOW)
    second = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[sandbox], actor=staff_user("preparer"))
    later = NOW + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        from reviews.services import carried_decisions

        carry = [c.finding.pk for c in carried_decisions(review=second, today=later.date()) if not c.problem]
        assert carry
        dispositions_carry(review=second, finding_ids=carry, actor=staff_user("helper"), today=later.date())
        decide_all(second)
        signoff = review_sign(review=second, actor=staff_user("signer"), comment="November", now=later)
    root = unpack(evidence_zip(second), tmp_path / "pack")
    rows = list(csv.DictReader(io.StringIO((root / "dispositions.csv").read_text())))
    carried = {r["finding_id"] for r in rows if r["carried_from_review"] == str(first.pk)}
    assert carried == {str(pk) for pk in carry}
    page = client_for(member_of("viewer", "auditor")).get(f"/reviews/{second.pk}/").content.decode()
    assert page.count(f"carried from review {first.pk}") == len(carry)
    # The sign-off line names who decided, not only who opened the review.
    assert signoff.prepared_by == "preparer; decisions by helper"
    signoffs = list(csv.DictReader(io.StringIO((root / "signoffs.csv").read_text())))
    assert signoffs[0]["prepared_by"] == "preparer; decisions by helper"


@time_machine.travel(NOW, tick=False)
def test_resolved_since_the_review_is_the_same_on_the_agenda_the_findings_page_and_the_changes_page(sandbox: AwsAccount) -> None:
    since = NOW - timedelta(days=10)
    t = since + timedelta(days=1)
    reports = [
        build_report(root_row(), user_row("BJones", **NO_MFA), user_row("CKing", **NO_MFA)),
        build_report(root_row()),  # both resolved
        build_report(root_row(), user_row("BJones", **NO_MFA)),  # one comes back
    ]
    for n, content in enumerate(reports):
        report_import(account=sandbox, content=content, generated_at=t + timedelta(days=n))
    viewer = client_for(member_of("viewer", "auditor"))
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    agenda = next(a for g in viewer.get(f"/?since={stamp}").context["groups"] for a in g["accounts"])
    listed = viewer.get(f"/findings/?account={sandbox.account_id}&status=all&resolved_since={stamp}").context["page"]
    changes, _more = viewer.get(f"/changes/?since={stamp}").context["findings"]
    resolved_on_changes = {e.finding_id for e in changes if e.kind == "resolved"}
    assert agenda["resolved_since"] == listed.paginator.count == len(resolved_on_changes) == 2
