"""The Users page (issue 24 point 3): admins list logins with their roles, scopes and second factor, add one, change a
role, reset a second factor; each change in the audit trail; no escalation; readers see neither the page nor its link."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountScope, AwsAccount
from reviews.services import ReviewError, review_open, review_sign
from staff.models import ChangeRecord
from staff.passwords import password_change_due
from tests.conftest import client_for, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(lead: User) -> Client:
    return client_for(lead)


def test_the_page_lists_every_login_with_role_scope_and_second_factor(admin: Client, sandbox: AwsAccount) -> None:
    ann = member_of("viewer", "ann")
    AccountScope.objects.create(user=ann, reason="payments team").accounts.set([sandbox])
    TOTPDevice.objects.create(user=member_of("reviewer", "rob"), name="phone", confirmed=True)
    rows = {r.user.username: r for r in admin.get("/users/").context["rows"]}
    assert (rows["ann"].role, [a.name for a in rows["ann"].scope.accounts.all()], rows["ann"].two_factor) == (
        "viewer",
        ["sandbox"],
        False,
    )
    assert (rows["rob"].role, rows["rob"].scope, rows["rob"].two_factor) == ("reviewer", None, True)
    assert rows["lead"].role == "admin" and not rows["lead"].manageable  # an admin is a superuser's to manage


def test_with_single_sign_on_the_page_says_the_groups_decide_again_at_each_sign_in(admin: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_OIDC_ISSUER = ""
    assert b'id="sso-roles"' not in admin.get("/users/").content
    settings.IAMWATCH_OIDC_ISSUER = "https://idp.example.com/o"
    page = admin.get("/users/").content.decode()
    assert 'id="sso-roles"' in page and "lasts until that login's next sign-in" in page


def test_an_admin_adds_a_login_whose_first_password_is_shown_once_and_must_be_changed(admin: Client) -> None:
    page = admin.post("/users/", {"username": "carol", "role": "reviewer"})
    shown = re.search(r"Added <strong>carol</strong> with the first password <code>([^<]+)</code>", page.content.decode())
    assert page.status_code == 200 and shown is not None
    carol = User.objects.get(username="carol")
    assert carol.check_password(shown.group(1)) and list(carol.groups.values_list("name", flat=True)) == ["reviewer"]
    assert password_change_due(carol)
    record = ChangeRecord.objects.get(action="user.added", target="carol")
    assert (record.actor, record.after) == ("lead", {"role": "reviewer"})
    assert shown.group(1) not in admin.get("/users/").content.decode()  # once


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"username": "dave", "role": "admin"}, "only a superuser makes an admin"),
        ({"username": "lead", "role": "viewer"}, "the login lead exists already"),
        ({"username": "bad name!", "role": "viewer"}, "username: letters, digits and @ . + - _ only"),
    ],
)
def test_a_refused_login_is_one_line_and_nothing_is_added(admin: Client, data: dict[str, str], said: str) -> None:
    before = User.objects.count()
    page = admin.post("/users/", data)
    [message] = [str(m) for m in page.context["messages"]]
    assert page.status_code == 400 and said in message
    assert User.objects.count() == before and not ChangeRecord.objects.filter(action="user.added").exists()


def test_a_role_change_is_recorded_and_an_admin_cannot_escalate(admin: Client) -> None:
    ann = member_of("viewer", "ann")
    admin.post(f"/users/{ann.pk}/role", {"role": "reviewer"})
    assert list(ann.groups.values_list("name", flat=True)) == ["reviewer"]
    record = ChangeRecord.objects.get(action="user.changed", target="ann")
    assert (record.before, record.after) == ({"role": "viewer"}, {"role": "reviewer"})
    admin.post(f"/users/{ann.pk}/role", {"role": "admin"})  # no admin made by an admin
    boss = User.objects.create_superuser("boss", password="correct horse battery")
    admin.post(f"/users/{boss.pk}/role", {"role": "viewer"})  # nor a superuser touched
    assert list(ann.groups.values_list("name", flat=True)) == ["reviewer"] and not boss.groups.exists()
    assert ChangeRecord.objects.filter(action="user.changed").count() == 1


def test_a_second_factor_reset_removes_the_devices_and_is_recorded(admin: Client) -> None:
    rob = member_of("reviewer", "rob")
    TOTPDevice.objects.create(user=rob, name="phone", confirmed=True)
    admin.post(f"/users/{rob.pk}/two-factor-reset")
    assert not TOTPDevice.objects.filter(user=rob).exists()
    assert ChangeRecord.objects.get(action="two_factor.reset", target="user rob").actor == "lead"
    boss = User.objects.create_superuser("boss", password="correct horse battery")
    TOTPDevice.objects.create(user=boss, name="phone", confirmed=True)
    admin.post(f"/users/{boss.pk}/two-factor-reset")
    assert TOTPDevice.objects.filter(user=boss).exists()


def test_readers_see_neither_the_page_nor_its_link(personas: dict[str, Client]) -> None:
    for role in ("viewer", "reviewer"):
        assert personas[role].get("/users/").status_code == 403
        assert 'href="/users/"' not in personas[role].get("/").content.decode()
    assert 'href="/users/"' in personas["admin"].get("/").content.decode()


def test_a_login_the_preparer_added_on_the_page_may_not_sign_their_review(admin: Client, lead: User, sandbox: AwsAccount) -> None:
    """Four-eyes reads the Users page's trail as it reads the admin's: a puppet login is the same eyes."""
    admin.post("/users/", {"username": "puppet", "role": "reviewer"})
    review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[sandbox], actor=lead)
    with pytest.raises(ReviewError, match="four-eyes: lead, who prepared this review, created the login puppet"):
        review_sign(review=review, actor=User.objects.get(username="puppet"), comment="looks fine", now=review.created_at)


def test_an_admin_limits_a_login_to_some_accounts_and_lifts_it_each_in_the_trail(admin: Client, sandbox: AwsAccount) -> None:
    ann = member_of("viewer", "ann")
    admin.post(f"/users/{ann.pk}/scope", {"accounts": f" {sandbox.account_id}\n", "reason": "payments team"})
    scope = AccountScope.objects.get(user=ann)
    assert ([a.account_id for a in scope.accounts.all()], scope.reason) == ([sandbox.account_id], "payments team")
    assert sandbox.account_id in admin.get("/users/").content.decode()  # the form shows what it holds
    admin.post(f"/users/{ann.pk}/scope", {"every": "on"})
    assert not AccountScope.objects.filter(user=ann).exists()
    scopes = ChangeRecord.objects.filter(action__startswith="accountscope.").order_by("pk")
    assert [(r.action, r.actor) for r in scopes] == [("accountscope.added", "lead"), ("accountscope.removed", "lead")]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"accounts": "111122223333", "reason": " "}, "an account scope needs a reason"),
        ({"accounts": "999999999999", "reason": "x"}, "no registered AWS account 999999999999"),
        ({"accounts": "12, 111122223333", "reason": "x"}, "an account id is 12 digits, not 12"),
        ({"accounts": "", "reason": "x"}, "choose the accounts, or let them see every account"),
        ({"accounts": "111122223333", "reason": "x", "target": "superuser"}, "only a superuser manages admins and superusers"),
        ({"accounts": "111122223333", "reason": "x", "target": "admin"}, "only a superuser manages admins and superusers"),
    ],
)
def test_a_refused_scope_says_why_in_one_line_and_changes_nothing(admin: Client, sandbox: AwsAccount, data: dict[str, str], said: str) -> None:
    target = {
        "superuser": lambda: User.objects.create_superuser("boss", password="correct horse battery"),
        "admin": lambda: member_of("admin", "ada"),
    }.get(data.pop("target", ""), lambda: member_of("viewer", "ann"))()
    trail = ChangeRecord.objects.count()
    page = admin.post(f"/users/{target.pk}/scope", data, follow=True)
    [message] = [str(m) for m in page.context["messages"]]
    assert said in message and "\n" not in message
    assert not AccountScope.objects.exists() and ChangeRecord.objects.count() == trail
    assert page.redirect_chain == [(f"/users/#login-{target.pk}", 302)]  # the address bar holds a page that opens


def test_a_login_switched_off_is_signed_out_at_its_next_page_and_switched_on_again(admin: Client, lead: User) -> None:
    vera = member_of("viewer", "vera")
    hers = client_for(vera)
    assert hers.get("/").status_code == 200
    admin.post(f"/users/{vera.pk}/active", {})
    vera.refresh_from_db()
    assert not vera.is_active
    assert hers.get("/")["Location"].startswith("/login/")  # her open session ends
    refused = Client().post("/login/", {"username": "vera", "password": "correct horse battery"})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.client.session  # the form again, no session
    admin.post(f"/users/{vera.pk}/active", {"active": "1"})
    vera.refresh_from_db()
    assert vera.is_active
    records = [(r.action, r.target, r.before, r.after) for r in ChangeRecord.objects.filter(action="user.changed").order_by("pk")]
    assert records == [
        ("user.changed", "vera", {"is_active": True}, {"is_active": False}),
        ("user.changed", "vera", {"is_active": False}, {"is_active": True}),
    ]
    # Nobody switches themselves off, nor an admin or a superuser unless a superuser.
    ada = member_of("admin", "ada")
    for target in (lead, ada):
        page = admin.post(f"/users/{target.pk}/active", {}, follow=True)
        assert "Not changed" in " ".join(str(m) for m in page.context["messages"])
        target.refresh_from_db()
        assert target.is_active
    assert ChangeRecord.objects.filter(action="user.changed").count() == 2


def test_an_admin_sees_and_clears_a_lockout_in_the_trail(admin: Client, personas: dict[str, Client]) -> None:
    from axes.models import AccessAttempt

    from tests.conftest import locked_out

    attempt = locked_out("bob", "127.0.0.9")
    page = admin.get("/users/").content.decode()
    assert 'id="lockouts"' in page and "127.0.0.9" in page
    assert personas["reviewer"].post(f"/users/lockouts/{attempt.pk}/clear").status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    cleared = admin.post(f"/users/lockouts/{attempt.pk}/clear", follow=True)
    assert not AccessAttempt.objects.exists()
    assert "Cleared: bob may sign in from 127.0.0.9 again." in [str(m) for m in cleared.context["messages"]]
    record = ChangeRecord.objects.get(action="lockout.cleared")
    assert (record.actor, record.target, record.before["failures"]) == ("lead", "bob from 127.0.0.9", 5)
    again = admin.post(f"/users/lockouts/{attempt.pk}/clear", follow=True)  # a second click: said, nothing recorded
    assert "gone already" in " ".join(str(m) for m in again.context["messages"])
    assert ChangeRecord.objects.filter(action="lockout.cleared").count() == 1
