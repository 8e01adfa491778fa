"""A private calendar link: a calendar app reads the review meetings without a login, as its user, until revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from icalendar import Calendar

from accounts.models import AccountScope, AwsAccount
from accounts.services import account_create
from reviews.models import CalendarFeed, Review
from reviews.services import review_open
from staff.models import ChangeRecord
from tests.conftest import client_for, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(sandbox: AwsAccount) -> Review:
    return review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[sandbox], actor=staff_user("preparer"))


def make_link(client: Client) -> str:
    """Make a link on the page and read it off the page, as a user would; return its path."""
    response = client.post("/reviews/calendar/link", {"action": "issue"})
    assert response.status_code == 200
    match = re.search(r'value="http://testserver(/reviews/calendar/[A-Za-z0-9_-]{40,}\.ics)"', response.content.decode())
    assert match is not None
    return match.group(1)


def summaries(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    return {str(e["summary"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}


def test_a_calendar_app_reads_the_meetings_through_the_link_without_a_login(review: Review, alice: User) -> None:
    path = make_link(client_for(alice))
    response = Client().get(path)  # no session, no cookie
    assert "IAM review October 2026" in summaries(response)
    assert response["Cache-Control"] == "private, no-store"


def test_only_a_fingerprint_of_the_token_is_stored_and_the_trail_never_holds_it(review: Review, alice: User) -> None:
    path = make_link(client_for(alice))
    token = path.removeprefix("/reviews/calendar/").removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=alice)
    assert feed.token_sha256 == hashlib.sha256(token.encode()).hexdigest() != token
    record = ChangeRecord.objects.get(action="calendar_feed.issued")
    assert (record.actor, record.target) == ("alice", "alice")
    assert all(token not in str(r.after) + str(r.before) for r in ChangeRecord.objects.all())


def test_a_new_link_replaces_the_old_one_and_a_revoked_link_stops_working(review: Review, alice: User) -> None:
    client = client_for(alice)
    first = make_link(client)
    second = make_link(client)
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert CalendarFeed.objects.filter(user=alice).count() == 1

    assert client.post("/reviews/calendar/link", {"action": "revoke"}).status_code == 302
    assert Client().get(second).status_code == 404
    assert ChangeRecord.objects.filter(action="calendar_feed.revoked", target="alice").count() == 1
    assert b"You have no calendar link" in client.get("/reviews/calendar/link").content


def test_the_link_stops_when_its_user_is_deactivated_or_loses_their_role(review: Review, alice: User) -> None:
    path = make_link(client_for(alice))
    alice.groups.remove(Group.objects.get(name="viewer"))
    assert Client().get(path).status_code == 404
    alice = User.objects.get(pk=alice.pk)  # a fresh object: permissions are cached per instance
    alice.groups.add(Group.objects.get(name="viewer"))
    assert Client().get(path).status_code == 200
    alice.is_active = False
    alice.save()
    assert Client().get(path).status_code == 404


def test_a_wrong_or_malformed_token_reads_nothing(review: Review, alice: User) -> None:
    make_link(client_for(alice))
    for path in ("/reviews/calendar/" + "A" * 43 + ".ics", "/reviews/calendar/x.ics"):
        response = Client().get(path)
        assert response.status_code == 404 and b"VCALENDAR" not in response.content


def test_the_link_shows_only_the_reviews_its_user_may_see(review: Review, sandbox: AwsAccount) -> None:
    other = account_create(account_id="444455556666", name="payments", naming_preset="initial_lastname")
    review_open(period_start=date(2026, 9, 1), period_end=date(2026, 9, 30), accounts=[sandbox, other], actor=staff_user("preparer"))
    user = User.objects.create_user("sandbox-team", password="correct horse battery")
    user.groups.add(Group.objects.get(name="viewer"))
    AccountScope.objects.create(user=user, reason="sandbox team").accounts.set([sandbox])
    shown = summaries(Client().get(make_link(client_for(user))))
    assert "IAM review October 2026" in shown and "IAM review September 2026" not in shown


def test_a_login_without_a_role_cannot_make_a_link(personas: dict[str, Client]) -> None:
    assert personas["outsider"].post("/reviews/calendar/link", {"action": "issue"}).status_code == 403
    assert not CalendarFeed.objects.exists()
