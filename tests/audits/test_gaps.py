"""What mutation testing found the suite did not notice: each of these, broken on purpose, left it green."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import AwsAccount
from accounts.naming import compile_rule
from audits.checks import ApiFacts, CheckContext, evaluate_report
from audits.models import AuditRun, Finding, RootUsageEvent
from audits.report import parse_report
from audits.services import report_import
from people.matching import PersonFacts, people_index
from tests.conftest import SAMPLE_ACCOUNT, SAMPLE_T, SAMPLES
from tests.reports import build_report, root_row, user_row

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
JSMITH = CheckContext(naming=compile_rule("initial_lastname"))
POLICY_14 = {"MinimumPasswordLength": 14, "PasswordReusePrevention": 24}


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def results(*rows: dict[str, str], context: CheckContext = JSMITH) -> dict[tuple[str, str], str]:
    return {(r.check_id, r.principal): r.detail for r in evaluate_report(parse_report(build_report(*rows)), context, NOW)}


# --- account.password_policy_weak: 14 characters do, unless console users without MFA need 15 ---------------


def test_a_14_character_policy_is_sound_while_every_console_user_has_mfa() -> None:
    on_mfa = user_row("JSmith", password_enabled="true", password_last_used=ago(1), mfa_active="true")
    without_console = user_row("BJones")  # no password: the MFA rule is about console users only
    context = CheckContext(naming=JSMITH.naming, api=ApiFacts(password_policy=POLICY_14))
    assert ("account.password_policy_weak", "") not in results(root_row(), on_mfa, without_console, context=context)


def test_a_14_character_policy_is_weak_once_a_console_user_lacks_mfa() -> None:
    gap = user_row("JSmith", password_enabled="true", password_last_used=ago(1), mfa_active="false")
    context = CheckContext(naming=JSMITH.naming, api=ApiFacts(password_policy=POLICY_14))
    detail = results(root_row(), gap, context=context)[("account.password_policy_weak", "")]
    assert detail.startswith("minimum length 14 < 15") and "NIST" in detail
    fifteen = CheckContext(naming=JSMITH.naming, api=ApiFacts(password_policy={**POLICY_14, "MinimumPasswordLength": 15}))
    assert ("account.password_policy_weak", "") not in results(root_row(), gap, context=fifteen)


def test_a_policy_without_reuse_prevention_is_weak_as_aws_omits_the_key_when_unset() -> None:
    """Issue 30 point 3: GetAccountPasswordPolicy leaves PasswordReusePrevention out when it is not set; that is no
    reuse prevention at all, not the 24 a sound policy has."""
    unset = {"MinimumPasswordLength": 14}
    context = CheckContext(naming=JSMITH.naming, api=ApiFacts(password_policy=unset))
    assert results(root_row(), context=context)[("account.password_policy_weak", "")] == "reuse prevention 0 < 24"


# --- root.hardware_mfa ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("virtual", "mfa", "expected"), [(True, "true", True), (False, "true", False), (True, "false", False)])
def test_root_hardware_mfa_is_raised_for_a_virtual_root_mfa_only(virtual: bool, mfa: str, expected: bool) -> None:
    context = CheckContext(naming=JSMITH.naming, api=ApiFacts(password_policy=None, root_virtual_mfa=virtual))
    found = results(root_row(mfa_active=mfa), context=context)
    assert (("root.hardware_mfa", "<root_account>") in found) is expected


# --- user.access_key_at_setup: only an active key counts ------------------------------------------------------


@pytest.mark.parametrize(("n", "active", "expected"), [(1, "true", True), (1, "false", False), (2, "true", True), (2, "false", False)])
def test_access_key_at_setup_ignores_an_inactive_key(n: int, active: str, expected: bool) -> None:
    row = user_row(
        "JSmith", password_enabled="true", mfa_active="true", password_last_used=ago(1),
        **{f"access_key_{n}_active": active, f"access_key_{n}_last_rotated": ago(3), f"access_key_{n}_last_used_date": "N/A"},
    )  # fmt: skip
    assert (("user.access_key_at_setup", "JSmith") in results(root_row(), row)) is expected


# --- user.shared_account with an owner the directory cannot tell ---------------------------------------------


def test_a_console_and_key_user_whose_name_fits_two_people_is_shared_unless_the_name_fits_the_standard() -> None:
    twins = [PersonFacts(1, "1", "John", "Smith", "", True), PersonFacts(2, "2", "Jane", "Smith", "", True)]
    both = user_row(
        "JSmith", password_enabled="true", mfa_active="true", password_last_used=ago(1),
        access_key_1_active="true", access_key_1_last_rotated=ago(3), access_key_1_last_used_date=ago(1),
    )  # fmt: skip
    # The account's standard is First_Last, so "JSmith" is not person-shaped there; the directory matches by JSmith.
    other_standard = compile_rule("first_underscore_last")
    context = CheckContext(naming=other_standard, people=people_index(twins, preset="initial_lastname"))
    detail = results(root_row(), both, context=context)[("user.shared_account", "JSmith")]
    assert "console password and active access key" in detail and "no owner in the people directory" in detail
    one = CheckContext(naming=other_standard, people=people_index(twins[:1], preset="initial_lastname"))
    assert ("user.shared_account", "JSmith") not in results(root_row(), both, context=one)
    # Under a standard it fits, the name is a person's: two candidates is user.no_owner's to say, not a shared login.
    fits = CheckContext(naming=JSMITH.naming, people=people_index(twins, preset="initial_lastname"))
    found = results(root_row(), both, context=fits)
    assert ("user.shared_account", "JSmith") not in found and "fits 2 people" in found[("user.no_owner", "JSmith")]


# --- the naming presets' exact character classes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "name", "fits"),
    [
        ("initials_employee_id", "JS1234", True), ("initials_employee_id", "js1234", False),
        ("initials_employee_id", "J51234", False), ("initials_employee_id", "JSM1234", False),
        ("initials_employee_id", "JS", False), ("initials_employee_id", "JS12a4", False),
        ("initials_employee_id", "JS\uff11\uff12", False),
        ("first_underscore_last", "John_Smith", True), ("first_underscore_last", "Mary-Ann_Smith-Jones", True),
        ("first_underscore_last", "john_Smith", False), ("first_underscore_last", "John_smith", False),
        ("first_underscore_last", "John_SMith", False), ("first_underscore_last", "John.Smith", False),
        ("first_underscore_last", "J_Smith", False),
        ("initial_lastname", "JSmith", True), ("initial_lastname", "JSmith-Jones", True),
        ("initial_lastname", "Jsmith", False), ("initial_lastname", "JSMITH", False), ("initial_lastname", "JS", False),
        ("initial_lastname", "J_Smith", False), ("initial_lastname", "JSmith1", False),
        ("company_employee_id", "SF1234", True), ("company_employee_id", "sf1234", False),
        ("company_employee_id", "SX1234", False), ("company_employee_id", "SF", False), ("company_employee_id", "SF12x", False),
    ],
)  # fmt: skip
def test_a_preset_takes_exactly_its_characters(preset: str, name: str, fits: bool) -> None:
    assert compile_rule(preset, company_initials="SF").fits(name) is fits


# --- through the database: root's second key, a threshold from the settings, the stated time ---------------------


@pytest.mark.django_db
def test_a_root_use_by_the_second_access_key_is_a_root_usage_event(sandbox: AwsAccount) -> None:
    root = root_row(access_key_2_active="true", access_key_2_last_rotated="2026-01-01T00:00:00+00:00",
                    access_key_2_last_used_date="2026-10-30T10:15:00+00:00")  # fmt: skip
    report_import(account=sandbox, content=build_report(root), generated_at=SAMPLE_T)
    assert list(RootUsageEvent.objects.values_list("credential", "used_at")) == [
        ("access_key_2", datetime(2026, 10, 30, 10, 15, tzinfo=UTC))
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("days", "expected"), [(45, True), (60, False)])
def test_the_password_unused_threshold_setting_changes_an_imports_findings(
    sandbox: AwsAccount, settings, days: int, expected: bool  # type: ignore[no-untyped-def]
) -> None:
    settings.IAMWATCH_PASSWORD_UNUSED_DAYS = days
    quiet = user_row("JSmith", password_enabled="true", mfa_active="true", password_last_used="2026-09-10T00:00:00+00:00")
    report_import(account=sandbox, content=build_report(root_row(), quiet), generated_at=SAMPLE_T)  # 52 days before T
    assert Finding.objects.filter(check_id="user.password_unused", principal="JSmith").exists() is expected


@pytest.mark.django_db
def test_the_stated_time_is_t_and_later_times_inside_count_as_at_t(sandbox: AwsAccount) -> None:
    """A report recorded at 14:30, imported with --generated-at of that midnight: root signed in at 14:19 and a key
    was rotated at 10:00 that day. T stays the stated midnight; those times count as at T, with a warning."""
    root = root_row(password_last_used="2026-11-01T14:19:00+00:00")
    rotated = user_row(
        "JSmith", password_enabled="true", mfa_active="true", password_last_used="2026-10-31T09:00:00+00:00",
        access_key_1_active="true", access_key_1_last_rotated="2026-11-01T10:00:00+00:00",
        access_key_1_last_used_date="2026-10-31T09:00:00+00:00",
    )  # fmt: skip
    run = report_import(account=sandbox, content=build_report(root, rotated), generated_at=SAMPLE_T,
                        received_at=datetime(2026, 11, 28, tzinfo=UTC))  # fmt: skip
    assert run.generated_at == SAMPLE_T  # never the time of import
    moved = next(w for w in run.warnings if w.startswith("times later than the evaluation time"))
    assert "<root_account> password_last_used 2026-11-01T14:19:00+00:00" in moved
    assert "JSmith access_key_1_last_rotated 2026-11-01T10:00:00+00:00" in moved
    open_ = set(Finding.objects.filter(status="open").values_list("check_id", "principal"))
    assert ("root.recent_use", "<root_account>") in open_  # a sign-in that day is recent use
    assert not {c for c, p in open_ if p == "JSmith"}  # a key rotated that day is neither stale nor unrotated
    assert RootUsageEvent.objects.get().used_at == datetime(2026, 11, 1, 14, 19, tzinfo=UTC)  # the fact itself kept


# --- the AWS-semantics oracle: tests/samples/*.expect, read rather than copied -----------------------------------


def expectations(path: Path) -> list[tuple[bool, str, str]]:
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [(line[0] == "+", *line[1:].split(",", 1)) for line in lines]  # type: ignore[misc]


@pytest.mark.django_db
@pytest.mark.parametrize("expect", sorted(SAMPLES.glob("*.expect")), ids=lambda p: p.name)
def test_every_sample_gives_exactly_the_findings_its_expect_file_states(expect: Path) -> None:
    call_command("add_account", SAMPLE_ACCOUNT, "--name", "sandbox", "--naming-standard", "initial_lastname")
    call_command("import_credential_report", str(expect.with_suffix(".csv")), "--account", SAMPLE_ACCOUNT,
                 "--generated-at", SAMPLE_T.isoformat())  # fmt: skip
    assert AuditRun.objects.get().generated_at == SAMPLE_T
    open_ = set(Finding.objects.filter(status="open").values_list("check_id", "principal"))
    stated = expectations(expect)
    assert len(stated) >= 20
    for present, check_id, principal in stated:
        assert ((check_id, principal) in open_) is present, (check_id, principal)


@pytest.mark.parametrize(
    ("devices", "virtual"),
    [
        ([{"SerialNumber": "arn:aws:iam::111122223333:mfa/root-account-mfa-device", "User": {"Path": "/", "UserName": "root", "Arn": "arn:aws:iam::111122223333:root", "UserId": "111122223333ROOT", "CreateDate": NOW}}], True),
        ([{"SerialNumber": "arn:aws:iam::111122223333:mfa/JSmith", "User": {"Path": "/", "Arn": "arn:aws:iam::111122223333:user/JSmith", "UserId": "AIDAJSMITHEXAMPLE", "UserName": "JSmith", "CreateDate": NOW}}], False),
        ([], False),
    ],
)
def test_root_hardware_mfa_is_built_from_aws_own_answer_for_assigned_devices(devices: list[dict[str, object]], virtual: bool) -> None:
    """Issue 30 point 2: the facts come from ListVirtualMFADevices asked for the devices assigned to someone (root's
    among them when root has a virtual MFA); AWS's answer, through botocore (Stubber: moto cannot assign one to root),
    is what root.hardware_mfa is decided from."""
    import boto3
    from botocore.stub import Stubber

    from audits.fetch import fetch_api_facts

    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("get_account_password_policy", {"PasswordPolicy": {"MinimumPasswordLength": 14, "PasswordReusePrevention": 24}})
        stub.add_response(
            "get_account_authorization_details", {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "IsTruncated": False},
            {"Filter": ["User", "Group", "LocalManagedPolicy"]},
        )
        stub.add_response("list_virtual_mfa_devices", {"VirtualMFADevices": devices, "IsTruncated": False}, {"AssignmentStatus": "Assigned"})
        stub.add_response("list_account_aliases", {"AccountAliases": [], "IsTruncated": False})
        facts = fetch_api_facts(client)
        stub.assert_no_pending_responses()
    assert facts.root_virtual_mfa is virtual and facts.missing == {}
    found = results(root_row(mfa_active="true"), context=CheckContext(naming=JSMITH.naming, api=facts))
    assert (("root.hardware_mfa", "<root_account>") in found) is virtual
