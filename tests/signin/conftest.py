"""A real OpenID Connect provider (django-oauth-toolkit's, tests/oidcprovider) in a process of its own for the whole
session, and IAMWatch configured to sign in with it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.test import Client

from tests import servers

CLIENT_ID, CLIENT_SECRET = "iamwatch", "iamwatch-test-client-secret"
PASSWORD = "provider-password"
USERS = [
    {
        "username": "alice",
        "email": "alice@example.com",
        "given_name": "Alice",
        "family_name": "Smith",
        "groups": ["security-reviewers"],
        "mfa": True,
    },
    {"username": "bob", "email": "bob@example.com", "groups": ["security-reviewers", "everyone"], "mfa": True},
    {"username": "dave", "email": "dave@example.com", "groups": ["security-admins"], "mfa": False},
    {"username": "vera", "email": "vera@example.com", "groups": ["auditors", "payments-team"], "mfa": False},
    {"username": "carol", "email": "carol@example.com", "groups": ["marketing"], "mfa": True},
    # Another person of the provider who claims alice's e-mail address: never alice in IAMWatch.
    {"username": "mallory", "email": "alice@example.com", "groups": ["auditors"], "mfa": False},
]
ROLE_GROUPS = {"security-admins": "admin", "security-reviewers": "reviewer", "auditors": "viewer"}


@pytest.fixture(scope="session")
def provider() -> Iterator[servers.OidcProvider]:
    with servers.oidc_provider() as running:
        running.users(*({**u, "password": PASSWORD} for u in USERS))
        running.client(CLIENT_ID, CLIENT_SECRET, ["http://testserver/oidc/callback/"], ["http://testserver/login/"])
        yield running


def signing_in_with(provider: servers.OidcProvider, settings: Any) -> None:
    """IAMWatch signs in with `provider` (the settings README's Single sign-on lists), for this test."""
    from signin.oidc import discovery

    discovery.cache_clear()
    settings.IAMWATCH_OIDC_ISSUER = provider.issuer
    settings.IAMWATCH_OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.IAMWATCH_OIDC_ROLE_GROUPS = dict(ROLE_GROUPS)
    settings.IAMWATCH_OIDC_SCOPE_GROUPS = {}
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "signin.oidc.SsoBackend"]


@pytest.fixture
def sso(provider: servers.OidcProvider, settings: Any) -> servers.OidcProvider:
    signing_in_with(provider, settings)
    return provider


def provider_sign_in(authorize_url: str, username: str, password: str = PASSWORD, browser: requests.Session | None = None) -> str:
    """Sign in on the provider's own login form (as a browser would) and return where it sends the browser back: the
    relying party's callback with the code and state."""
    browser = browser or requests.Session()
    answer = browser.get(authorize_url, allow_redirects=False)
    if answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]:
        login = urljoin(authorize_url, answer.headers["Location"])
        form = browser.get(login)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None, form.text[:500]
        nxt = parse_qs(urlsplit(login).query)["next"][0]
        posted = browser.post(
            login, data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": nxt},
            headers={"Referer": login}, allow_redirects=False,
        )  # fmt: skip
        assert posted.status_code == 302, posted.text[:500]
        answer = browser.get(urljoin(login, posted.headers["Location"]), allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    return str(answer.headers["Location"])


def sso_login(client: Client, username: str, *, next_url: str = "") -> Any:
    """The whole authorization code flow through the test client and the real provider; the callback's response."""
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    back = provider_sign_in(start["Location"], username)
    assert back.startswith("http://testserver/oidc/callback/"), back
    return client.get(back.removeprefix("http://testserver"))
