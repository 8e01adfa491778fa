"""No escalation through the admin: the Django admin is for superusers only (an admin manages viewers and reviewers on
the Users page: tests/accounts/test_logins.py), and nobody reads a two-factor key or recovery code after enrolment."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountScope
from staff.models import ChangeRecord
from tests.conftest import client_for, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root", password="correct horse battery")


def change_form(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "groups": [str(g.pk) for g in user.groups.all()],
        "date_joined_0": "2026-11-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    data.update(changes)
    return data


def test_the_admin_site_is_for_superusers_only(lead: User, root: User) -> None:
    """Issue 24: admins manage logins, scopes and lockouts on the Users page; the Django admin is the superuser's."""
    for user in (lead, member_of("reviewer", "rita"), User.objects.create_user("stan", password="correct horse battery", is_staff=True)):
        client = client_for(user)
        for url in ("/admin/", "/admin/auth/user/", "/admin/accounts/awsaccount/", "/admin/axes/accessattempt/"):
            response = client.get(url, follow=True)  # to the admin's login, which says why on the agenda
            assert response.redirect_chain[-1][0] == "/", (user, url)
            assert user.username == "stan" or b"The admin site is for superusers" in response.content  # stan: no role, no page
    assert client_for(root).get("/admin/auth/user/").status_code == 200


@pytest.mark.parametrize(
    "attack",
    ["make themselves superuser", "set root's password", "lift root's scope", "clear a lockout in the admin"],
)
def test_what_an_admin_tried_in_the_admin_site_changes_nothing(lead: User, root: User, attack: str) -> None:
    scope = AccountScope.objects.create(user=root, reason="payments")
    attempt = AccessAttempt.objects.create(username="bob", ip_address="127.0.0.9", failures_since_start=5, user_agent="x")
    before = {u.username: (u.password, u.is_superuser, u.is_staff) for u in User.objects.all()}
    url, data = {
        "make themselves superuser": (f"/admin/auth/user/{lead.pk}/change/", change_form(lead, is_superuser="on", is_staff="on")),
        "set root's password": (
            f"/admin/auth/user/{root.pk}/password/",
            {"password1": "a password the attacker knows", "password2": "a password the attacker knows", "usable_password": "true"},
        ),
        "lift root's scope": (f"/admin/accounts/accountscope/{scope.pk}/delete/", {"post": "yes"}),
        "clear a lockout in the admin": (f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}),
    }[attack]
    assert client_for(lead).post(url, data).status_code == 302  # to a login page, nothing done
    assert {u.username: (u.password, u.is_superuser, u.is_staff) for u in User.objects.all()} == before
    assert AccountScope.objects.filter(pk=scope.pk).exists() and AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert not ChangeRecord.objects.exists()


def test_a_superuser_manages_admins(root: User, lead: User) -> None:
    response = client_for(root).post(
        f"/admin/auth/user/{lead.pk}/password/",
        {"password1": "a brand new passphrase", "password2": "a brand new passphrase", "usable_password": "true"},
    )
    assert response.status_code == 302


def enrolled(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    StaticToken.objects.create(device=recovery, token="c0ffee1234")
    return device


def test_nobody_reads_a_two_factor_key_or_recovery_code_in_the_admin(root: User, lead: User) -> None:
    rita = member_of("reviewer", "rita")
    device = enrolled(rita)
    superuser = client_for(root)
    pages = [
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        "/admin/otp_static/staticdevice/",
        f"/admin/otp_static/staticdevice/{StaticDevice.objects.get(user=rita).pk}/change/",
    ]
    for url in pages:
        response = superuser.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert device.key not in body and "c0ffee1234" not in body and "otpauth://" not in body, url
        assert client_for(lead).get(url).status_code == 302, url  # the admin site is closed to an admin
    assert "enrolled on" in superuser.get(pages[0]).content.decode().lower()
    assert superuser.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in (302, 404)


def test_resetting_two_factor_removes_every_device_and_is_recorded(root: User) -> None:
    rita = member_of("reviewer", "rita")
    device = enrolled(rita)
    response = client_for(root).post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=rita).exists() and not StaticDevice.objects.filter(user=rita).exists()
    record = ChangeRecord.objects.get(action="two_factor.reset")
    assert (record.actor, record.target, record.after) == ("root", "user rita", {"devices_removed": 2})
    # At her next login she enrols again.
    client = Client()
    client.force_login(rita)
    assert client.get("/").headers["Location"].startswith("/account/2fa/setup/")
