"""Pages: a login everywhere, the overview and account page show what the runs found, CSV on each table."""

from __future__ import annotations

import csv
import gzip
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AwsAccount, NamingExemption, NamingStandard
from audits.models import AuditRun, Finding
from audits.services import report_import
from people.models import OwnerLink, Person
from reviews.models import Review
from staff.roles import READ_PERMISSION
from tests.conftest import SAMPLE_T, locked_out, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(sandbox: AwsAccount, sample_bytes: bytes) -> AuditRun:
    return report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)


def signed_review(account: AwsAccount) -> Review:
    """A review of the account with every open finding decided (false positive) and signed off."""
    from datetime import date

    from django.utils import timezone

    from reviews.selectors import undecided
    from reviews.services import Decision, disposition_set, review_open, review_sign

    review = review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[account], actor=staff_user("preparer"))
    for finding in undecided(review):
        disposition_set(
            review=review,
            finding=finding,
            decision=Decision(kind="false_positive", justification="test"),
            actor=staff_user("preparer"),
            today=timezone.now().date(),
        )
    review_sign(review=review, actor=staff_user("signer"), comment="reviewed", now=timezone.now())
    return review


def all_urls(imported: AuditRun, **overrides: str) -> list[str]:
    """Every URL of the project, with real arguments filled in (admin excluded: Django's own login);
    `overrides` replace some of them (account_id="...", finding_id="...")."""
    from audits.models import Finding

    finding = Finding.objects.filter(principal="networkAdmin").first()
    assert finding is not None
    # A person, an exemption and a hand-made owner link, so that their pages have something to show.
    person, _ = Person.objects.get_or_create(
        employee_id="1234", first_name="John", last_name="Smith", email="john.smith@example.com"
    )
    NamingExemption.objects.get_or_create(standard=NamingStandard.objects.get(), user_name="ci-deploy", reason="deploy pipeline")
    OwnerLink.objects.get_or_create(account=imported.account, user_name="BJones", person=person, linked_by="test")
    review = Review.objects.first() or signed_review(imported.account)
    values = {
        "account_id": imported.account.account_id,
        "run_id": str(imported.pk),
        "finding_id": str(finding.pk),
        "name": "networkAdmin",
        "standard_id": str(NamingStandard.objects.get().pk),
        "exemption_id": str(NamingExemption.objects.get().pk),
        "employee_id": "1234",
        "link_id": str(OwnerLink.objects.get(account=imported.account).pk),
        "review_id": str(review.pk),
        "token": "not-a-real-token",
        "user_id": str(staff_user("preparer").pk),
        "attempt_id": str(locked_out().pk),
        **overrides,
    }
    urls: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if route.startswith("^admin/"):  # the old admin addresses of moved models: redirects into the admin
                continue
            if isinstance(p, URLResolver):
                if route != "admin/":
                    walk(p.url_patterns, prefix + route)
                continue
            for name, value in values.items():
                route = route.replace(f"<str:{name}>", value).replace(f"<int:{name}>", value)
            assert "<" not in route, f"fill in {route} in all_urls"
            urls.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    return urls


# A calendar app's private link: no login, the token alone (tests/reviews/test_calendar_link.py); a wrong one is 404.
FEED = "/reviews/calendar/not-a-real-token.ics"
SELF_SERVICE = {
    "/login/", "/logout/", "/account/2fa/setup/", "/account/2fa/verify/", "/account/password/", "/account/password/done/", "/admin/login/",
    "/oidc/authenticate/", "/oidc/callback/", "/signin/refused/",  # single sign-on: the way in (404 without a provider)
}  # fmt: skip  # one's own login


@pytest.mark.parametrize("role", ["viewer", "reviewer", "admin"])
def test_every_role_reads_every_page(imported: AuditRun, personas: dict[str, Client], role: str) -> None:
    """Who may open what is tests/test_permissions.py; here, every page a role may read shows (200), none is missing."""
    from tests.test_permissions import routes

    values = dict(zip(("account_id", "run_id", "name", "token"), (imported.account.account_id, str(imported.pk), "networkAdmin", "x"), strict=True))
    all_urls(imported)  # fills the fixtures: a person, an exemption, an owner link, a signed review
    read = 0
    for route in routes({**values, **_ids(imported)}):
        if route.policy.get == READ_PERMISSION:
            assert personas[role].get(route.url, follow=True).status_code == 200, route  # a page, or an action's page
            read += 1
    assert read >= 20


def _ids(imported: AuditRun) -> dict[str, str]:
    from audits.models import Finding

    return {
        "finding_id": str(Finding.objects.filter(principal="networkAdmin").first().pk),  # type: ignore[union-attr]
        "standard_id": str(NamingStandard.objects.get().pk),
        "exemption_id": str(NamingExemption.objects.get().pk),
        "employee_id": "1234",
        "link_id": str(OwnerLink.objects.get(account=imported.account).pk),
        "review_id": str(Review.objects.first().pk),  # type: ignore[union-attr]
        "user_id": str(staff_user("preparer").pk),
        "attempt_id": str(locked_out().pk),
    }


@pytest.mark.parametrize(
    ("role", "run", "manage"), [("viewer", 403, 403), ("reviewer", 302, 403), ("admin", 302, 200), ("outsider", 403, 403)]
)
def test_changing_actions_need_the_right_role(
    imported: AuditRun, personas: dict[str, Client], role: str, run: int, manage: int, aws: None
) -> None:
    client = personas[role]  # the embedded mode runs a queued fetch at once: against fake AWS
    assert client.post("/accounts/111122223333/run").status_code == run
    assert client.post("/run-all").status_code == run
    assert client.post("/accounts/111122223333/test-connection").status_code == manage
    assert AuditRun.objects.filter(source="fetch").exists() is (run == 302)


def test_the_login_page_logs_alice_in(alice: User) -> None:
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused(alice: User) -> None:
    response = Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and b"did not match" in response.content


def test_the_overview_lists_accounts_with_open_findings_by_severity(imported: AuditRun, alice_client: Client) -> None:
    response = alice_client.get("/")
    assert response.status_code == 200
    account = response.context["groups"][0]["accounts"][0]
    assert (account["open_critical"], account["open_high"], account["open_medium"], account["open_low"], account["open_total"]) == (
        0,
        5,
        6,
        2,
        13,
    )
    assert b"sandbox" in response.content


def test_the_account_page_shows_findings_root_usage_and_runs(imported: AuditRun, alice_client: Client) -> None:
    response = alice_client.get("/accounts/111122223333/")
    assert response.status_code == 200
    body = response.content.decode()
    # Each open finding is listed once, in its section: no second "All findings" list below.
    for finding in Finding.objects.filter(account__account_id="111122223333", status="open"):
        assert body.count(f'href="/findings/{finding.pk}/"') == 1, finding
    assert "networkAdmin" in body and "2026-10-28 09:14:55" in body and imported.report.sha256[:16] in body  # type: ignore[union-attr]
    assert "not neutralised for spreadsheets" in body  # the raw reports are evidence, byte for byte


def test_the_account_page_counts_findings_by_status_and_links_each_to_its_rows(imported: AuditRun, alice_client: Client) -> None:
    statuses = alice_client.get("/accounts/111122223333/").context["statuses"]
    assert statuses == [("open", 13), ("resolved", 0), ("accepted", 0)]
    for status, count in statuses:
        listed = alice_client.get(f"/findings/?account=111122223333&status={status}")
        assert listed.context["page"].paginator.count == count


def test_an_unknown_account_is_a_404_and_filters_to_no_rows(alice_client: Client, db: None) -> None:
    assert alice_client.get("/accounts/999988887777/").status_code == 404
    assert alice_client.get("/accounts/999988887777/users/JSmith/").status_code == 404
    assert len(_csv(alice_client.get("/findings.csv?account=999988887777"))) == 1


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_each_table_has_a_csv_of_the_same_rows(imported: AuditRun, alice_client: Client) -> None:
    overview = _csv(alice_client.get("/?format=csv"))
    assert overview[1][:2] == ["111122223333", "sandbox"] and overview[1][9] == "13"
    findings = _csv(alice_client.get("/findings.csv?account=111122223333&status=open"))
    assert len(findings) == 14
    root = _csv(alice_client.get("/accounts/111122223333/root-usage.csv"))
    assert root[1][:3] == ["111122223333", "password", "2026-10-28T09:14:55Z"]
    runs = _csv(alice_client.get("/accounts/111122223333/runs.csv"))
    assert runs[1][0] == str(imported.pk) and runs[1][10] == imported.report.sha256  # type: ignore[union-attr]


def test_the_raw_report_downloads_byte_for_byte(imported: AuditRun, alice_client: Client, sample_bytes: bytes) -> None:
    response = alice_client.get(f"/runs/{imported.pk}/report.csv")
    assert response.status_code == 200 and response.content == sample_bytes
    assert gzip.decompress(bytes(imported.report.compressed)) == sample_bytes  # type: ignore[union-attr]


def test_every_name_iam_allows_has_a_user_page_and_breaks_no_page(sandbox: AwsAccount, personas: dict[str, Client]) -> None:
    from django.urls import reverse

    from tests.reports import build_report, root_row, user_row

    names = ["aZ09+=,.@_-", "x" * 64, "=cmd", "@admin", "+1", "-x", "a.b,c"]
    rows = [user_row(n, password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00") for n in names]
    report_import(account=sandbox, content=build_report(root_row(), *rows), generated_at=SAMPLE_T)
    viewer = personas["viewer"]
    for page in ("/", "/findings/", "/changes/?since=2020-01-01", "/accounts/111122223333/", "/accounts/111122223333/owners/"):
        assert viewer.get(page).status_code == 200, page
    for name in names:
        response = viewer.get(reverse("audits:principal-detail", args=[sandbox.account_id, name]))
        assert response.status_code == 200 and response.context["name"] == name, name
