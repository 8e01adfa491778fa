"""The tool is locked down: login throttling, a strict Content-Security-Policy, no inline script."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_repeated_failed_logins_lock_the_user_out_even_with_the_right_password(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "alice", "password": "guess"})
    response = client.post("/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 429 and "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_user_is_not_locked_by_alices_failures(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_user("bob", password="another long passphrase")
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "alice", "password": "guess"})
    assert client.post("/login/", {"username": "bob", "password": "another long passphrase"}).status_code == 302


def test_every_page_sends_a_strict_content_security_policy(alice_client: Client) -> None:
    response = alice_client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


def test_no_page_carries_inline_script_or_style(alice_client: Client, sandbox, sample_bytes: bytes) -> None:  # type: ignore[no-untyped-def]
    from audits.services import report_import
    from tests.conftest import SAMPLE_T

    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    for url in (
        "/",
        "/findings/",
        "/changes/",
        "/alerts/",
        "/accounts/111122223333/",
        "/accounts/111122223333/users/networkAdmin/",
        "/login/",
    ):
        body = (alice_client if url != "/login/" else Client()).get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert " style=" not in body and " on" + "click=" not in body, url


def test_password_spraying_from_one_address_locks_that_address(alice: User) -> None:
    """24 failed logins spread over 6 user names (4 each, under the per-user limit of 5) from one address."""
    attacker, colleague = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.2")
    for n in range(24):
        attacker.post("/login/", {"username": f"user{n % 6}", "password": "Winter2026!"})
    response = attacker.post("/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 429 and "_auth_user_id" not in attacker.session
    # Alice herself, from her own address, is not locked out by someone else's spraying.
    assert colleague.post("/login/", {"username": "alice", "password": "correct horse battery"}).status_code == 302


def test_behind_the_tls_proxy_spraying_locks_the_sprayer_not_everyone(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 28 point 4: every request comes from the proxy's address; the client's is the one the proxy appended
    to X-Forwarded-For. 24 failures with made-up names lock that client, and nobody else behind the proxy."""
    settings.IAMWATCH_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    colleague = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    for n in range(24):
        attacker.post("/login/", {"username": f"made-up-{n}", "password": "Winter2026!"})
    assert attacker.post("/login/", {"username": "alice", "password": "correct horse battery"}).status_code == 429
    assert colleague.post("/login/", {"username": "alice", "password": "correct horse battery"}).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_a_client_cannot_spoof_its_address_through_the_header(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    """The client writes X-Forwarded-For itself: behind one proxy, the proxy appends the real address after it;
    with no trusted proxy the header is not read at all."""
    settings.IAMWATCH_TRUSTED_PROXIES = 1
    spoofer = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")  # the last entry is the proxy's
    for n in range(24):
        spoofer.post("/login/", {"username": f"made-up-{n}", "password": "x"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    AccessAttempt.objects.all().delete()
    settings.IAMWATCH_TRUSTED_PROXIES = 0
    direct = Client(REMOTE_ADDR="203.0.113.8", HTTP_X_FORWARDED_FOR="192.0.2.99")
    direct.post("/login/", {"username": "made-up", "password": "x"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.8"}
    # A header that is not an address, or too short for the proxies configured, falls back to the connection's.
    settings.IAMWATCH_TRUSTED_PROXIES = 2
    Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="not-an-address").post("/login/", {"username": "made-up", "password": "x"})
    assert "203.0.113.9" in set(AccessAttempt.objects.values_list("ip_address", flat=True))


def test_a_few_typos_from_a_shared_address_lock_nobody(alice: User) -> None:
    office = Client(REMOTE_ADDR="192.0.2.10")
    for n in range(12):  # a dozen mistakes by several people behind one address, under the address limit of 20
        office.post("/login/", {"username": f"person{n % 4}", "password": "typo"})
    assert office.post("/login/", {"username": "alice", "password": "correct horse battery"}).status_code == 302


@pytest.mark.parametrize("url", ["/", "/findings.csv", "/login/"])
def test_no_page_is_kept_by_a_browser_or_proxy_cache(alice_client: Client, url: str) -> None:
    cache_control = alice_client.get(url)["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control
