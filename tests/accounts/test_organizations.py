"""AWS Organizations discovery, against moto's Organizations."""

from __future__ import annotations

import io

import boto3
import pytest
from django.core.management import call_command

from accounts.models import AwsAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(aws: None) -> object:
    client = boto3.client("organizations")
    client.create_organization(FeatureSet="ALL")
    return client


def sync() -> str:
    out = io.StringIO()
    call_command("sync_organization", stdout=out)
    return out.getvalue()


def test_members_are_registered_with_the_audit_role_then_updated_in_place(org, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_MEMBER_ROLE_NAME = "IAMWatchAudit"
    status = org.create_account(AccountName="payments", Email="aws-root+payments@example.com")["CreateAccountStatus"]
    assert "registered" in sync()
    payments = AwsAccount.objects.get(account_id=status["AccountId"])
    assert payments.name == "payments" and payments.root_email == "aws-root+payments@example.com" and payments.is_active
    assert payments.role_arn == f"arn:aws:iam::{payments.account_id}:role/IAMWatchAudit"
    total = AwsAccount.objects.count()  # the management account is a member too

    assert "0 registered, 0 updated" in sync()
    assert AwsAccount.objects.count() == total


def test_closed_accounts_become_inactive_and_are_never_deleted(org) -> None:  # type: ignore[no-untyped-def]
    account_id = org.create_account(AccountName="old", Email="old@example.com")["CreateAccountStatus"]["AccountId"]
    sync()
    org.close_account(AccountId=account_id)
    assert "1 made inactive" in sync()
    old = AwsAccount.objects.get(account_id=account_id)
    assert not old.is_active and old.organization_status in {"SUSPENDED", "PENDING_CLOSURE", "CLOSED"}


def test_without_credentials_the_command_says_which_call_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import CommandError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CommandError, match=r"^organizations:ListAccounts: NoCredentialsError"):
        sync()


def test_via_an_unregistered_account_is_refused(db: None) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no AWS account '123456789012'"):
        call_command("sync_organization", "--via", "123456789012")
