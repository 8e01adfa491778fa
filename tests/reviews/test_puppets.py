"""A login an admin makes is not a second pair of eyes, and its first password is the admin's, not its own (issue
28 points 2 and 3): the exact sequence the red team used, on the Users page (an admin) and in the Django admin (a
superuser, the only one it is for since issue 24)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp

from accounts.models import AwsAccount
from reviews.models import Review, SignOff
from reviews.selectors import undecided
from reviews.services import Decision, ReviewError, disposition_set, review_open, review_sign
from staff.models import ChangeRecord
from tests.conftest import client_for, member_of

pytestmark = pytest.mark.django_db
PASSWORD, OWN = "Puppet-first-pass-2026", "mine-and-only-mine-2026"


def prepared(account: AwsAccount, lead: User) -> Review:
    review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=lead)
    for finding in undecided(review):
        disposition_set(review=review, finding=finding, decision=Decision(kind="false_positive", justification="checked"), actor=lead, today=timezone.now().date())
    return review


def add_in_admin(admin: Client, username: str) -> str:
    """Add a login with a password, then give it the reviewer role, in the Django admin (a superuser's); its password."""
    added = admin.post("/admin/auth/user/add/", {"username": username, "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"})
    assert added.status_code == 302, added.content.decode()[:2000]
    user = User.objects.get(username=username)
    form = {
        "username": username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "groups": [str(Group.objects.get(name="reviewer").pk)], "date_joined_0": "2026-11-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    assert admin.post(f"/admin/auth/user/{user.pk}/change/", form).status_code == 302
    return PASSWORD


def add_on_users_page(admin: Client, username: str) -> str:
    """Add a reviewer on the Users page (an admin's); the first password it shows once."""
    page = admin.post("/users/", {"username": username, "role": "reviewer"}).content.decode()
    shown = re.search(rf"Added <strong>{username}</strong> with the first password <code>([^<]+)</code>", page)
    assert shown is not None, page[:2000]
    return shown.group(1)


@pytest.fixture(params=["an admin on the Users page", "a superuser in the Django admin"])
def preparer(request: pytest.FixtureRequest, lead: User) -> tuple[User, Callable[[Client, str], str]]:
    """Who prepares the review and adds the puppet login, and how: the two places a login is made."""
    if request.param.startswith("an admin"):
        return lead, add_on_users_page
    return User.objects.create_superuser("root", password="correct horse battery"), add_in_admin


def logged_in_with_two_factor(username: str, password: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": password}).status_code == 302
    page = client.get("/account/2fa/setup/").content.decode()
    key = base64.b32decode(re.search(r'<code class="key">([A-Z2-7=]+)</code>', page).group(1))  # type: ignore[union-attr]
    assert client.post("/account/2fa/setup/", {"token": f"{totp(key):06d}"}).status_code == 200
    return client


def test_a_password_an_admin_set_is_changed_at_the_first_login_before_any_page(preparer: tuple[User, Callable[[Client, str], str]]) -> None:
    who, add = preparer
    first = add(client_for(who), "puppet")
    client = logged_in_with_two_factor("puppet", first)
    held = client.get("/findings/")
    assert held.status_code == 302 and held["Location"].startswith("/account/password/")
    page = client.get("/account/password/").content.decode()
    assert "set by an admin" in page
    changed = client.post("/account/password/", {"old_password": first, "new_password1": OWN, "new_password2": OWN})
    assert changed.status_code == 302 and changed["Location"] == "/account/password/done/"
    assert client.get("/findings/").status_code == 200
    record = ChangeRecord.objects.get(action="user.password_changed")
    assert (record.actor, record.target) == ("puppet", "puppet")
    # The next login is not held at the password (only at the second factor); an admin setting it again holds it again.
    from staff.passwords import password_change_due

    puppet = User.objects.get(username="puppet")
    assert not password_change_due(puppet)
    later = Client()
    assert later.post("/login/", {"username": "puppet", "password": OWN}).status_code == 302
    assert later.get("/findings/")["Location"].startswith("/account/2fa/verify/") and later.session["iamwatch_password_due"] is False
    root = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("root", password="correct horse battery")
    reset = client_for(root).post(f"/admin/auth/user/{puppet.pk}/password/", {"password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"})
    assert reset.status_code == 302 and password_change_due(puppet)


def test_every_login_may_change_its_own_password_and_a_wrong_old_one_is_refused() -> None:
    member_of("viewer", "vera")
    client = Client()
    client.post("/login/", {"username": "vera", "password": "correct horse battery"})
    assert client.get("/").status_code == 200  # set by herself (no trail of an admin setting it): not held
    wrong = client.post("/account/password/", {"old_password": "nope", "new_password1": OWN, "new_password2": OWN})
    assert wrong.status_code == 200 and "incorrect" in wrong.content.decode()
    assert client.post("/account/password/", {"old_password": "correct horse battery", "new_password1": OWN, "new_password2": OWN}).status_code == 302
    assert User.objects.get(username="vera").check_password(OWN)


def test_a_login_the_preparer_created_cannot_sign_the_review(account: AwsAccount, preparer: tuple[User, Callable[[Client, str], str]]) -> None:
    """Point 3 exactly: the preparer prepares, adds `puppet`, makes it a reviewer, logs in as it, enrols, signs."""
    who, add = preparer
    review = prepared(account, who)
    first = add(client_for(who), "puppet")
    puppet = logged_in_with_two_factor("puppet", first)
    puppet.post("/account/password/", {"old_password": first, "new_password1": OWN, "new_password2": OWN})
    refused = puppet.post(f"/reviews/{review.pk}/sign", {"comment": "all good"}, follow=True)
    said = refused.content.decode()
    assert f"four-eyes: {who.username}, who prepared this review, " in said and "the login puppet on" in said
    assert "another reviewer must sign" in said
    assert not SignOff.objects.exists()
    # A reviewer the preparer never handled signs.
    second = client_for(member_of("reviewer", "second"))
    assert second.post(f"/reviews/{review.pk}/sign", {"comment": "checked"}).status_code == 302
    assert SignOff.objects.get().signed_by == "second"


@pytest.mark.parametrize(
    ("action", "target", "said"),
    [
        ("user.added", "puppet", "created the login puppet"),
        ("user.password_set", "puppet", "set the password of the login puppet"),
        ("two_factor.reset", "user puppet", "reset the second factor of the login puppet"),
    ],
)
def test_each_way_of_handling_a_login_counts_for_the_cooldown_and_then_expires(
    account: AwsAccount, lead: User, settings, action: str, target: str, said: str  # type: ignore[no-untyped-def]
) -> None:
    from staff.trail import record_change

    review = prepared(account, lead)
    puppet = member_of("reviewer", "puppet")
    record_change(actor="lead", action=action, target=target)
    with pytest.raises(ReviewError, match=f"four-eyes: lead, who prepared this review, {said} on .* \\(less than 30 days ago\\)"):
        review_sign(review=review, actor=puppet, comment="x", now=timezone.now())
    record_change(actor="someone-else", action="user.password_set", target="puppet")  # not the preparer: no matter
    settings.IAMWATCH_FOUR_EYES_COOLDOWN_DAYS = 30
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert review_sign(review=review, actor=puppet, comment="a month on", now=timezone.now()).signed_by == "puppet"
