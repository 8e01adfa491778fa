"""The meeting, round two (issue 24 points 4 and 5): nothing typed is lost, and the auditor's downloads are in the open.

A refused sign-off keeps its comment; who may not sign is told why instead of shown a form; every address a refused
form leaves in the address bar opens the same page again; an earlier decision to decide again starts without the
date that would be refused; an accepted risk names its ticket; the review page links its CSV and evidence pack."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import AwsAccount
from reviews.models import Disposition, Review, SignOff
from reviews.selectors import undecided
from reviews.services import Decision, acceptances_expire, disposition_set, review_open, review_sign
from tests.conftest import client_for, member_of, staff_user
from tests.test_permissions import fixture_ids, routes  # noqa: F401  (fixture_ids: a fixture)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
FALSE_POSITIVE = Decision(kind="false_positive", justification="checked with the team")


@pytest.fixture
def review(account: AwsAccount) -> Review:
    return review_open(
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=member_of("reviewer", "preparer")
    )


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None, f"no {name} textarea"
    return found.group(1).strip()


def test_a_refused_sign_off_shows_the_page_again_with_the_comment_as_typed(review: Review, account: AwsAccount) -> None:
    second = client_for(member_of("reviewer", "second-reviewer"))
    typed = "Reviewed with the CISO; web-prod's root sign-in explained in SEC-88"
    refused = second.post(f"/reviews/{review.pk}/sign", {"comment": typed, "account": account.account_id})
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "Not signed: 13 open findings still without a decision" in html
    assert unescape(_textarea(html, "comment")) == typed
    assert not SignOff.objects.exists()
    # The address bar now holds /reviews/N/sign: opening it opens the review's sign-off again, not a bare 405.
    opened = second.get(f"/reviews/{review.pk}/sign")
    assert opened.status_code == 302 and opened["Location"] == f"/reviews/{review.pk}/#signoff"
    assert second.get(opened["Location"]).status_code == 200


def test_an_empty_comment_is_refused_on_the_page_not_by_a_message_after_a_redirect(review: Review) -> None:
    for finding in undecided(review):
        disposition_set(review=review, finding=finding, decision=FALSE_POSITIVE, actor=staff_user("preparer"), today=NOW.date())
    refused = client_for(member_of("reviewer", "second-reviewer")).post(f"/reviews/{review.pk}/sign", {"comment": "  "})
    assert refused.status_code == 400 and "Not signed: a sign-off needs a comment" in refused.content.decode()


def test_a_preparer_sees_why_they_may_not_sign_instead_of_the_form(review: Review) -> None:
    preparer = client_for(User.objects.get(username="preparer"))
    page = preparer.get(f"/reviews/{review.pk}/").content.decode()
    assert "You may not sign this review off: four-eyes: a second reviewer who did not prepare this review" in page
    assert 'name="comment"' not in page
    other = client_for(member_of("reviewer", "second-reviewer")).get(f"/reviews/{review.pk}/").content.decode()
    assert 'name="comment"' in other and "You may not sign" not in other


def test_with_four_eyes_off_the_preparer_gets_the_form(review: Review, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_REVIEW_FOUR_EYES = False
    page = client_for(User.objects.get(username="preparer")).get(f"/reviews/{review.pk}/").content.decode()
    assert 'name="comment"' in page and "You may not sign" not in page


def test_every_address_a_refused_form_leaves_in_the_address_bar_opens_a_page(fixture_ids: dict[str, str]) -> None:  # noqa: F811
    """The class, not the instance: every route that takes POST and answers a refused (empty) form with a page, rather
    than a redirect, must open a page when that same address is then requested with GET."""
    admin = client_for(User.objects.create_superuser("boss", password="correct horse battery"))
    rendered = []
    for route in routes(fixture_ids):
        if route.policy.post is None or route.name in ("logout", "login"):
            continue
        answer = admin.post(route.url, {"file": SimpleUploadedFile("empty.csv", b"")})
        if answer.status_code in (301, 302, 303) or answer.get("Content-Disposition", "").startswith("attachment"):
            continue
        rendered.append(route.name)
        again = admin.get(route.url, follow=True)
        assert again.status_code == 200, f"{route.name}: GET {route.url} after a refused POST answers {again.status_code}"
    assert {"reviews:disposition-save", "reviews:dispositions-decide", "reviews:review-sign"} <= set(rendered)


def test_a_refused_bulk_decision_leaves_an_address_that_opens_the_same_account(
    review: Review, account: AwsAccount, personas: dict[str, Client]
) -> None:
    page = personas["reviewer"].get(f"/reviews/{review.pk}/").content.decode()
    action = re.search(r'<form id="bulk" method="post" action="([^"]+)"', page)
    assert action is not None and action.group(1) == f"/reviews/{review.pk}/decide?account={account.account_id}"
    refused = personas["reviewer"].post(
        action.group(1),
        {"kind": "accepted_risk", "accepted_risk-justification": "legacy", "scope": "account", "account": account.account_id},
    )
    assert refused.status_code == 400 and 'value="legacy"' in refused.content.decode()
    opened = personas["reviewer"].get(action.group(1))
    assert opened["Location"] == f"/reviews/{review.pk}/?account={account.account_id}"


def test_deciding_again_starts_without_the_expired_date_and_accepting_again_is_not_refused(
    account: AwsAccount, personas: dict[str, Client]
) -> None:
    october = datetime(2026, 10, 28, 9, 0, tzinfo=UTC)
    with time_machine.travel(october, tick=False):
        previous = review_open(
            period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[account], actor=staff_user("preparer")
        )
        expired, overdue, *rest = list(undecided(previous))
        prep = staff_user("preparer")
        disposition_set(review=previous, finding=expired, decision=Decision(kind="accepted_risk", justification="legacy app",
                        owner="CISO", expires_on=date(2026, 11, 20), ticket="RISK-4"), actor=prep, today=october.date())  # fmt: skip
        disposition_set(review=previous, finding=overdue, decision=Decision(kind="remediation_planned", ticket="SEC-1",
                        due_on=date(2026, 11, 10)), actor=prep, today=october.date())  # fmt: skip
        for f in rest:
            disposition_set(review=previous, finding=f, decision=FALSE_POSITIVE, actor=prep, today=october.date())
        review_sign(review=previous, actor=staff_user("signer"), comment="October", now=october)
    acceptances_expire(now=NOW)
    with time_machine.travel(NOW, tick=False):
        review = review_open(
            period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=staff_user("preparer")
        )
        rows = {
            r.finding.pk: r
            for r in personas["reviewer"].get(f"/reviews/{review.pk}/?account={account.account_id}").context["rows"]
        }
        # What still stands is filled in; the date that would be refused starts empty.
        assert rows[expired.pk].values == {
            "justification": "legacy app",
            "owner": "CISO",
            "expires_on": "",
            "ticket": "RISK-4",
            "due_on": "",
        }
        assert rows[overdue.pk].values["ticket"] == "SEC-1" and rows[overdue.pk].values["due_on"] == ""
        # Accepting again with a new date and the rest as it was is taken.
        values = {f"accepted_risk-{k}": v for k, v in rows[expired.pk].values.items()} | {
            "accepted_risk-expires_on": "2027-01-31"
        }
        done = personas["reviewer"].post(f"/reviews/{review.pk}/findings/{expired.pk}", {"kind": "accepted_risk", **values})
        assert done.status_code == 302
    decided = Disposition.objects.get(review=review, finding=expired)
    assert (decided.kind, decided.expires_on, decided.ticket) == ("accepted_risk", date(2027, 1, 31), "RISK-4")


def test_an_accepted_risk_names_its_ticket_on_the_form_and_in_the_csv(review: Review, personas: dict[str, Client]) -> None:
    page = personas["reviewer"].get(f"/reviews/{review.pk}/").content.decode()
    assert 'name="accepted_risk-ticket"' in page
    finding = undecided(review).first()
    assert finding is not None
    personas["reviewer"].post(
        f"/reviews/{review.pk}/findings/{finding.pk}",
        {"kind": "accepted_risk", "accepted_risk-justification": "vendor login", "accepted_risk-owner": "CISO",
         "accepted_risk-expires_on": "2027-01-15", "accepted_risk-ticket": "RISK-12"},
    )  # fmt: skip
    assert Disposition.objects.get(finding=finding).ticket == "RISK-12"
    answer = personas["viewer"].get(f"/reviews/{review.pk}/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert next(r for r in rows if r["finding_id"] == str(finding.pk))["ticket"] == "RISK-12"
    # A false positive names no ticket, whatever the form held.
    other = undecided(review).first()
    assert other is not None
    personas["reviewer"].post(
        f"/reviews/{review.pk}/findings/{other.pk}",
        {"kind": "false_positive", "false_positive-justification": "test user", "ticket": "X-1"},
    )
    assert Disposition.objects.get(finding=other).ticket == ""


def test_the_review_page_links_its_csv_and_once_signed_its_evidence_pack(review: Review, personas: dict[str, Client]) -> None:
    page = personas["viewer"].get(f"/reviews/{review.pk}/").content.decode()
    downloads = re.search(r'<p class="actions" id="review-downloads">(.*?)</p>', page, re.S)
    assert downloads is not None
    assert 'href="?format=csv"' in downloads.group(
        1
    ) and "evidence pack can be downloaded once the review is signed" in downloads.group(1)
    for finding in undecided(review):
        disposition_set(review=review, finding=finding, decision=FALSE_POSITIVE, actor=staff_user("preparer"), today=NOW.date())
    review_sign(review=review, actor=staff_user("signer"), comment="done", now=NOW)
    page = personas["viewer"].get(f"/reviews/{review.pk}/").content.decode()
    assert f'href="/reviews/{review.pk}/evidence.zip"' in page.split('id="review-downloads"')[1].split("</p>")[0]
    assert personas["viewer"].get(f"/reviews/{review.pk}/evidence.zip").status_code == 200


def test_the_whole_review_prints_every_account_and_every_decision(review: Review, account: AwsAccount, personas: dict[str, Client]) -> None:
    from accounts.services import account_create

    other = account_create(account_id="222233334444", name="second account")
    wide = review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[account, other], actor=member_of("reviewer", "p2"))
    first = undecided(wide).first()
    assert first is not None
    disposition_set(review=wide, finding=first, decision=FALSE_POSITIVE, actor=staff_user("p2"), today=NOW.date())
    page = personas["viewer"].get(f"/reviews/{wide.pk}/?print=all")
    html = page.content.decode()
    assert page.status_code == 200 and [a[1] for a in page.context["accounts"]] == [account.account_id, other.account_id]
    assert html.count('<section class="print-account">') == 2 and "Nothing open in this account." in html
    assert html.count("<strong>false positive</strong>: checked with the team") == 1
    assert html.count("no decision</strong>") == page.context["total"] - 1 == undecided(wide).count()
    assert 'href="?print=all"' in personas["viewer"].get(f"/reviews/{wide.pk}/").content.decode()
