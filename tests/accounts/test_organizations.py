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


@pytest.mark.parametrize(
    ("value", "environment"),
    [
        ("prod", "prod"), ("Production", "prod"), ("PRD", "prod"), ("live", "prod"), ("Prod-Workloads", "prod"),
        ("non-prod", "nonprod"), ("NonProd", "nonprod"), ("staging", "staging"), ("UAT", "staging"), ("pre-prod", "staging"),
        ("dev", "dev"), ("Development", "dev"), ("qa", "test"), ("Sandbox", "sandbox"), ("shared-services", ""), ("", ""),
        ("products", ""),  # a word that merely starts like one is not it
    ],
)  # fmt: skip
def test_the_environment_table_reads_whole_words_in_any_case(value: str, environment: str) -> None:
    from accounts.environments import canonical_environment

    assert canonical_environment(value) == environment


def test_production_is_one_notion_whatever_the_word() -> None:
    from accounts.environments import is_production

    assert [is_production(e) for e in ("prod", "production", "PRD", "live", "non-prod", "staging", "")] == [True] * 4 + [False] * 3


def test_sync_sets_the_environment_from_the_tag_else_the_ou_path_and_never_overwrites_a_hand_set_one(org, settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 27, point 6: an organisation that records environments in tags and OUs has production accounts."""
    settings.IAMWATCH_ENVIRONMENT_TAG = "Environment"
    root_id = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root_id, Name="Workloads")["OrganizationalUnit"]["Id"]
    production = org.create_organizational_unit(ParentId=workloads, Name="Production")["OrganizationalUnit"]["Id"]

    def member(name: str, *, tags: dict[str, str] | None = None, ou: str | None = None) -> str:
        account_id = str(org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"])
        if tags:
            org.tag_resource(ResourceId=account_id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        if ou:
            org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou)
        return account_id

    tagged = member("payments", tags={"environment": "prd"})  # the tag, in another case than the setting
    in_ou = member("web", ou=production)
    both = member("data", tags={"Environment": "staging"}, ou=production)  # the tag wins over the OU
    nothing = member("misc")
    by_hand = member("legacy", ou=production)
    from accounts.services import account_create

    account_create(account_id=by_hand, name="legacy", environment="sandbox")
    sync()
    environments = dict(AwsAccount.objects.values_list("account_id", "environment"))
    assert (environments[tagged], environments[in_ou], environments[both], environments[nothing], environments[by_hand]) == (
        "prod", "prod", "staging", "", "sandbox",
    )  # fmt: skip
    org.untag_resource(ResourceId=both, TagKeys=["Environment"])
    assert "1 updated" in sync()  # the environment follows the organisation, as read by the last sync
    assert AwsAccount.objects.get(account_id=both).environment == "prod"
    from accounts.environments import is_production

    assert {a.account_id for a in AwsAccount.objects.all() if is_production(a.environment)} == {tagged, in_ou, both}


def test_an_organisation_that_refuses_a_tag_read_fails_the_sync_naming_the_call(org) -> None:  # type: ignore[no-untyped-def]
    from botocore.stub import Stubber

    from accounts.aws import OrganizationReadError, organization_members

    client = boto3.client("organizations")
    with Stubber(client) as stub:
        stub.add_response("list_accounts", {"Accounts": [{"Id": "111122223333", "Name": "a", "Email": "a@example.com", "Status": "ACTIVE"}]})
        stub.add_client_error("list_tags_for_resource", "AccessDeniedException", "not allowed", 400)
        with pytest.raises(OrganizationReadError, match=r"^organizations:ListTagsForResource: AccessDeniedException"):
            organization_members(client)
