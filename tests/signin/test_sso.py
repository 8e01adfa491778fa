"""Single sign-on (issue 26) against a real OpenID Connect provider process (tests/oidcprovider): the authorization
code flow with PKCE through the provider's own login form, identity by issuer and subject, roles and scopes from the
groups at every login, the provider's MFA, refusals, the session's limit and logout."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from accounts.models import AccountScope, AwsAccount
from signin.models import SsoIdentity
from signin.oidc import SsoBackend, discovery
from staff.models import ChangeRecord
from tests import servers
from tests.signin.conftest import CLIENT_ID, CLIENT_SECRET, PASSWORD, ROLE_GROUPS, provider_sign_in, sso_login

pytestmark = pytest.mark.django_db


def _role(user: User) -> str:
    return ",".join(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("username", "role", "lands_on"),
    [
        ("alice", "reviewer", "/"),  # the provider's MFA counts: straight to the agenda
        ("dave", "admin", "/account/2fa/setup/"),  # an admin whose provider sign-in had no second factor: IAMWatch's own
        ("vera", "viewer", "/"),  # viewers need no second factor
    ],
)
def test_each_group_gives_its_role_and_the_login_lands_where_its_second_factor_allows(
    sso: servers.OidcProvider, username: str, role: str, lands_on: str
) -> None:
    client = Client()
    done = sso_login(client, username)
    assert done.status_code == 302 and done["Location"] == "/"
    user = User.objects.get(sso_identity__subject__isnull=False, email=f"{username}@example.com")
    assert _role(user) == role and not user.is_superuser and not user.has_usable_password()
    identity = user.sso_identity
    assert (identity.issuer, identity.role) == (sso.issuer, role) and identity.subject
    page = client.get("/")
    assert (page.status_code, page.get("Location", "/").split("?")[0]) == ((200, "/") if lands_on == "/" else (302, lands_on))
    login = ChangeRecord.objects.filter(action="sso.login").latest("pk")
    assert login.after["issuer"] == sso.issuer and login.after["subject"] == identity.subject and login.after["role"] == role
    assert login.after["groups"] == sorted(
        next(u for u in __import__("tests.signin.conftest", fromlist=["USERS"]).USERS if u["username"] == username)["groups"]
    )


def test_a_login_with_no_mapped_group_is_refused_with_the_groups_expected(sso: servers.OidcProvider) -> None:
    client = Client()
    done = sso_login(client, "carol")
    assert done.status_code == 302 and done["Location"] == "/signin/refused/"
    page = client.get("/signin/refused/")
    body = page.content.decode()
    assert page.status_code == 200 and "marketing" in body
    for group in ROLE_GROUPS:
        assert f"<code>{group}</code>" in body
    assert not User.objects.filter(email="carol@example.com").exists()  # nobody is created for a refused login
    # The groups expected are told to the refused login alone, once: not to whoever opens the page.
    again = client.get("/signin/refused/").content.decode()
    assert "security-admins" not in again and "did not complete" in again
    assert client.get("/").status_code == 302  # not signed in
    refusal = ChangeRecord.objects.get(action="sso.refused")
    assert refusal.after["groups"] == ["marketing"] and refusal.after["issuer"] == sso.issuer and refusal.after["subject"]


def test_a_user_moved_between_groups_has_the_new_role_at_the_next_login(sso: servers.OidcProvider) -> None:
    sso_login(Client(), "bob")
    bob = User.objects.get(email="bob@example.com")
    assert _role(bob) == "reviewer"
    sso.users({"username": "bob", "password": PASSWORD, "email": "bob@example.com", "groups": ["auditors"], "mfa": True})
    try:
        sso_login(Client(), "bob")
        bob.refresh_from_db()
        assert _role(bob) == "viewer" and User.objects.filter(email="bob@example.com").count() == 1
        change = ChangeRecord.objects.filter(action="sso.role").latest("pk")
        assert (change.before["role"], change.after["role"], change.after["groups"]) == ("reviewer", "viewer", ["auditors"])
        # Removed from every mapped group: the next login is refused, and the role it had does not let it in.
        sso.users({"username": "bob", "password": PASSWORD, "email": "bob@example.com", "groups": [], "mfa": True})
        client = Client()
        assert sso_login(client, "bob")["Location"] == "/signin/refused/"
        assert client.get("/").status_code == 302
    finally:
        sso.users(
            {
                "username": "bob",
                "password": PASSWORD,
                "email": "bob@example.com",
                "groups": ["security-reviewers", "everyone"],
                "mfa": True,
            }
        )


def test_the_same_email_from_another_subject_is_another_user(sso: servers.OidcProvider) -> None:
    sso_login(Client(), "alice")
    sso_login(Client(), "mallory")  # claims alice@example.com too
    alice, mallory = (
        User.objects.get(sso_identity__subject=s) for s in SsoIdentity.objects.order_by("pk").values_list("subject", flat=True)
    )
    assert alice.pk != mallory.pk and alice.email == mallory.email == "alice@example.com"
    assert (_role(alice), _role(mallory)) == ("reviewer", "viewer")
    assert alice.sso_identity.subject != mallory.sso_identity.subject
    # Nor does a local user with that e-mail become the SSO login.
    local = User.objects.create_user("alice.local", email="alice@example.com", password="x" * 20)
    sso_login(Client(), "alice")
    assert not SsoIdentity.objects.filter(user=local).exists() and User.objects.filter(email="alice@example.com").count() == 3


def test_account_scopes_come_from_the_groups(sso: servers.OidcProvider, settings: Any) -> None:
    payments = AwsAccount.objects.create(account_id="210987654321", name="payments-prod", environment="prod")
    AwsAccount.objects.create(account_id="310987654321", name="web-prod", environment="prod")
    staging = AwsAccount.objects.create(account_id="410987654321", name="data-staging", environment="staging")
    settings.IAMWATCH_OIDC_SCOPE_GROUPS = {"payments-team": ["210987654321", "env:staging"], "security-reviewers": ["*"]}
    sso_login(Client(), "vera")  # auditors + payments-team
    vera = User.objects.get(email="vera@example.com")
    assert set(AccountScope.objects.get(user=vera).accounts.all()) == {payments, staging}
    sso_login(Client(), "alice")  # every account
    assert not AccountScope.objects.filter(user__email="alice@example.com").exists()
    sso_login(Client(), "dave")  # in no scope group: no account at all
    assert list(AccountScope.objects.get(user__email="dave@example.com").accounts.all()) == []


def test_superuser_is_never_granted_by_a_login(sso: servers.OidcProvider) -> None:
    sso_login(Client(), "dave")
    dave = User.objects.get(email="dave@example.com")
    User.objects.filter(pk=dave.pk).update(is_superuser=True, is_staff=True)  # by hand, in the database
    sso_login(Client(), "dave")
    dave.refresh_from_db()
    assert not dave.is_superuser and not dave.is_staff


# --- the tokens ----------------------------------------------------------------------------------------------------


def _real_id_token(provider: servers.OidcProvider, username: str, nonce: str) -> str:
    """An ID token the provider really issued, through its own authorization code flow with PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    meta = discovery(provider.issuer)
    query = urlencode(
        {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "http://testserver/oidc/callback/", "scope": "openid email groups",
         "state": "s", "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
    )  # fmt: skip
    back = provider_sign_in(f"{meta['authorization_endpoint']}?{query}", username)
    code = parse_qs(urlsplit(back).query)["code"][0]
    token = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://testserver/oidc/callback/", "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET, "code_verifier": verifier},
        timeout=10,
    )  # fmt: skip
    assert token.status_code == 200, token.text
    return str(token.json()["id_token"])


def _with_payload(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


def test_a_tampered_or_wrongly_signed_id_token_is_refused(
    sso: servers.OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _real_id_token(sso, "vera", nonce="n-1")
    assert SsoBackend().verify_token(token, nonce="n-1")["iss"] == sso.issuer  # the real one passes
    with pytest.raises(SuspiciousOperation, match="JWS token verification failed"):
        SsoBackend().verify_token(_with_payload(token, sub="somebody-else"), nonce="n-1")  # its signature no longer holds
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(
        claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256", headers={"kid": kid}
    )
    with pytest.raises(SuspiciousOperation, match="JWS token verification failed"):
        SsoBackend().verify_token(forged, nonce="n-1")  # signed with another key under the provider's key id
    with pytest.raises(SuspiciousOperation, match="Nonce"):
        SsoBackend().verify_token(token, nonce="another-nonce")
    settings.OIDC_RP_CLIENT_ID = "another-client"
    with pytest.raises(SuspiciousOperation, match="audience"):
        SsoBackend().verify_token(token, nonce="n-1")  # issued to another client
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    real = discovery(sso.issuer)
    monkeypatch.setattr("signin.oidc.discovery", lambda issuer: real)  # the same keys, another issuer configured
    settings.IAMWATCH_OIDC_ISSUER = "https://idp.example.com/o"
    with pytest.raises(SuspiciousOperation, match="issuer"):
        SsoBackend().verify_token(token, nonce="n-1")


def test_a_replayed_state_or_the_code_of_another_request_is_refused(sso: servers.OidcProvider) -> None:
    client = Client()
    start = client.get("/oidc/authenticate/")
    back = provider_sign_in(start["Location"], "vera")
    assert client.get(back.removeprefix("http://testserver"))["Location"] == "/"
    # The same callback again (a replayed state, and a used code): refused, and a fresh browser gets nowhere with it.
    assert client.get(back.removeprefix("http://testserver")).status_code == 400
    stranger = Client()
    replay = stranger.get(back.removeprefix("http://testserver"))
    assert replay.status_code == 302 and replay["Location"] == "/signin/refused/" and stranger.get("/").status_code == 302
    # Two requests in one browser: the code of the second with the state (and nonce) of the first is refused.
    other = Client()
    first = other.get("/oidc/authenticate/")["Location"]
    second = other.get("/oidc/authenticate/")["Location"]
    code = parse_qs(urlsplit(provider_sign_in(second, "vera")).query)["code"][0]
    first_state = parse_qs(urlsplit(first).query)["state"][0]
    mixed = other.get(f"/oidc/callback/?{urlencode({'code': code, 'state': first_state})}")
    # The first request's PKCE verifier does not fit the second's code: the provider refuses it (and were it to
    # accept, the ID token's nonce is the second's: test_a_tampered_or_wrongly_signed_id_token_is_refused).
    assert mixed.status_code == 302 and mixed["Location"] == "/signin/refused/" and other.get("/").status_code == 302


def test_the_providers_mfa_counts_only_when_amr_or_acr_says_so(sso: servers.OidcProvider, settings: Any) -> None:
    reviewer = Client()
    sso_login(reviewer, "alice")  # amr: pwd, mfa
    assert reviewer.get("/").status_code == 200
    settings.IAMWATCH_OIDC_MFA_AMR = ["hwk"]  # a stricter list: alice's "mfa" is not enough
    stricter = Client()
    sso_login(stricter, "alice")
    assert stricter.get("/")["Location"].startswith("/account/2fa/")


def test_password_login_can_be_kept_for_break_glass_superusers_only(db: None, settings: Any) -> None:
    from tests.conftest import member_of

    member_of("viewer", "local-viewer")
    User.objects.create_superuser("breakglass", password="correct horse battery")
    settings.IAMWATCH_LOCAL_LOGIN = "superusers"
    settings.IAMWATCH_OIDC_PROVIDER_NAME = "Okta"
    refused = Client().post("/login/", {"username": "local-viewer", "password": "correct horse battery"})
    assert (
        refused.status_code == 200
        and "Password login is for break-glass superusers: sign in with Okta." in refused.content.decode()
    )
    assert Client().post("/login/", {"username": "breakglass", "password": "correct horse battery"}).status_code == 302
    settings.IAMWATCH_LOCAL_LOGIN = "all"
    assert Client().post("/login/", {"username": "local-viewer", "password": "correct horse battery"}).status_code == 302


def test_the_login_page_offers_the_provider_only_when_configured(sso: servers.OidcProvider, settings: Any) -> None:
    assert 'href="/oidc/authenticate/">Sign in with Test IdP</a>' in Client().get("/login/").content.decode()
    settings.IAMWATCH_OIDC_ISSUER = ""
    assert "Sign in with" not in Client().get("/login/").content.decode()


def test_an_sso_session_ends_after_its_hours(sso: servers.OidcProvider, settings: Any) -> None:
    settings.IAMWATCH_OIDC_SESSION_HOURS = 2
    client = Client()
    sso_login(client, "vera")
    assert client.get("/").status_code == 200
    with time_machine.travel(timedelta(hours=1, minutes=59)):
        assert client.get("/").status_code == 200
    with time_machine.travel(timedelta(hours=2, minutes=1)):
        ended = client.get("/", follow=True)
        assert ended.redirect_chain[0] == ("/login/", 302)
        assert "Your single sign-on session ended after 2 hours: sign in again." in ended.content.decode()
    assert client.get("/").status_code == 302  # and stays ended


def test_logout_ends_the_providers_session_too(sso: servers.OidcProvider) -> None:
    client = Client()
    sso_login(client, "vera")
    id_token = client.session["oidc_id_token"]
    out = client.post("/logout/")
    end = discovery(sso.issuer)["end_session_endpoint"]
    assert out.status_code == 302 and out["Location"].startswith(end + "?")
    query = parse_qs(urlsplit(out["Location"]).query)
    assert query["id_token_hint"] == [id_token] and query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert client.get("/").status_code == 302  # signed out of IAMWatch at once
    # The provider accepts it and sends the browser back to IAMWatch's login page.
    back = requests.get(out["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "http://testserver/login/"


def test_a_provider_that_cannot_be_reached_is_said_in_one_line_not_a_server_error(db: None, settings: Any) -> None:
    discovery.cache_clear()
    settings.IAMWATCH_OIDC_ISSUER = f"http://127.0.0.1:{servers.free_port()}/o"  # nothing listens there
    settings.IAMWATCH_OIDC_PROVIDER_NAME = "Okta"
    client = Client()
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302 and start["Location"] == "/signin/refused/"
    body = client.get("/signin/refused/").content.decode()
    assert "Okta cannot be reached for single sign-on: IAMWATCH_OIDC_ISSUER: no discovery document at" in body
    discovery.cache_clear()


def test_without_a_provider_the_sso_pages_are_not_there(db: None, settings: Any) -> None:
    settings.IAMWATCH_OIDC_ISSUER = ""
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404
