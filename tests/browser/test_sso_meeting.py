"""Single sign-on in a real headless Chromium (issue 26): two reviewers sign in through the test provider's own login
form (django-oauth-toolkit's, a process of its own), land on the agenda with the role their groups map to (the
provider's MFA counting as the second factor), and four-eyes holds between them: the one who prepared the review may
not sign it, the other signs it. Logout ends the provider's session too."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests import servers
from tests.browser.test_meeting_flow import browser, meeting, shot  # noqa: F401 - the fixtures, shared
from tests.signin.conftest import CLIENT_ID, CLIENT_SECRET, PASSWORD, provider, signing_in_with  # noqa: F401


def _sso(settings: Any, provider: servers.OidcProvider, live_url: str) -> None:  # noqa: F811 - the fixture, as an argument
    """The provider knows the live server's callback; IAMWatch signs in with it, and keeps password login for superusers."""
    provider.client(
        CLIENT_ID, CLIENT_SECRET, ["http://testserver/oidc/callback/", f"{live_url}/oidc/callback/"], ["http://testserver/login/", f"{live_url}/login/"]
    )
    signing_in_with(provider, settings)
    settings.IAMWATCH_LOCAL_LOGIN = "superusers"


def _sign_in(page: Page, live_url: str, username: str) -> None:
    page.goto(live_url + "/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()  # the provider's own page
    page.locator("#provider-username").fill(username)
    page.locator("#provider-password").fill(PASSWORD)
    page.locator("#provider-submit").click()


def test_two_sso_reviewers_hold_a_review_and_four_eyes_holds_between_them(
    browser: Browser,  # noqa: F811
    live_server: Any,
    meeting: None,  # noqa: F811
    provider: servers.OidcProvider,  # noqa: F811
    settings: Any,
) -> None:
    from django.contrib.auth.models import User

    from reviews.models import Review, SignOff
    from reviews.selectors import undecided
    from reviews.services import Decision, disposition_set

    _sso(settings, provider, live_server.url)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    # The password form is for break-glass superusers only: a reviewer is told to use the provider.
    page.goto(live_server.url + "/login/")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Password login is for break-glass superusers: sign in with Test IdP.")

    _sign_in(page, live_server.url, "alice")
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()  # no TOTP step
    alice = User.objects.get(sso_identity__isnull=False, email="alice@example.com")  # "alice-2": a local alice exists
    assert list(alice.groups.values_list("name", flat=True)) == ["reviewer"]
    shot(page, "30-sso-agenda")
    page.goto(live_server.url + "/reviews/")
    page.get_by_label("Month under review").fill("2026-11")
    page.get_by_role("button", name="Open review").click()
    expect(page.get_by_role("heading", name=re.compile("IAM review November 2026"))).to_be_visible()
    review = Review.objects.get()
    # Alice decides every finding (the clicks are test_a_whole_review's; here, the same service as the page's).
    for finding in undecided(review):
        decision = Decision(kind="false_positive", justification="checked with the team")
        disposition_set(review=review, finding=finding, decision=decision, actor=alice, today=date(2026, 12, 1))
    page.reload()
    expect(page.locator("#sign-refusal")).to_contain_text("four-eyes: a second reviewer who did not prepare this review")
    # Logout ends the provider's session too: the next sign-in asks for a password again.
    page.get_by_role("button", name=re.compile("Log out", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.url.startswith(live_server.url + "/login/")

    _sign_in(page, live_server.url, "bob")  # the provider's login form again: alice's session there ended
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    page.goto(live_server.url + f"/reviews/{review.pk}/")
    page.get_by_label("Sign-off comment").fill("November reviewed by single sign-on")
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator("p.signed")).to_contain_text("Signed by bob")
    shot(page, "31-sso-review-signed")
    signed = SignOff.objects.get()
    assert signed.signed_by == "bob" and User.objects.get(username="bob").sso_identity.issuer == provider.issuer
