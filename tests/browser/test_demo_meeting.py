"""The meeting, round two, in Chromium on `make run`'s demo (issue 24): the three demo logins hold a review end to end
(prepared by the admin, who is told why they may not sign; signed by the second reviewer; downloaded and printed by the
auditor), and at 1440 px no page of the walk is wider than the window nor the agenda than its box."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from accounts.models import AwsAccount
from reviews.models import Review, SignOff
from tests.browser.test_meeting_flow import browser, shot, verified_pack  # noqa: F401  (browser: a fixture)

WIDE = {"width": 1440, "height": 900}


@pytest.fixture
def demo(transactional_db: None, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """`make run`'s demo organisation (40 daily reports per account) and its three logins, as it prints them."""
    settings.IAMWATCH_KNOWN_NETWORKS = ["203.0.113.0/24"]  # as make run sets it
    settings.IAMWATCH_REQUIRE_2FA = False  # as make run sets it
    out = StringIO()
    call_command("load_demo", days=40, stdout=out)  # long enough for the story: web-prod's fresh sign-in without MFA
    logins = dict(re.findall(r"Demo login: user '([^']+)', password '([^']+)'", out.getvalue()))
    assert set(logins) == {"demo", "demo-reviewer", "demo-auditor"}
    return logins


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def fits(page: Page) -> dict[str, int]:
    """How wide the page is, and by how much its widest table overflows the box it sits in (0: it fits)."""
    return page.evaluate(
        """() => ({page: document.documentElement.scrollWidth,
                   table: Math.max(0, ...[...document.querySelectorAll('main table')].map(t => t.scrollWidth - t.parentElement.clientWidth))})"""
    )


# The innermost elements that reach past the window's right edge, by tag, class and the start of their text.
WIDEST = """() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth
    && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth))
    .slice(0, 5).map(e => { const box = e.closest('table, form, section, nav, ul'); return `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().width|0}px in ${box ? box.tagName.toLowerCase() + '#' + box.id + '.' + box.className + ' ' + (box.getBoundingClientRect().width|0) + 'px' : 'main'}: ${(e.textContent || '').trim().slice(0, 60)}`; })"""


def test_three_demo_logins_hold_a_review_end_to_end(browser: Browser, live_server, demo: dict[str, str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base = live_server.url
    review = Review.objects.get(status=Review.Status.OPEN)
    web = AwsAccount.objects.get(name="web-prod")

    # The admin prepares: the agenda answers "was root used, and how?" in one line per session, and fits 1440 px.
    admin = browser.new_context(viewport=WIDE).new_page()
    log_in(admin, base, "demo", demo["demo"])
    admin.goto(base + "/")
    cell = admin.locator("tr", has=admin.get_by_role("link", name="web-prod", exact=True)).locator("td.root-cell")
    expect(cell.locator("li.root-session.sev-critical")).to_contain_text("no MFA")
    expect(cell.locator("li.root-session.sev-critical")).to_contain_text("unknown network")
    widths = {}
    walk = [
        "/",
        f"/accounts/{web.account_id}/",
        f"/reviews/{review.pk}/",
        "/runs/",
        "/root-activity/",
        "/users/",
        "/alerts/",
        "/identity-center/",
        "/findings/",
        "/changes/",
    ]
    for path in walk:
        admin.goto(base + path)
        widths[path] = fits(admin)
        if widths[path]["page"] > WIDE["width"]:  # name what sticks out, for the failure message
            widths[path]["wide"] = admin.evaluate(WIDEST)
    shot(admin, "20-demo-agenda-1440")
    assert {p: w for p, w in widths.items() if w["page"] > WIDE["width"]} == {}, widths
    assert widths["/"]["table"] == 0, widths["/"]  # the agenda's columns all on screen, no sideways scrolling

    admin.goto(base + f"/reviews/{review.pk}/")
    accounts = admin.locator("nav.review-accounts a")
    for i in range(accounts.count()):
        accounts.nth(i).click()
        expect(accounts.nth(i)).to_have_attribute("aria-current", "page")  # the account's page, not the last one's
        carry = admin.get_by_role("button", name=re.compile("^Carry over"))
        if carry.count():
            carry.click()
            expect(admin.locator("ul.messages")).to_contain_text("Carried over")
        if admin.locator("tr[id^=finding-]").filter(has_not=admin.locator("p.decision")).count() == 0:
            continue
        bulk = admin.locator("form#bulk")
        bulk.get_by_label("every finding of this account still without a decision").check()
        bulk.get_by_text("False positive", exact=True).first.click()
        bulk.get_by_label("Why it is not a problem").fill("demo: reviewed in the meeting")
        bulk.get_by_role("button", name="Mark false positive").click()
        expect(admin.locator("ul.messages")).to_contain_text("Decided")
    expect(admin.locator("dl.facts")).to_contain_text(", 0 still without a decision")
    expect(admin.locator("#sign-refusal")).to_contain_text("four-eyes")  # the preparer is told why, not shown a form
    expect(admin.get_by_label("Sign-off comment")).to_have_count(0)

    # The second reviewer signs it off.
    reviewer = browser.new_context(viewport=WIDE).new_page()
    log_in(reviewer, base, "demo-reviewer", demo["demo-reviewer"])
    reviewer.goto(base + f"/reviews/{review.pk}/")
    reviewer.get_by_label("Sign-off comment").fill("Reviewed in the meeting; web-prod's root sign-in is incident INC-7")
    reviewer.get_by_role("button", name="Sign off").click()
    expect(reviewer.locator("p.signed")).to_contain_text("Signed by demo-reviewer")
    assert SignOff.objects.get(review=review).signed_by == "demo-reviewer"

    # The auditor downloads the review's CSV and evidence pack from the review page, and prints the whole review.
    auditor_context = browser.new_context(viewport=WIDE, accept_downloads=True)
    auditor = auditor_context.new_page()
    log_in(auditor, base, "demo-auditor", demo["demo-auditor"])
    auditor.goto(base + f"/reviews/{review.pk}/")
    with auditor.expect_download() as download:
        auditor.get_by_role("link", name="Download the review as CSV").click()
    rows = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("finding_id,") and len(rows) - 1 == len(SignOff.objects.get(review=review).snapshot["findings"])
    verified_pack(auditor, tmp_path)
    one_account = len(re.findall(rb"/Type\s*/Page[^s]", auditor.pdf()))
    auditor.get_by_role("link", name="Print the whole review").click()
    expect(auditor.locator("section.print-account")).to_have_count(review.accounts.count())
    whole = len(re.findall(rb"/Type\s*/Page[^s]", auditor.pdf()))
    assert whole > one_account >= 1, (whole, one_account)
    assert auditor.get_by_role("button", name="Sign off").count() == 0
