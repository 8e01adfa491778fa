"""People and naming pages: the standard preview, exemptions, the directory upload, owners and who has access where."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import AwsAccount, NamingExemption, NamingStandard
from accounts.selectors import account_naming_rule
from accounts.services import account_create
from audits.models import AuditRun
from audits.services import report_import
from people.models import OwnerLink, Person
from staff.models import ChangeRecord
from tests.conftest import SAMPLE_T
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
HEADER = "employee_id,first_name,last_name,email,active\n"


@pytest.fixture
def imported(sandbox: AwsAccount, sample_bytes: bytes) -> AuditRun:
    return report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)


def rows_of(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def test_preview_lists_the_current_users_a_standard_would_flag_without_saving(
    imported: AuditRun, personas: dict[str, Client]
) -> None:
    standards, records = NamingStandard.objects.count(), ChangeRecord.objects.count()
    response = personas["admin"].post("/standards/new/", {"name": "ids", "preset": "initials_employee_id", "action": "preview"})
    assert response.status_code == 200
    assert sorted(s.name for s in response.context["preview"]) == [
        "AWhite",
        "BJones",
        "DbaAdmin",
        "JSmith",
        "ci-deploy",
        "networkAdmin",
    ]
    assert NamingStandard.objects.count() == standards and ChangeRecord.objects.count() == records


def test_preview_of_an_existing_standard_honours_its_exemptions(imported: AuditRun, personas: dict[str, Client]) -> None:
    standard = NamingStandard.objects.get()
    NamingExemption.objects.create(standard=standard, user_name="ci-deploy", reason="pipeline")
    response = personas["admin"].post(
        f"/standards/{standard.pk}/", {"name": standard.name, "preset": "initial_lastname", "action": "preview"}
    )
    assert sorted(s.name for s in response.context["preview"]) == ["DbaAdmin", "networkAdmin"]


def test_saving_the_organisations_standard_applies_it_to_accounts_without_their_own_and_is_recorded(
    personas: dict[str, Client],
) -> None:
    bare = account_create(account_id="222233334444", name="bare")
    old = NamingStandard.objects.create(name="old", preset="initial_lastname", is_default=True)
    response = personas["admin"].post(
        "/standards/new/",
        {"name": "company", "preset": "company_employee_id", "company_initials": "SF", "is_default": "on", "action": "save"},
    )
    assert response.status_code == 302
    new = NamingStandard.objects.get(name="company")
    old.refresh_from_db()
    assert new.is_default and not old.is_default
    assert account_naming_rule(account=bare).fits("SF1234") and not account_naming_rule(account=bare).fits("JSmith")
    record = ChangeRecord.objects.get(action="naming_standard.added")
    assert record.actor == "admin-user" and record.after is not None and record.after["company_initials"] == "SF"
    assert ChangeRecord.objects.filter(action="naming_standard.changed", target="naming standard old").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "bad", "preset": "custom", "custom_regex": "("}, "invalid regular expression"),
        ({"name": "bad", "preset": "custom"}, "needs a regular expression"),
        ({"name": "bad", "preset": "company_employee_id"}, "company&#x27;s initials"),
    ],
)
def test_a_standard_that_cannot_compile_is_not_saved(personas: dict[str, Client], data: dict[str, str], message: str) -> None:
    response = personas["admin"].post("/standards/new/", {**data, "action": "save"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not NamingStandard.objects.filter(name="bad").exists()


@pytest.mark.parametrize("role", ["viewer", "reviewer", "outsider"])
def test_only_an_admin_changes_standards_exemptions_links_and_the_directory(
    imported: AuditRun, personas: dict[str, Client], role: str
) -> None:
    client = personas[role]
    standard = NamingStandard.objects.get()
    Person.objects.create(employee_id="1234", first_name="John", last_name="Smith")
    before = ChangeRecord.objects.count()
    assert client.post("/standards/new/", {"name": "x", "preset": "initial_lastname", "action": "save"}).status_code == 403
    assert client.post(f"/standards/{standard.pk}/exemptions", {"user_name": "ci-deploy", "reason": "r"}).status_code == 403
    assert client.post("/accounts/111122223333/owners/link", {"user_name": "ci-deploy", "employee_id": "1234"}).status_code == 403
    assert client.post("/accounts/111122223333/standard", {"standard": ""}).status_code == 403
    upload = SimpleUploadedFile("hr.csv", (HEADER + "9,Eve,Intruder,,true\n").encode())
    assert client.post("/people/", {"file": upload}).status_code == 403
    assert ChangeRecord.objects.count() == before and not Person.objects.filter(employee_id="9").exists()


def test_an_exemption_needs_a_reason(imported: AuditRun, personas: dict[str, Client]) -> None:
    standard = NamingStandard.objects.get()
    admin = personas["admin"]
    response = admin.post(f"/standards/{standard.pk}/exemptions", {"user_name": "ci-deploy", "reason": "  "}, follow=True)
    assert "reason" in response.content.decode() and not NamingExemption.objects.exists()
    admin.post(f"/standards/{standard.pk}/exemptions", {"user_name": "ci-deploy", "reason": "deploy pipeline, owned by platform"})
    assert NamingExemption.objects.get().reason == "deploy pipeline, owned by platform"
    page = admin.get("/accounts/111122223333/").content.decode()
    assert "ci-deploy</code>: deploy pipeline, owned by platform" in page
    assert ChangeRecord.objects.filter(action="exemption.added", actor="admin-user").exists()


def test_the_directory_upload_imports_or_says_which_line_is_bad(personas: dict[str, Client]) -> None:
    admin = personas["admin"]
    bad = SimpleUploadedFile("hr.csv", (HEADER + "1,John,Smith,,true\n2,Jane,,,true\n").encode())
    response = admin.post("/people/", {"file": bad}, follow=True)
    assert "Directory not imported: line 3: last_name is empty for employee 2" in response.content.decode()
    assert not Person.objects.exists()
    good = SimpleUploadedFile("hr.csv", (HEADER + "1,John,Smith,,true\n2,Jane,Doe,,false\n").encode())
    response = admin.post("/people/", {"file": good}, follow=True)
    assert "2 people added" in response.content.decode()
    listing = admin.get("/people/?format=csv")
    assert rows_of(listing) == [
        ["employee_id", "first_name", "last_name", "email", "active"],
        ["2", "Jane", "Doe", "", "False"],
        ["1", "John", "Smith", "", "True"],
    ]


def _john_in_two_accounts(imported: AuditRun) -> Person:
    """John Smith owns four users: JSmith and, by hand, ci-deploy in the sample's account; JS1234 and his e-mail in prod."""
    john = Person.objects.create(employee_id="1234", first_name="John", last_name="Smith", email="john.smith@example.com")
    Person.objects.create(employee_id="1301", first_name="Bob", last_name="Jones")
    other = account_create(account_id="222233334444", name="prod", naming_preset="initials_employee_id")
    report = build_report(
        root_row(arn="arn:aws:iam::222233334444:root"),
        *(
            {**user_row(name, mfa_active="true", password_enabled="true"), "arn": f"arn:aws:iam::222233334444:user/{name}"}
            for name in ("JS1234", "JSmith", "john.smith@example.com")
        ),
    )
    report_import(account=other, content=report, generated_at=SAMPLE_T)
    OwnerLink.objects.create(account=imported.account, user_name="ci-deploy", person=john, linked_by="alice")
    return john


def test_a_person_with_many_users_pages_them_and_the_csv_holds_them_all(imported: AuditRun, alice_client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import dashboard.views

    _john_in_two_accounts(imported)
    monkeypatch.setattr(dashboard.views, "PERSON_PAGE", 3)
    first, second = alice_client.get("/people/1234/"), alice_client.get("/people/1234/?page=2")
    shown = [[(r.state.account.account_id, r.state.name) for r in p.context["page"]] for p in (first, second)]
    assert [len(s) for s in shown] == [3, 1] and len(set(shown[0] + shown[1])) == 4  # every user once, across the pages
    body = first.content.decode()
    assert "Access: 4 IAM users in the latest reports" in body and "(users 1 to 3 on this page)" in body
    assert 'href="?page=2">Next users</a>' in body and "Previous users" not in body
    assert 'href="?page=1">Previous users</a>' in second.content.decode()
    assert len(rows_of(alice_client.get("/people/1234/?format=csv&page=2"))) == 1 + 4  # the CSV ignores the page
    assert [(r.state.account.account_id, r.state.name) for r in alice_client.get("/people/1234/?page=x").context["page"]] == shown[0]


def test_who_has_access_where_lists_a_persons_users_across_accounts_and_its_csv_has_the_same_rows(
    imported: AuditRun, alice_client: Client
) -> None:
    _john_in_two_accounts(imported)

    page = alice_client.get("/people/1234/")
    seen = [(r.state.account.account_id, r.state.name, r.owner.how) for r in page.context["page"]]
    assert sorted(seen) == [
        ("111122223333", "JSmith", "by naming standard"),
        ("111122223333", "ci-deploy", "linked by hand"),
        ("222233334444", "JS1234", "by naming standard"),
        ("222233334444", "john.smith@example.com", "by e-mail"),
    ]  # prod's JSmith breaks prod's standard (JS1234): it is nobody's there
    csv_rows = rows_of(alice_client.get("/people/1234/?format=csv"))
    assert csv_rows[0][:7] == ["employee_id", "person", "person_active", "owner_match", "account_id", "account_name", "user_name"]
    assert sorted((r[4], r[6], r[3]) for r in csv_rows[1:]) == sorted(seen)
    assert {r[10] for r in csv_rows[1:] if r[4] == "222233334444"} == {"True"}  # mfa_active

    fleet = rows_of(alice_client.get("/access.csv"))
    owners = {(r[4], r[6]): r[3] for r in fleet[1:]}
    assert owners[("222233334444", "JSmith")] == "no owner" and owners[("111122223333", "BJones")] == "by naming standard"
    assert len(fleet) == 1 + 6 + 3


def test_access_csv_cells_that_could_start_a_formula_are_neutralised(imported: AuditRun, alice_client: Client) -> None:
    person = Person.objects.create(employee_id="=1+1", first_name="@John", last_name="Smith")
    OwnerLink.objects.create(account=imported.account, user_name="JSmith", person=person, linked_by="alice")
    rows = rows_of(alice_client.get("/access.csv"))
    jsmith = next(r for r in rows if r[6] == "JSmith")
    assert jsmith[:2] == ["'=1+1", "'@John Smith"]


def test_an_admin_links_a_user_to_its_owner_by_hand_and_unknown_ids_are_refused(
    imported: AuditRun, personas: dict[str, Client]
) -> None:
    john = Person.objects.create(employee_id="1234", first_name="John", last_name="Smith")
    admin = personas["admin"]
    response = admin.post("/accounts/111122223333/owners/link", {"user_name": "ci-deploy", "employee_id": "999"}, follow=True)
    assert "nobody in the people directory has employee id 999" in response.content.decode()
    assert not OwnerLink.objects.exists()
    admin.post("/accounts/111122223333/owners/link", {"user_name": "ci-deploy", "employee_id": "1234", "reason": "runs CI"})
    link = OwnerLink.objects.get()
    assert (link.person, link.linked_by, link.reason) == (john, "admin-user", "runs CI")
    rows = {r.state.name: r for r in admin.get("/accounts/111122223333/owners/").context["rows"]}
    assert rows["ci-deploy"].owner is not None and rows["ci-deploy"].owner.how == "linked by hand"
    assert rows["networkAdmin"].owner is None
    admin.post(f"/owner-links/{link.pk}/delete")
    assert not OwnerLink.objects.exists()
    assert [r.action for r in ChangeRecord.objects.filter(action__startswith="owner_link")] == [
        "owner_link.removed",
        "owner_link.added",
    ]


def test_an_account_can_follow_the_organisation_standard_or_choose_its_own(
    imported: AuditRun, personas: dict[str, Client]
) -> None:
    account = imported.account
    NamingStandard.objects.create(name="org", preset="initials_employee_id", is_default=True)
    personas["admin"].post("/accounts/111122223333/standard", {"standard": ""})
    account.refresh_from_db()
    assert account.naming_standard is None and account_naming_rule(account=account).fits("JS1234")
    page = personas["admin"].get("/accounts/111122223333/").content.decode()
    assert "(the organisation's)" in page
    # The next run holds the account's users to the organisation's standard.
    report_import(
        account=account, content=build_report(root_row(), user_row("JSmith")), generated_at=SAMPLE_T + timedelta(days=1)
    )
    assert account.findings.get(check_id="user.name_violation", principal="JSmith").status == "open"
