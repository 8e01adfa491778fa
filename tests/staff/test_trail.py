"""The audit trail: changes made through the Django admin are recorded with before and after; the trail is read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import AwsAccount, NamingStandard
from accounts.services import account_create
from staff.models import ChangeRecord
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> Client:
    return client_for(User.objects.create_superuser("root-admin", password="correct horse battery"))


def account_form(account: AwsAccount, **changes: str) -> dict[str, str]:
    values = {
        "account_id": account.account_id, "name": account.name, "environment": account.environment, "role_arn": "",
        "external_id": "", "root_email": "", "alert_email": "", "alias": "", "organization_status": "",
        "naming_standard": "", "is_active": "on",
    }  # fmt: skip
    return {**values, **changes}


def test_a_change_in_the_admin_is_recorded_with_before_and_after(superuser: Client) -> None:
    account = account_create(account_id="111122223333", name="sandbox", actor="alice")
    response = superuser.post(f"/admin/accounts/awsaccount/{account.pk}/change/", account_form(account, name="sandbox-renamed"))
    assert response.status_code == 302, response.content[:2000]
    record = ChangeRecord.objects.get(action="awsaccount.changed")
    assert record.actor == "root-admin" and record.before is not None and record.after is not None
    assert (record.before["name"], record.after["name"]) == ("sandbox", "sandbox-renamed")
    assert ChangeRecord.objects.get(action="account.added").actor == "alice"


def test_a_deletion_in_the_admin_is_recorded(superuser: Client) -> None:
    standard = NamingStandard.objects.create(name="unused", preset="initial_lastname")
    superuser.post(f"/admin/accounts/namingstandard/{standard.pk}/delete/", {"post": "yes"})
    assert not NamingStandard.objects.exists()
    record = ChangeRecord.objects.get(action="namingstandard.removed")
    assert record.before is not None and record.before["preset"] == "initial_lastname"


def test_an_exemption_added_inline_is_recorded(superuser: Client) -> None:
    standard = NamingStandard.objects.create(name="std", preset="initial_lastname")
    data = {
        "name": "std", "preset": "initial_lastname", "company_initials": "", "custom_regex": "",
        "exemptions-TOTAL_FORMS": "1", "exemptions-INITIAL_FORMS": "0", "exemptions-MIN_NUM_FORMS": "0", "exemptions-MAX_NUM_FORMS": "1000",
        "exemptions-0-user_name": "break-glass", "exemptions-0-reason": "sealed envelope in the safe", "exemptions-0-standard": str(standard.pk),
    }  # fmt: skip
    assert superuser.post(f"/admin/accounts/namingstandard/{standard.pk}/change/", data).status_code == 302
    record = ChangeRecord.objects.get(action="namingexemption.added")
    assert record.after is not None and record.after["reason"] == "sealed envelope in the safe"


def test_the_trail_is_read_only_in_the_admin(superuser: Client) -> None:
    account_create(account_id="111122223333", name="sandbox")
    record = ChangeRecord.objects.get()
    assert superuser.get("/admin/staff/changerecord/").status_code == 200
    assert superuser.get("/admin/staff/changerecord/add/").status_code == 403
    assert superuser.post(f"/admin/staff/changerecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    superuser.post(f"/admin/staff/changerecord/{record.pk}/change/", {"actor": "mallory"})
    record.refresh_from_db()
    assert record.actor == "manage.py add_account" and ChangeRecord.objects.count() == 1


def test_granting_a_role_in_the_admin_is_recorded_without_the_password_hash(superuser: Client) -> None:
    from django.contrib.auth.models import Group

    bob = User.objects.create_user("bob", password="correct horse battery")
    data = {
        "username": "bob", "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "groups": [str(Group.objects.get(name="reviewer").pk)],
        "date_joined_0": "2026-11-01", "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-11-01", "initial-date_joined_1": "00:00:00",
    }  # fmt: skip
    response = superuser.post(f"/admin/auth/user/{bob.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    record = ChangeRecord.objects.get(action="user.changed", target="bob")
    assert record.actor == "root-admin" and record.before is not None and record.after is not None
    assert (record.before["groups"], record.after["groups"]) == ([], ["reviewer"])
    assert record.before["password"] == record.after["password"] == "(unchanged)"  # never the hash
    assert "pbkdf2" not in str(record.before) + str(record.after)

    response = superuser.post(
        f"/admin/auth/user/{bob.pk}/password/",
        {"password1": "another long passphrase", "password2": "another long passphrase", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert ChangeRecord.objects.filter(action="user.password_set", target="bob", actor="root-admin").exists()
    assert not ChangeRecord.objects.filter(after__icontains="pbkdf2").exists()


def test_an_account_added_or_changed_in_the_admin_keeps_its_external_id_out_of_the_trail(superuser: Client) -> None:
    data = {
        "account_id": "111122223333", "name": "payments", "environment": "prod",
        "role_arn": "arn:aws:iam::111122223333:role/IAMWatchAudit", "external_id": "s3cr3t-external-id",
        "root_email": "", "alert_email": "", "alias": "", "organization_status": "", "is_active": "on",
    }  # fmt: skip
    assert superuser.post("/admin/accounts/awsaccount/add/", data).status_code == 302
    account = AwsAccount.objects.get()
    assert superuser.post(f"/admin/accounts/awsaccount/{account.pk}/change/", {**data, "external_id": "rotated-id"}).status_code == 302
    added, changed = ChangeRecord.objects.get(action="awsaccount.added"), ChangeRecord.objects.get(action="awsaccount.changed")
    assert added.after["external_id"] == "(changed)" and changed.after["external_id"] == changed.before["external_id"] == "(changed)"
    trail = superuser.get("/trail/?format=csv")
    assert b"s3cr3t" not in b"".join(trail.streaming_content) and "s3cr3t" not in str(added.after) + str(changed.before)


def test_the_admin_refuses_a_role_of_another_account_as_the_command_does(superuser: Client) -> None:
    data = {
        "account_id": "111122223333", "name": "payments", "environment": "",
        "role_arn": "arn:aws:iam::999988887777:role/IAMWatchAudit", "external_id": "",
        "root_email": "", "alert_email": "", "alias": "", "organization_status": "", "is_active": "on",
    }  # fmt: skip
    response = superuser.post("/admin/accounts/awsaccount/add/", data)
    assert response.status_code == 200 and "belongs to another account" in response.content.decode()
    assert not AwsAccount.objects.exists() and not ChangeRecord.objects.exists()
