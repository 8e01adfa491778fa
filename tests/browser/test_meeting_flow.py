"""The review meeting in a real headless Chromium (Debian's), driven by Playwright: log in, walk the flow, download a CSV.

Screenshots of every page land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect, sync_playwright

from accounts.models import AwsAccount
from accounts.services import account_create
from audits.models import Finding
from audits.services import report_import
from tests.audits.test_dashboard import load_fleet
from tests.conftest import ROOT, SAMPLE_REPORT, member_of

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# A loaded 2-core CI machine renders slower than a laptop: wait up to 15 s for what a page should show.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is not installed: run `make install`")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def meeting(transactional_db: None) -> Iterator[None]:
    load_fleet(3, days=10)
    sandbox = account_create(account_id="111122223333", name="sandbox", environment="sandbox", naming_preset="initial_lastname")
    report_import(account=sandbox, content=SAMPLE_REPORT.read_bytes(), generated_at=datetime(2026, 11, 1, tzinfo=UTC))
    member_of("viewer", "alice")  # an auditor reads the whole meeting
    yield  # the database is emptied by manage.py flush, the one way past the triggers that freeze sign-offs


def downloaded_csv(page: Page, path: Path) -> list[list[str]]:
    """Click the page's "Download CSV" link, save the file to `path` and read its rows."""
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    download.value.save_as(path)
    return list(csv.reader(path.open(newline="")))


def auditor_logs_in(page: Page, url: str) -> None:
    """Alice, an auditor (a viewer: no second factor), logs in at `url`'s login page and lands on `url`."""
    page.goto(url)
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()


def verified_pack(page: Page, tmp_path: Path) -> Path:
    """Download the review page's evidence pack, unpack it under `tmp_path` and check it as an auditor would
    (`sha256sum -c MANIFEST.sha256`); the pack's folder."""
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the evidence pack (ZIP)").click()
    pack = tmp_path / "evidence.zip"
    download.value.save_as(pack)
    with zipfile.ZipFile(pack) as archive:
        archive.extractall(tmp_path / "pack")
    (root,) = (tmp_path / "pack").iterdir()
    verified = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=root, capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return root


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_meeting_flow(browser: Browser, live_server, meeting: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    shot(page, "01-login")
    auditor_logs_in(page, live_server.url + "/")

    # The agenda: every account in one table, grouped by environment; each number opens exactly the rows it counts.
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    expect(page.locator("table.overview")).to_have_count(1)
    expect(page.locator("table.overview tr.group")).to_have_count(3)
    numbers = page.locator("table.overview a.count")
    targets = [(numbers.nth(i).inner_text(), numbers.nth(i).get_attribute("href")) for i in range(numbers.count())]
    assert len(targets) >= 6
    for count, href in targets:
        page.goto(live_server.url + str(href))
        expect(page.locator("#finding-table p.actions")).to_contain_text(f"{count} finding")
    page.goto(live_server.url + "/")
    expect(page.get_by_role("link", name="sandbox")).to_be_visible()
    shot(page, "02-overview")

    # Filtering with htmx: the table changes without a page load, and the URL follows.
    page.get_by_label("Environment").select_option("prod")
    expect(page.locator("table.overview tr.group")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"environment=prod"))
    page.get_by_label("Environment").select_option("")

    # Since a day after every report, nothing is new: the quiet accounts are one line per environment, opened in place.
    page.goto(live_server.url + "/?since=2026-11-25")
    summary = page.locator("tr.quiet-summary").first
    expect(summary).to_contain_text("with nothing to discuss")
    quiet_rows = page.locator("tbody.quiet").first.locator("tr")
    expect(quiet_rows.first).to_be_hidden()
    summary.get_by_role("checkbox").check()
    expect(quiet_rows.first).to_be_visible()

    # An account: the root-usage timeline and the meeting's sections.
    page.goto(live_server.url + "/accounts/111122223333/")
    expect(page.locator("svg.timeline")).to_be_visible()
    expect(page.get_by_role("heading", name="Shared accounts")).to_be_visible()
    expect(page.get_by_text("a name that fits:")).to_be_visible()
    shot(page, "03-account")
    # Printed for the auditors' file: no navigation, every collapsed section open, closed again after.
    closed = page.evaluate("document.querySelectorAll('details:not([open])').length")
    assert closed > 0
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    page.emulate_media(media="screen")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") == closed

    # A finding and its history.
    page.locator("section.meeting-section", has=page.get_by_role("heading", name="Shared accounts")).get_by_role(
        "link", name="user.shared_account"
    ).first.click()
    expect(page.get_by_role("heading", name="History across runs")).to_be_visible()
    expect(page.locator("table").last).to_contain_text("opened")
    shot(page, "04-finding")

    # A principal over time.
    page.locator("dt:has-text('Principal') + dd a").click()
    expect(page.get_by_role("heading", name="State over time")).to_be_visible()
    shot(page, "05-principal")

    # Changes since the last review.
    page.get_by_role("link", name="Changes since review").click()
    page.get_by_label("Since (last review)").fill("2026-10-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="New users")).to_be_visible()
    shot(page, "06-changes")

    # Findings across accounts, then the CSV of exactly those rows.
    page.get_by_role("link", name="Findings", exact=True).click()
    page.get_by_label("Severity").select_option("high")
    expect(page.locator("#finding-table")).to_contain_text("high")
    shot(page, "07-findings")
    table = downloaded_csv(page, tmp_path / "findings.csv")
    assert table[0][:3] == ["account_id", "account_name", "check_id"]
    assert {r[3] for r in table[1:]} == {"high"}
    assert len(table) - 1 == Finding.objects.filter(status="open", severity="high").count()
    context.close()


def test_who_has_access_where(browser: Browser, live_server, meeting: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hr = tmp_path / "hr.csv"
    hr.write_text("employee_id,first_name,last_name,email,active\n1234,John,Smith,,true\n1402,Anna,White,,false\n")
    call_command("import_people", str(hr))
    # Anna White also reaches the sandbox through IAM Identity Center: her user there carries her employee number.
    from django.utils import timezone

    from audits.models import AuditRun, RunSource, RunStatus
    from identitycenter.access import Assignment, Directory, PermissionSet, SsoGroup, SsoUser
    from identitycenter.services import identity_center_ingest

    anna = SsoUser("u-1402", "anna.white", "anna.white@example.com", "1402")
    admin = PermissionSet("arn:aws:sso:::permissionSet/ssoins-1/ps-1", "AdministratorAccess", ("arn:aws:iam::aws:policy/AdministratorAccess",))
    now = timezone.now()
    run = AuditRun.objects.create(
        account=AwsAccount.objects.get(account_id="111122223333"), source=RunSource.IDENTITY_CENTER, status=RunStatus.RUNNING,
        requested_at=now, generated_at=now,
    )  # fmt: skip
    identity_center_ingest(run=run, directory=Directory(
        users=[anna], groups=[SsoGroup("g-1", "Admins", frozenset({"u-1402"}))], permission_sets=[admin],
        assignments=[Assignment("111122223333", admin.arn, "GROUP", "g-1")],
    ))  # fmt: skip
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    auditor_logs_in(page, live_server.url + "/people/")

    expect(page.get_by_role("heading", name="People directory")).to_be_visible()
    page.get_by_label("Search").fill("white")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("left")
    shot(page, "08-people")

    page.get_by_role("link", name="1402").click()
    expect(page.get_by_role("heading", name=re.compile("Access: 1 IAM user"))).to_be_visible()
    expect(page.locator("tbody").first).to_contain_text("AWhite")
    # ...and her Identity Center path: the same person, another way in.
    expect(page.get_by_role("heading", name="Access through IAM Identity Center: 1 path")).to_be_visible()
    expect(page.locator("table.access-paths tbody tr")).to_contain_text("anna.white")
    expect(page.locator("table.access-paths tbody tr")).to_contain_text("through group Admins")
    shot(page, "09-person")
    table = downloaded_csv(page, tmp_path / "access.csv")
    assert [(r[0], r[4], r[6]) for r in table[1:]] == [("1402", "111122223333", "AWhite")]

    page.goto(live_server.url + "/accounts/111122223333/owners/")
    expect(page.locator("tr", has_text="AWhite")).to_contain_text("(left)")
    expect(page.locator("tr", has_text="networkAdmin")).to_contain_text("nobody")
    shot(page, "10-owners")
    page.get_by_role("link", name="Naming", exact=True).click()
    expect(page.get_by_role("heading", name="Naming standards")).to_be_visible()
    shot(page, "11-standards")
    context.close()


def test_a_whole_review(browser: Browser, live_server, meeting: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Rita opens November's review and decides every finding of every account; four-eyes: Sam signs it off; the pack verifies."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from reviews.models import Disposition, Review, SignOff

    def log_in(page: Page, name: str) -> None:
        device = TOTPDevice.objects.create(user=member_of("reviewer", name), name="phone", confirmed=True)
        page.goto(live_server.url + "/reviews/")
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Code from your authenticator app").fill(
            f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        )
        page.get_by_role("button", name="Verify").click()

    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    log_in(page, "rita")

    expect(page.get_by_role("heading", name="Reviews")).to_be_visible()
    page.get_by_label("Month under review").fill("2026-11")
    page.get_by_role("button", name="Open review").click()
    expect(page.get_by_role("heading", name=re.compile("IAM review November 2026"))).to_be_visible()
    review = Review.objects.get()
    shot(page, "12-review")

    # The keyboard walks the accounts of the review: n next, p previous (not while typing).
    first = page.url
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"\?account=\d{12}$"))
    assert page.url != first
    page.keyboard.press("p")
    expect(page.get_by_role("link", name=re.compile("^Next account"))).to_be_visible()
    ticket = page.locator("form#bulk").get_by_label("Ticket", exact=True)
    page.locator("form#bulk").get_by_text("Plan remediation", exact=True).first.click()
    ticket.press("n")  # typing stays typing
    expect(ticket).to_have_value("n")
    ticket.fill("")

    # Walk account by account: the first finding is an accepted risk decided on its row, then one decision for
    # the rest of each account, in a few clicks.
    accounts = page.locator("nav.review-accounts a")
    for i in range(accounts.count()):
        accounts.nth(i).click()
        expect(accounts.nth(i)).to_have_attribute("aria-current", "page")  # the account's page, not the last one's
        if page.locator("tr[id^=finding-]").filter(has_not=page.locator("p.decision")).count() == 0:
            continue
        if i == 0:
            row = page.locator("tr[id^=finding-]").filter(has_not=page.locator("p.decision")).first
            row.get_by_text("Accept the risk", exact=True).first.click()  # opens only the fields this decision needs
            row.get_by_label("Justification").fill("break-glass login, sealed in the safe")
            row.get_by_label("Risk owner").fill("CISO")
            row.get_by_label("Accepted until").fill((datetime.now(UTC).date() + timedelta(days=120)).isoformat())
            row.get_by_role("button", name="Accept the risk").click()
            error = page.locator("tr.refused p.error")  # refused beside its row, the input kept
            expect(error).to_contain_text("at most 90 days ahead")
            expect(page.locator("tr.refused").get_by_label("Risk owner")).to_have_value("CISO")
            page.locator("tr.refused").get_by_label("Accepted until").fill((datetime.now(UTC).date() + timedelta(days=30)).isoformat())
            page.locator("tr.refused").get_by_role("button", name="Accept the risk").click()
            expect(page.locator("ul.messages")).to_contain_text("Decided")
        bulk = page.locator("form#bulk")
        bulk.get_by_label("every finding of this account still without a decision").check()
        bulk.get_by_text("Plan remediation", exact=True).first.click()
        bulk.get_by_label("Ticket", exact=True).fill(f"SEC-{i}")
        bulk.get_by_label("Due").fill((datetime.now(UTC).date() + timedelta(days=14)).isoformat())
        bulk.get_by_role("button", name="Plan remediation").click()
        expect(page.locator("ul.messages")).to_contain_text("Decided")
    decided = Disposition.objects.filter(review=review).count()
    expect(page.locator("dl.facts")).to_contain_text(", 0 still without a decision")
    assert decided == Finding.objects.filter(account__reviews=review).exclude(status="resolved").count()
    shot(page, "13-review-decided")

    # Four-eyes: Rita prepared the review, so she is told why she may not sign it, and Sam signs it.
    expect(page.locator("#sign-refusal")).to_contain_text("four-eyes: a second reviewer who did not prepare this review")
    expect(page.get_by_label("Sign-off comment")).to_have_count(0)
    context.clear_cookies()
    log_in(page, "sam")
    page.goto(live_server.url + f"/reviews/{review.pk}/")
    page.get_by_label("Sign-off comment").fill("November reviewed; remediation tickets filed")
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator("p.signed")).to_contain_text("Signed by sam")
    shot(page, "14-review-signed")
    assert SignOff.objects.get().snapshot["review"]["id"] == review.pk

    verified_pack(page, tmp_path)

    # Late evidence (issue 23): a root sign-in of the hour before the sign-off, imported after it through the account
    # page. The signed review's page and CSV stay as signed; the late sign-in is listed beside them, and first on the
    # next review, which then decides it and packs it.
    signed_at = SignOff.objects.get().signed_at
    # The page's content, less the late-evidence section and the per-request CSRF tokens of its forms.
    content = """() => { const main = document.querySelector("main").cloneNode(true);
        main.querySelectorAll("section.late-evidence, input[name=csrfmiddlewaretoken]").forEach(e => e.remove());
        return main.innerHTML; }"""
    page.goto(live_server.url + f"/reviews/{review.pk}/")
    signed_main = page.evaluate(content)
    signed_csv = context.request.get(live_server.url + f"/reviews/{review.pk}/?format=csv").body()
    from demo.trail import log_file, sign_in

    late_file = tmp_path / "late-root.json"
    late_file.write_bytes(log_file(sign_in(signed_at - timedelta(hours=1), mfa="No", event_id="late-root-sign-in")))
    page.goto(live_server.url + "/accounts/111122223333/")
    page.get_by_text("Import CloudTrail files").click()
    page.get_by_label("CloudTrail files (.json or .json.gz)").set_input_files(str(late_file))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("ul.messages")).to_contain_text("1 root event (1 new)")
    expect(page.locator("section.band")).to_contain_text("arrived late")  # root used since the review, though before it

    page.goto(live_server.url + f"/reviews/{review.pk}/")
    late = page.locator("section.late-evidence")
    expect(late).to_contain_text("Arrived after sign-off")
    expect(late).to_contain_text("root console sign-in, from file late-root.json")
    assert page.evaluate(content) == signed_main  # the rest of the page, exactly as signed
    assert context.request.get(live_server.url + f"/reviews/{review.pk}/?format=csv").body() == signed_csv
    shot(page, "15-review-signed-late-evidence")

    page.goto(live_server.url + "/reviews/")
    page.get_by_label("Month under review").fill("2026-12")
    page.get_by_role("button", name="Open review").click()
    expect(page.get_by_role("heading", name=re.compile("IAM review December 2026"))).to_be_visible()
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0].startswith("Late evidence"), headings  # first on the next review's page
    expect(page.locator("section.late-evidence tr.late")).to_have_count(1)
    shot(page, "16-next-review-late-evidence")
    following = Review.objects.exclude(pk=review.pk).get()
    late_findings = Finding.objects.filter(account__account_id="111122223333", subject="late-root-sign-in")
    assert late_findings.count() == 1 and all(f.status == "open" for f in late_findings)  # its root session, critical
    from reviews.selectors import review_findings

    assert set(late_findings) <= set(review_findings(following))  # the next review decides it
    context.close()


def test_every_page_fits_a_phone_and_its_tables_scroll_inside(browser: Browser, live_server, meeting: None) -> None:  # type: ignore[no-untyped-def]
    """At 390 x 844 no page scrolls sideways: a wide table scrolls within itself; no date or time breaks over lines."""
    from reviews.services import review_open

    review = review_open(
        period_start=datetime(2026, 11, 1).date(), period_end=datetime(2026, 11, 30).date(),
        accounts=list(AwsAccount.objects.all()), actor=member_of("reviewer", "rita"),
    )  # fmt: skip
    finding = Finding.objects.filter(account__account_id="111122223333").first()
    assert finding is not None
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    auditor_logs_in(page, live_server.url + "/")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    paths = [
        "/", "/findings/", f"/findings/{finding.pk}/", "/changes/", "/root-activity/", "/identity-center/", "/alerts/", "/people/", "/standards/", "/reviews/",
        f"/reviews/{review.pk}/", "/trail/", "/accounts/111122223333/", "/accounts/111122223333/users/networkAdmin/",
        "/accounts/111122223333/owners/", "/runs/", f"/reviews/{review.pk}/?print=all",
    ]  # fmt: skip
    wide, wrapped, times = {}, {}, 0
    for path in paths:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
        # An inline element broken over two lines has two client rectangles.
        lines = page.evaluate("[...document.querySelectorAll('time')].map(t => [t.textContent, t.getClientRects().length])")
        times += len(lines)
        broken = [text for text, rects in lines if rects > 1]
        if broken:
            wrapped[path] = broken
    assert wide == {}
    assert wrapped == {}
    assert times > 50  # the pages do show dates: the check above has something to check
    # The agenda and the review show the columns a meeting needs on the phone's screen, as stacked rows: no cell of
    # theirs lies off to the side in a scrolling box.
    off_screen = """sel => [...document.querySelectorAll(sel)].filter(td => td.getBoundingClientRect().right > window.innerWidth + 1)
        .map(td => td.dataset.label)"""
    for path, cells in (("/", "table.agenda td[data-label]"), (f"/reviews/{review.pk}/", "table.review td[data-label]")):
        page.goto(live_server.url + path)
        assert page.locator(cells).count() > 0, path
        assert page.evaluate(off_screen, cells) == [], path
    shot(page, "21-agenda-on-a-phone")
    context.close()


def test_root_activity_across_the_fleet_and_on_an_accounts_timeline(browser: Browser, live_server, meeting: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """CloudTrail's root events on the fleet's Root activity page (filtered, downloaded) and on the account's
    timeline, where a use the credential report saw and CloudTrail did not says why."""
    from cloudtrail.services import cloudtrail_import
    from demo.trail import api_call, log_file, sign_in

    sandbox = AwsAccount.objects.get(account_id="111122223333")
    now = datetime.now(tz=UTC).replace(microsecond=0)
    records = [
        sign_in(now - timedelta(days=3), mfa="No", ip="198.51.100.5", event_id="in-nomfa"),
        sign_in(now - timedelta(days=2), success=False, mfa=None, ip="192.0.2.9", event_id="failed"),
        api_call(now - timedelta(days=1), "CreateUser", event_id="call"),
    ]
    cloudtrail_import(account=sandbox, files=[("trail.json", log_file(*records))], actor="test")
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    auditor_logs_in(page, live_server.url + "/root-activity/")
    expect(page.get_by_role("heading", name="Root activity")).to_be_visible()
    expect(page.locator("table.root-events tbody tr")).to_have_count(3)
    expect(page.get_by_role("link", name="Root activity")).to_have_attribute("aria-current", "page")
    page.get_by_label("Kind").select_option("sign_in")
    page.get_by_label("MFA").select_option("no")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"kind=sign_in&mfa=no"))
    expect(page.locator("table.root-events tbody tr")).to_have_count(1)
    expect(page.locator("table.root-events tbody tr").first).to_contain_text("198.51.100.5")
    rows = downloaded_csv(page, tmp_path / "root.csv")
    assert [r[rows[0].index("event_id")] for r in rows[1:]] == ["in-nomfa"] and rows[0][0] == "account_id"
    shot(page, "20-root-activity")

    # The account's timeline: a CloudTrail lane with one mark per event, its time, address and MFA on hover.
    page.locator("table.root-events tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/111122223333/#root-usage$"))
    marks = page.locator("svg.timeline circle.mark-cloudtrail")
    expect(marks).to_have_count(3)
    titles = [marks.nth(i).locator("title").text_content() for i in range(3)]
    assert any("console sign-in" in str(t) and "from 198.51.100.5, no MFA" in str(t) for t in titles), titles
    expect(page.locator("#cloudtrail-events tbody tr")).to_have_count(3)
    # The sample report's root use (2026) is older than anything CloudTrail was read for: it says so.
    expect(page.locator("[data-gap]").first).to_contain_text("no:")
    shot(page, "21-account-root-timeline")
    context.close()
