"""A signed review never changes (issue 23, point 1): its page, CSV, counts and evidence pack read the snapshot it was
signed with; evidence that arrives later about its period is shown beside it, "arrived after sign-off", and first on
the next review."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from accounts.models import AwsAccount
from audits.services import report_import
from cloudtrail.services import cloudtrail_import
from demo.trail import log_file, sign_in
from reviews.evidence import evidence_zip
from reviews.models import Review
from reviews.services import review_open, review_sign
from tests.conftest import SAMPLE_T, client_for, member_of, staff_user
from tests.reports import build_report, root_row, user_row
from tests.reviews.test_reviews import decide_all

pytestmark = pytest.mark.django_db
SIGNED_AT = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
LATER = SIGNED_AT + timedelta(hours=3)
LATE_SECTION = re.compile(r'<section class="late-evidence".*?</section>', re.S)
MAIN = re.compile(r"<main.*?</main>", re.S)  # the page's content (the layout around it holds a per-request CSRF token)


@pytest.fixture
def signed_review(sandbox: AwsAccount, sample_bytes: bytes) -> Review:
    with time_machine.travel(SAMPLE_T + timedelta(hours=1), tick=False):
        report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[sandbox], actor=staff_user("preparer"))
    with time_machine.travel(SIGNED_AT, tick=False):
        decide_all(review)
        review_sign(review=review, actor=staff_user("signer"), comment="November reviewed", now=SIGNED_AT)
    return review


def seen(client: Client, review: Review) -> tuple[str, bytes, bytes]:
    match = MAIN.search(client.get(f"/reviews/{review.pk}/").content.decode())
    assert match is not None
    page = match.group(0)
    csv = b"".join(client.get(f"/reviews/{review.pk}/?format=csv").streaming_content)  # type: ignore[attr-defined]
    return page, csv, evidence_zip(review)


def late_evidence(account: AwsAccount) -> None:
    """A root sign-in of the day before the sign-off, imported after it; and a report with a time before the sign-off,
    imported after it, holding a new user without MFA."""
    with time_machine.travel(LATER, tick=False):
        cloudtrail_import(account=account, files=[("late.json", log_file(sign_in(SIGNED_AT - timedelta(days=1), mfa="No", event_id="late-in")))], actor="mallory")
        report = build_report(root_row(), user_row("networkAdmin"), user_row("KLate", mfa_active="false"))
        report_import(account=account, content=report, generated_at=SIGNED_AT - timedelta(hours=2))


def test_late_evidence_leaves_the_signed_page_csv_and_pack_byte_for_byte_as_signed(signed_review: Review) -> None:
    viewer = client_for(member_of("viewer", "auditor"))
    page, csv, pack = seen(viewer, signed_review)
    assert "Arrived after sign-off" not in page and "13 findings" in page
    late_evidence(signed_review.accounts.get())

    page_after, csv_after, pack_after = seen(viewer, signed_review)
    assert csv_after == csv and pack_after == pack
    assert LATE_SECTION.sub("", page_after) == page  # everything but the new section, byte for byte
    section = LATE_SECTION.search(page_after)
    assert section is not None and "Arrived after sign-off" in section.group(0)
    assert "root console sign-in, from file late.json" in section.group(0) and "uploaded by mallory" in section.group(0)
    assert "credential report of that time, imported file in run" in section.group(0)
    assert "/root-activity/?account=111122223333" in section.group(0)
    assert csv.decode().count("\n") == 14  # the header and the 13 findings signed, not the late ones


def test_the_next_review_lists_the_late_evidence_first(signed_review: Review) -> None:
    late_evidence(signed_review.accounts.get())
    with time_machine.travel(LATER + timedelta(hours=1), tick=False):
        following = review_open(period_start=date(2026, 12, 1), period_end=date(2026, 12, 31), accounts=list(signed_review.accounts.all()), actor=staff_user("p"))
        page = client_for(member_of("viewer", "auditor")).get(f"/reviews/{following.pk}/").content.decode()
    section = LATE_SECTION.search(page)
    assert section is not None and "Late evidence" in section.group(0)
    assert page.index("late-evidence") < page.index("review-accounts")  # first, before the accounts and their findings
    assert section.group(0).count('<tr class="late">') == 2


def agenda_row(client: Client) -> dict[str, object]:
    (row,) = [a for g in client.get("/").context["groups"] for a in g["accounts"]]
    return row


def test_since_the_review_counts_from_the_sign_off_to_the_second_not_by_day(signed_review: Review) -> None:
    viewer = client_for(member_of("viewer", "auditor"))
    with time_machine.travel(SIGNED_AT + timedelta(minutes=5), tick=False):
        row = agenda_row(viewer)
        assert (row["new_since"], row["resolved_since"], row["root_used_since"]) == (0, 0, False)  # all of it just decided
        page = viewer.get("/").content.decode()
    assert "since=2026-11-28T09:00:00.000000Z" in page  # the links filter by the sign-off's time, as the counts do
    listed = viewer.get("/findings/?status=all&since=2026-11-28T09:00:00.000000Z").context["page"]
    assert len(listed.object_list) == 0


def test_late_root_use_counts_as_root_used_since_the_review_marked_late(signed_review: Review) -> None:
    account = signed_review.accounts.get()
    late_evidence(account)
    viewer = client_for(member_of("viewer", "auditor"))
    with time_machine.travel(LATER + timedelta(minutes=5), tick=False):
        row = agenda_row(viewer)
        page = viewer.get(f"/accounts/{account.account_id}/").content.decode()
        overview = viewer.get("/").content.decode()
    assert row["root_used_since"] and row["root_last_used"] == SIGNED_AT - timedelta(days=1)
    assert row["new_since"] == 1  # the late sign-in's root session: new to the meeting
    for shown in (page, overview):
        session = shown.split('<ul class="root-sessions">')[1].split("</ul>")[0]
        assert '<time datetime="2026-11-27T09:00:00+00:00">' in session and '<span class="late">arrived late</span>' in session
