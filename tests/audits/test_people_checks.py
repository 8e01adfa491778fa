"""Owners and leavers: user.no_owner, user.owner_departed and the shared-login signals, through real runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import AwsAccount, NamingExemption
from audits.models import Finding
from audits.services import report_import
from people.models import Person
from people.services import owner_link
from tests.conftest import SAMPLE_ACCOUNT, SAMPLE_REPORT, SAMPLE_T
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
T1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HEADER = "employee_id,first_name,last_name,email,active\n"
# John Smith and Bob Jones work here; Anna White has left.
DIRECTORY = HEADER + "1234,John,Smith,john.smith@example.com,true\n1301,Bob,Jones,,true\n1402,Anna,White,,false\n"


def open_findings(check_id: str) -> set[str]:
    return set(Finding.objects.filter(check_id=check_id, status="open").values_list("principal", flat=True))


def test_a_leavers_users_and_users_nobody_owns_are_found_and_a_rehire_resolves_on_the_next_run(
    sandbox: AwsAccount, tmp_path: Path
) -> None:
    directory = tmp_path / "hr.csv"
    directory.write_text(DIRECTORY)
    call_command("import_people", str(directory))
    call_command(
        "import_credential_report", str(SAMPLE_REPORT), "--account", SAMPLE_ACCOUNT, "--generated-at", SAMPLE_T.isoformat()
    )
    assert open_findings("user.owner_departed") == {"AWhite"}
    assert open_findings("user.no_owner") == {"networkAdmin", "DbaAdmin", "ci-deploy"}
    departed = Finding.objects.get(check_id="user.owner_departed")
    assert departed.severity == "high" and "Anna White (employee 1402)" in departed.detail

    directory.write_text(DIRECTORY.replace("1402,Anna,White,,false", "1402,Anna,White,,true"))
    call_command("import_people", str(directory))
    assert open_findings("user.owner_departed") == {"AWhite"}  # until the next run sees it
    call_command(
        "import_credential_report",
        str(SAMPLE_REPORT),
        "--account",
        SAMPLE_ACCOUNT,
        "--generated-at",
        (SAMPLE_T + DAY).isoformat(),
    )
    assert open_findings("user.owner_departed") == set()
    assert Finding.objects.get(check_id="user.owner_departed", principal="AWhite").resolved_at == SAMPLE_T + DAY


def test_without_a_directory_the_owner_checks_stay_silent(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    assert not Finding.objects.filter(check_id__in=["user.no_owner", "user.owner_departed"]).exists()


def test_a_link_by_hand_gives_a_user_its_owner_on_the_next_run(sandbox: AwsAccount) -> None:
    john = Person.objects.create(employee_id="1234", first_name="John", last_name="Smith")
    content = build_report(root_row(), user_row("ci-deploy"))
    report_import(account=sandbox, content=content, generated_at=T1)
    assert open_findings("user.no_owner") == {"ci-deploy"}
    owner_link(account=sandbox, user_name="ci-deploy", person=john, reason="John runs the pipeline", actor="alice")
    report_import(account=sandbox, content=content, generated_at=T1 + DAY)
    assert open_findings("user.no_owner") == set()


def test_an_exemption_silences_no_owner_but_never_a_departed_owner(sandbox: AwsAccount) -> None:
    Person.objects.create(employee_id="1402", first_name="Anna", last_name="White", active=False)
    assert sandbox.naming_standard is not None
    for name in ("break-glass", "AWhite"):
        NamingExemption.objects.create(standard=sandbox.naming_standard, user_name=name, reason="documented")
    report_import(account=sandbox, content=build_report(root_row(), user_row("break-glass"), user_row("AWhite")), generated_at=T1)
    assert open_findings("user.no_owner") == set()
    assert open_findings("user.owner_departed") == {"AWhite"}


def test_a_name_that_fits_two_people_asks_for_a_link(sandbox: AwsAccount) -> None:
    Person.objects.create(employee_id="1234", first_name="John", last_name="Smith")
    Person.objects.create(employee_id="1240", first_name="Jane", last_name="Smith")
    report_import(account=sandbox, content=build_report(root_row(), user_row("JSmith")), generated_at=T1)
    finding = Finding.objects.get(check_id="user.no_owner")
    assert "fits 2 people (John Smith (employee 1234), Jane Smith (employee 1240))" in finding.detail


KEYED = {
    "password_enabled": "true",
    "mfa_active": "true",
    "access_key_1_active": "true",
    "access_key_1_last_rotated": "2026-10-01T00:00:00+00:00",
}


def test_a_password_and_a_key_on_a_user_nobody_owns_is_a_shared_login_and_says_which_signals_fired(
    sandbox: AwsAccount,
) -> None:
    Person.objects.create(employee_id="1234", first_name="John", last_name="Smith")
    report = build_report(root_row(), user_row("JSmith", **KEYED), user_row("deploy-bot", **KEYED), user_row("BJones", **KEYED))
    report_import(account=sandbox, content=report, generated_at=T1)
    shared = {f.principal: f.detail for f in Finding.objects.filter(check_id="user.shared_account")}
    # JSmith has an owner: a developer with a password and a key. BJones fits the standard and has MFA: a person
    # missing from the directory is user.no_owner's to report, not a shared login.
    assert set(shared) == {"deploy-bot"}
    assert shared["deploy-bot"] == (
        "signals: console password and active access key on one user; no owner in the people directory"
    )
    no_owner = {f.principal: f.detail for f in Finding.objects.filter(check_id="user.no_owner")}
    assert set(no_owner) == {"deploy-bot", "BJones"}
    assert no_owner["BJones"].startswith("fits ") and "but names nobody in the people directory" in no_owner["BJones"]
    assert "does not fit" in no_owner["deploy-bot"] and "John" not in no_owner["deploy-bot"] + no_owner["BJones"]


def test_a_role_word_is_a_shared_login_on_its_own_and_lists_every_signal(sandbox: AwsAccount) -> None:
    report_import(
        account=sandbox,
        content=build_report(
            root_row(), user_row("networkAdmin", **KEYED), user_row("DbaAdmin", password_enabled="true", mfa_active="true")
        ),
        generated_at=T1,
    )
    shared = {f.principal: f.detail for f in Finding.objects.filter(check_id="user.shared_account")}
    assert shared == {
        "networkAdmin": "signals: name suggests a role or shared login (network, admin); console password and active access key on one user",
        "DbaAdmin": "signals: name suggests a role or shared login (dba, admin)",
    }
