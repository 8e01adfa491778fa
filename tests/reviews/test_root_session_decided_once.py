"""One root session, decided once (issue 24 point 2): the credential report's root.recent_use attaches to the session
CloudTrail has for the report's root use, and the session's decision decides it; without such a session it stands
alone, decided on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from accounts.models import AwsAccount
from audits.models import Finding
from audits.services import report_import
from cloudtrail.services import cloudtrail_import
from demo.trail import api_call, log_file, sign_in
from reviews.models import Disposition, Review
from reviews.selectors import undecided
from reviews.services import Decision, disposition_set, review_open
from tests.conftest import member_of
from tests.reports import build_report, root_row

pytestmark = pytest.mark.django_db
T = datetime(2026, 11, 20, 8, 30, 12, tzinfo=UTC)
FALSE_POSITIVE = Decision(kind="false_positive", justification="the yearly break-glass test, ticket SEC-9")


@pytest.fixture
def review(sandbox: AwsAccount) -> Review:
    report = build_report(root_row(password_last_used=T.strftime("%Y-%m-%dT%H:%M:%S+00:00")))
    report_import(account=sandbox, content=report, generated_at=T + timedelta(hours=3))
    return review_open(
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[sandbox], actor=member_of("reviewer", "prep")
    )


def root_findings(review: Review) -> set[str]:
    return set(undecided(review).filter(check_id__startswith="root.").values_list("check_id", flat=True))


def test_the_sessions_decision_decides_the_reports_recent_use(
    review: Review, sandbox: AwsAccount, personas: dict[str, Client]
) -> None:
    cloudtrail_import(
        account=sandbox,
        files=[("a.json", log_file(sign_in(T, event_id="in"), api_call(T + timedelta(minutes=2), "ListUsers")))],
        actor="t",
    )
    assert root_findings(review) == {"root.session", "root.recent_use"}
    page = personas["reviewer"].get(f"/reviews/{review.pk}/")
    rows = {r.finding.check_id: r for r in page.context["rows"]}
    assert "root.recent_use" not in rows  # shown in its session's row, not on its own
    assert [u.check_id for u in rows["root.session"].attached] == ["root.recent_use"]
    assert "this decision decides both" in page.content.decode()
    session = Finding.objects.get(check_id="root.session")
    personas["reviewer"].post(
        f"/reviews/{review.pk}/findings/{session.pk}",
        {"kind": "false_positive", "false_positive-justification": FALSE_POSITIVE.justification},
    )
    assert root_findings(review) == set()
    use = Disposition.objects.get(review=review, finding__check_id="root.recent_use")
    assert (use.kind, use.justification, use.decided_by) == ("false_positive", FALSE_POSITIVE.justification, "reviewer-user")


def test_without_a_session_for_the_reports_use_the_recent_use_stands_alone(
    review: Review, sandbox: AwsAccount, personas: dict[str, Client]
) -> None:
    # CloudTrail has a session, but days before the report's use: not that use's.
    cloudtrail_import(
        account=sandbox, files=[("a.json", log_file(sign_in(T - timedelta(days=3), event_id="earlier")))], actor="t"
    )
    rows = {r.finding.check_id: r for r in personas["reviewer"].get(f"/reviews/{review.pk}/").context["rows"]}
    assert {"root.session", "root.recent_use"} <= set(rows) and rows["root.session"].attached == ()
    disposition_set(
        review=review,
        finding=Finding.objects.get(check_id="root.session"),
        decision=FALSE_POSITIVE,
        actor=member_of("reviewer", "r2"),
        today=T.date(),
    )
    assert root_findings(review) == {"root.recent_use"}
