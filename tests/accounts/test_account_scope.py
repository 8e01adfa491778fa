"""Users restricted to some accounts: every page, CSV and pack shows only those accounts; the rest do not exist for them."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponseBase
from django.test import Client
from django.urls import resolve

from accounts.models import AccountScope, AwsAccount
from accounts.services import account_create
from audits.models import Alert, AuditRun, Finding
from audits.services import report_import
from people.models import OwnerLink, Person
from reviews.models import Review
from reviews.services import disposition_set, review_open
from staff.models import ChangeRecord
from tests.conftest import SAMPLE_T, client_for, member_of, staff_user
from tests.reports import build_report, root_row, user_row
from tests.test_views import FEED, SELF_SERVICE, all_urls

pytestmark = pytest.mark.django_db
HIDDEN_ID = "444455556666"
MARKERS = (HIDDEN_ID.encode(), b"ZedHidden", b"Hidden Payments")


@dataclass
class Fleet:
    visible: AuditRun  # the sample, in the sandbox account
    hidden: AuditRun  # another account, with its own user ZedHidden
    both: Review  # a review over both accounts


@pytest.fixture
def fleet(sandbox: AwsAccount, sample_bytes: bytes, django_capture_on_commit_callbacks) -> Fleet:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):  # with its alerts
        visible = report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    account = account_create(account_id=HIDDEN_ID, name="Hidden Payments", naming_preset="initial_lastname")
    content = build_report(
        root_row(password_last_used="2026-10-20T08:00:00+00:00"),
        user_row("ZedHidden", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00"),
    ).replace(b"111122223333", HIDDEN_ID.encode())
    with django_capture_on_commit_callbacks(execute=True):  # its alerts (root use) too
        hidden = report_import(account=account, content=content, generated_at=SAMPLE_T)
    assert Alert.objects.filter(account=account).exists()
    person = Person.objects.create(employee_id="9999", first_name="Zed", last_name="Hidden", email="zed@example.com")
    OwnerLink.objects.create(account=account, user_name="ZedHidden", person=person, linked_by="test")
    all_urls(visible)  # creates the sandbox's own signed review first
    both = review_open(period_start=date(2026, 9, 1), period_end=date(2026, 9, 30), accounts=[sandbox, account], actor=staff_user("preparer"))
    return Fleet(visible=visible, hidden=hidden, both=both)


def scoped(role: str, *accounts: AwsAccount) -> Client:
    user = member_of(role, f"scoped-{role}")
    scope = AccountScope.objects.create(user=user, reason="the sandbox team")
    scope.accounts.set(accounts)
    return client_for(user)


def client_user(client: Client) -> User:
    return User.objects.get(pk=client.session["_auth_user_id"])


def body(response: HttpResponseBase) -> bytes:
    """Everything a response shows: its bytes, a CSV's streamed rows, or every file inside a zip."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    if raw.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(raw)) as pack:
            return b"".join(pack.read(name) for name in pack.namelist())
    return raw


def hidden_urls(fleet: Fleet) -> list[str]:
    """Every URL with the hidden account's ids (its account, run, finding, user, owner link, and the review over both)."""
    finding = Finding.objects.filter(account=fleet.hidden.account, principal="ZedHidden").first()
    assert finding is not None
    ids = {
        "account_id": HIDDEN_ID,
        "run_id": str(fleet.hidden.pk),
        "finding_id": str(finding.pk),
        "name": "ZedHidden",
        "link_id": str(OwnerLink.objects.get(user_name="ZedHidden").pk),
        "review_id": str(fleet.both.pk),
        "employee_id": "9999",
    }
    every = set(all_urls(fleet.visible))
    return [u for u in all_urls(fleet.visible, **ids) if u not in every]


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_a_scoped_user_sees_nothing_of_another_account_on_any_page(fleet: Fleet, role: str) -> None:
    client = scoped(role, fleet.visible.account)
    seen = 0
    for url in all_urls(fleet.visible):
        if url in SELF_SERVICE:
            continue
        response = client.get(url, follow=True)  # an action's address opens its page: followed, and read too
        policy = resolve(urlsplit(url).path).func.policy  # type: ignore[attr-defined]
        if policy.get is None:  # an action, not a page: refused, or not a GET
            expected: tuple[int, ...] = (405,) if policy.allows(client_user(client), "GET") else (403,)
        else:
            refused = url.startswith("/trail/") or not policy.allows(client_user(client), "GET")  # the trail; an admin's page
            expected = (403,) if refused else (404,) if url == FEED else (200,)
        assert response.status_code in expected, url
        shown = body(response)
        assert not any(m in shown for m in MARKERS), url
        seen += b"111122223333" in shown
    assert seen >= 10  # the pages do show the account the user may see
    # The fleet-wide tables and their CSVs, over all time (the pages above start at the last sign-off).
    since = "since=2026-01-01"
    for url in (
        f"/?{since}",
        f"/?{since}&format=csv",
        f"/findings/?status=all&{since}",
        f"/changes/?{since}",
        *(f"/changes/?{since}&format=csv&table={t}" for t in ("findings", "new_users", "removed_users", "root")),
        "/alerts/?format=csv",
    ):
        shown = body(client.get(url))
        assert b"111122223333" in shown or url.endswith("removed_users"), url
        assert not any(m in shown for m in MARKERS), url
    for url in hidden_urls(fleet):
        response = client.get(url)
        # The people directory is the organisation's, not an account's: the person shows, their hidden user does not.
        assert response.status_code in ((200,) if url.startswith("/people/") else (403, 404, 405)), url
        assert not any(m in body(response) for m in MARKERS), url


def test_without_a_scope_the_same_pages_show_every_account(fleet: Fleet) -> None:
    client = client_for(member_of("viewer", "unscoped"))
    overview = body(client.get("/"))
    assert HIDDEN_ID.encode() in overview and b"Your account scope" not in overview
    assert b"ZedHidden" in body(client.get("/findings.csv"))
    assert b"ZedHidden" in body(client.get("/access.csv"))
    assert client.get(f"/accounts/{HIDDEN_ID}/").status_code == 200
    assert client.get(f"/reviews/{fleet.both.pk}/").status_code == 200
    assert client.get("/trail/").status_code == 200


def test_an_empty_scope_shows_no_account_at_all(fleet: Fleet) -> None:
    client = scoped("viewer")
    overview = client.get("/")
    assert (
        overview.context["count"] == 0 and b"Your account scope" in overview.content and b"the sandbox team" in overview.content
    )
    assert body(client.get("/findings.csv")).count(b"\n") == 1  # the header alone
    assert client.get("/accounts/111122223333/").status_code == 404


def test_an_empty_scope_is_a_scope_for_organisation_wide_pages_and_the_admin_too(fleet: Fleet) -> None:
    """Issue 30 point 9: a scope with no account limits to none; it is not "no scope". An admin so limited may not
    write organisation-wide records nor read the trail, and a superuser so limited is kept out of the admin site."""
    client = scoped("admin")
    assert client.get("/trail/").status_code == 403
    before = ChangeRecord.objects.count()
    assert client.post("/standards/new/", {"name": "everyone", "preset": "initial_lastname"}).status_code == 403
    assert ChangeRecord.objects.count() == before
    root = User.objects.create_superuser("root-of-none", password="correct horse battery")
    AccountScope.objects.create(user=root, reason="nobody's accounts")
    assert client_for(root).get("/admin/accounts/awsaccount/").status_code == 302


def test_a_scoped_reviewer_runs_and_reviews_only_their_accounts(fleet: Fleet, aws: None) -> None:
    client = scoped("reviewer", fleet.visible.account)
    assert client.post(f"/accounts/{HIDDEN_ID}/run").status_code == 404
    before = AuditRun.objects.filter(account=fleet.hidden.account).count()
    assert client.post("/run-all").status_code == 302
    assert AuditRun.objects.filter(account=fleet.hidden.account).count() == before
    assert AuditRun.objects.filter(account=fleet.visible.account, source="fetch").exists()

    # Choosing a hidden account is refused; choosing none means every account the reviewer may see.
    assert client.post("/reviews/new", {"period": "2026-08", "accounts": [fleet.hidden.account.pk]}).status_code == 302
    assert not Review.objects.filter(period_start=date(2026, 8, 1)).exists()
    assert client.post("/reviews/new", {"period": "2026-08"}).status_code == 302
    review = Review.objects.get(period_start=date(2026, 8, 1))
    assert list(review.accounts.all()) == [fleet.visible.account]
    # The review over both accounts cannot be signed or corrected by them.
    assert client.post(f"/reviews/{fleet.both.pk}/sign", {"comment": "ok"}).status_code == 404
    assert not fleet.both.signoffs.exists()
    # Nor can a hidden finding be decided in their own review, or even named back to them.
    hidden = Finding.objects.filter(account=fleet.hidden.account).first()
    assert hidden is not None
    response = client.post(f"/reviews/{review.pk}/findings/{hidden.pk}", {"kind": "false_positive", "justification": "x"})
    assert response.status_code == 404 and not any(m in response.content for m in MARKERS)
    assert not review.dispositions.exists()


def test_a_scoped_superuser_is_kept_out_of_the_admin_site(fleet: Fleet) -> None:
    root = User.objects.create_superuser("scoped-root", password="correct horse battery")
    client = client_for(root)
    assert client.get("/admin/").status_code == 200
    AccountScope.objects.create(user=root, reason="one team").accounts.set([fleet.visible.account])
    response = client.get("/admin/accounts/awsaccount/")
    assert response.status_code == 302 and HIDDEN_ID.encode() not in response.content


def test_granting_a_scope_on_the_users_page_is_in_the_audit_trail(fleet: Fleet) -> None:
    lead = member_of("admin", "lead")
    bob = User.objects.create_user("bob", password="correct horse battery")
    response = client_for(lead).post(
        f"/users/{bob.pk}/scope", {"accounts": fleet.visible.account.account_id, "reason": "sandbox team only"}
    )
    assert response.status_code == 302
    record = ChangeRecord.objects.get(action="accountscope.added")
    assert (record.actor, record.after["reason"], record.after["accounts"]) == (
        "lead",
        "sandbox team only",
        ["sandbox (111122223333)"],
    )


def test_a_scoped_user_learns_nothing_of_reviews_outside_their_scope(fleet: Fleet) -> None:
    """The review over both accounts is decided and signed by someone else, later than the sandbox's own review."""
    from django.utils import timezone

    from reviews.selectors import undecided
    from reviews.services import Decision, disposition_set, review_sign

    visible_finding = Finding.objects.filter(account=fleet.visible.account).first()
    for finding in [*undecided(fleet.both), visible_finding]:
        disposition_set(
            review=fleet.both, finding=finding, decision=Decision(kind="false_positive", justification="x"),
            actor=staff_user("preparer"), today=timezone.now().date(),
        )  # fmt: skip
    fleet.both.title = "Secret both-accounts review"
    fleet.both.save()
    review_sign(review=fleet.both, actor=staff_user("hidden-signer"), comment="ok", now=timezone.now())
    decided = fleet.both.dispositions.filter(finding__account=fleet.visible.account).first()
    assert decided is not None
    client = scoped("viewer", fleet.visible.account)
    for url in ("/reviews/", "/reviews/?format=csv", f"/findings/{decided.finding_id}/", "/"):
        shown = body(client.get(url))
        assert b"hidden-signer" not in shown and b"Secret both-accounts review" not in shown, url
    # Without a scope, the same pages show it.
    unscoped = client_for(member_of("viewer", "everyone"))
    assert b"hidden-signer" in body(unscoped.get("/reviews/"))
    assert b"Secret both-accounts review" in body(unscoped.get(f"/findings/{decided.finding_id}/"))


def test_a_scoped_admin_cannot_change_what_applies_to_every_account(fleet: Fleet) -> None:
    """Red team: set the organisation's regex to .*, exempt networkAdmin organisation-wide, or import a one-row
    directory that marks everyone else as departed. Each reaches accounts outside the scope: refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import NamingExemption, NamingStandard
    from staff.models import ChangeRecord

    lead = member_of("admin", "scoped-lead")
    AccountScope.objects.create(user=lead, reason="sandbox only").accounts.set([fleet.visible.account])
    client = client_for(lead)
    standard = NamingStandard.objects.get(name="initial_lastname")
    trail = ChangeRecord.objects.count()
    edits = {
        f"/standards/{standard.pk}/": {"name": standard.name, "preset": "custom", "custom_regex": ".*", "is_default": "on"},
        "/standards/new/": {"name": "anything goes", "preset": "custom", "custom_regex": ".*", "is_default": "on"},
        f"/standards/{standard.pk}/exemptions": {"user_name": "networkAdmin", "reason": "ours"},
        "/people/": {"file": SimpleUploadedFile("hr.csv", b"employee_id,first_name,last_name,email,active\\n1,Eve,Only,,true\\n")},
    }
    for url, data in edits.items():
        assert client.post(url, data).status_code == 403, url
    standard.refresh_from_db()
    assert (standard.preset, standard.custom_regex) == ("initial_lastname", "")
    assert not NamingExemption.objects.filter(user_name="networkAdmin").exists()
    assert Person.objects.filter(active=True).exists() and not Person.objects.filter(last_name="Only").exists()
    assert ChangeRecord.objects.count() == trail
    # What stays theirs: choosing a standard for an account in their scope.
    response = client.post(f"/accounts/{fleet.visible.account.account_id}/standard", {"standard": str(standard.pk)})
    assert response.status_code == 302


def test_carried_decisions_of_a_review_outside_the_scope_show_nothing_of_it(fleet: Fleet) -> None:
    """Issue 28 point 7: the review over both accounts decided the sandbox's findings (a ticket, a due date) and was
    signed; the sandbox's next review proposes those decisions again, but only to readers who may see that review."""
    from django.utils import timezone

    from reviews.selectors import undecided
    from reviews.services import Decision, carried_decisions, review_sign

    today = timezone.now().date()
    # A sandbox finding open now (the sandbox's own earlier review accepted the sample's).
    newcomer = user_row("CNewcomer", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00", mfa_active="false")
    report_import(account=fleet.visible.account, content=build_report(root_row(), newcomer), generated_at=SAMPLE_T + timedelta(days=2))
    assert undecided(fleet.both).filter(account=fleet.visible.account).exists()
    planned = Decision(kind="remediation_planned", owner="zed", ticket="SEC-HIDDEN-1036", due_on=today + timedelta(days=20))
    for finding in undecided(fleet.both):
        disposition_set(review=fleet.both, finding=finding, decision=planned, actor=staff_user("preparer"), today=today)
    review_sign(review=fleet.both, actor=staff_user("hidden-signer"), comment="ok", now=timezone.now())
    own = review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[fleet.visible.account], actor=staff_user("preparer"))
    assert carried_decisions(review=own, today=today)  # the proposals exist, for a reader who may see their review
    client = scoped("reviewer", fleet.visible.account)
    page = body(client.get(f"/reviews/{own.pk}/?account={fleet.visible.account.account_id}"))
    assert b"SEC-HIDDEN-1036" not in page and b"Carried" not in page
    # Nor can the scoped reviewer carry one over by id.
    finding = carried_decisions(review=own, today=today)[0].finding
    refused = client.post(f"/reviews/{own.pk}/carry", {"finding": [finding.pk], "account": fleet.visible.account.account_id})
    assert b"no earlier decision to carry over" in body(refused)
    unscoped = client_for(member_of("reviewer", "everyone"))
    assert b"SEC-HIDDEN-1036" in body(unscoped.get(f"/reviews/{own.pk}/?account={fleet.visible.account.account_id}"))


def test_every_page_of_a_scoped_login_names_no_account_outside_its_scope_where_an_unscoped_one_does(fleet: Fleet) -> None:
    """Issue 28 point 7: the scoped crawl compared with an unscoped one, over summaries too: carried decisions of a
    review over both accounts, an Identity Center run's organisation-wide notes, and a run whose error names the
    hidden account. A scoped page shows no id or name of an account outside the scope; the same page unscoped does
    (so the data is there to leak)."""
    from django.utils import timezone

    from reviews.selectors import undecided
    from reviews.services import Decision, review_sign

    today, sandbox = timezone.now().date(), fleet.visible.account
    newcomer = user_row("CNewcomer", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00", mfa_active="false")
    report_import(account=sandbox, content=build_report(root_row(), newcomer), generated_at=SAMPLE_T + timedelta(days=2))
    planned = Decision(kind="remediation_planned", owner="zed", ticket="SEC-HIDDEN-1036", due_on=today + timedelta(days=20))
    for finding in undecided(fleet.both):
        disposition_set(review=fleet.both, finding=finding, decision=planned, actor=staff_user("preparer"), today=today)
    review_sign(review=fleet.both, actor=staff_user("hidden-signer"), comment="ok", now=timezone.now())
    own = review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[sandbox], actor=staff_user("preparer"))
    now = timezone.now()
    AuditRun.objects.create(
        account=sandbox, source="sso", status="succeeded", requested_at=now, requested_by="t",
        warnings=[f"25 users, 4 groups, 6 permission sets; access paths in {HIDDEN_ID} (Hidden Payments): 95 added"],
    )  # fmt: skip
    AuditRun.objects.create(
        account=sandbox, source="fetch", status="failed", requested_at=now + timedelta(seconds=1), requested_by="t",
        error=f"the report is of account {HIDDEN_ID} (Hidden Payments), not {sandbox.account_id}",
    )  # fmt: skip
    outside = [*MARKERS, b"SEC-HIDDEN-1036"]
    urls = [*all_urls(fleet.visible), f"/reviews/{own.pk}/?account={sandbox.account_id}", "/identity-center/", "/?format=csv"]
    scoped_client = scoped("reviewer", sandbox)
    everyone = client_for(member_of("reviewer", "everyone"))
    leaks_unscoped = 0
    for url in urls:
        if url in SELF_SERVICE or url.startswith("/trail/"):
            continue
        policy = resolve(urlsplit(url).path).func.policy  # type: ignore[attr-defined]
        if policy.get is None:
            continue
        shown = body(scoped_client.get(url))
        assert not [m for m in outside if m in shown], url
        leaks_unscoped += any(m in body(everyone.get(url)) for m in outside)
    assert leaks_unscoped >= 5  # the same pages, unscoped, do show the other account
