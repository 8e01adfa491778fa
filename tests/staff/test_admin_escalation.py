"""No escalation through the admin: an admin manages viewers and reviewers, a superuser manages admins, and nobody
reads a two-factor key or recovery code after enrolment."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
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


def test_an_admin_cannot_make_themselves_superuser(lead: User) -> None:
    client = client_for(lead)
    response = client.post(f"/admin/auth/user/{lead.pk}/change/", change_form(lead, is_superuser="on", is_staff="on"))
    assert response.status_code == 403
    lead.refresh_from_db()
    assert not lead.is_superuser


def test_an_admin_grants_a_reviewer_no_more_than_reviewer(lead: User) -> None:
    rita = member_of("reviewer", "rita")
    admin_group = Group.objects.get(name="admin")
    client = client_for(lead)
    client.post(
        f"/admin/auth/user/{rita.pk}/change/",
        change_form(rita, is_superuser="on", is_staff="on", groups=[str(admin_group.pk)], user_permissions=["1"]),
    )
    rita.refresh_from_db()
    assert not (rita.is_superuser or rita.is_staff or rita.user_permissions.exists())
    assert list(rita.groups.values_list("name", flat=True)) == ["reviewer"]
    # What the admin may do: make a viewer a reviewer.
    viewer = member_of("viewer", "val")
    response = client.post(
        f"/admin/auth/user/{viewer.pk}/change/", change_form(viewer, groups=[str(Group.objects.get(name="reviewer").pk)])
    )
    assert response.status_code == 302
    assert list(viewer.groups.values_list("name", flat=True)) == ["reviewer"]


@pytest.mark.parametrize("target", ["root", "another admin", "a staff member"])
def test_an_admin_cannot_set_the_password_of_a_privileged_user(lead: User, root: User, target: str) -> None:
    victim = {
        "root": lambda: root,
        "another admin": lambda: member_of("admin", "ada"),
        "a staff member": lambda: User.objects.create_user("stan", password="correct horse battery", is_staff=True),
    }[target]()
    before = victim.password
    response = client_for(lead).post(
        f"/admin/auth/user/{victim.pk}/password/",
        {"password1": "a password the attacker knows", "password2": "a password the attacker knows", "usable_password": "true"},
    )
    assert response.status_code == 403
    victim.refresh_from_db()
    assert victim.password == before


def test_a_superuser_manages_admins(root: User, lead: User) -> None:
    response = client_for(root).post(
        f"/admin/auth/user/{lead.pk}/password/",
        {"password1": "a brand new passphrase", "password2": "a brand new passphrase", "usable_password": "true"},
    )
    assert response.status_code == 302


def test_an_admin_cannot_scope_or_unscope_a_privileged_user(lead: User, root: User) -> None:
    scope = AccountScope.objects.create(user=root, reason="payments")
    client = client_for(lead)
    assert client.post(f"/admin/accounts/accountscope/{scope.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccountScope.objects.filter(pk=scope.pk).exists()
    form = client.get("/admin/accounts/accountscope/add/").content.decode()
    assert f'value="{root.pk}"' not in form and f'value="{lead.pk}"' not in form


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
        assert client_for(lead).get(url).status_code == 403, url
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


def test_an_admin_sees_and_clears_lockouts(lead: User) -> None:
    attempt = AccessAttempt.objects.create(username="bob", ip_address="127.0.0.9", failures_since_start=5, user_agent="x")
    client = client_for(lead)
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    assert client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.exists()
