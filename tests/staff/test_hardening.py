"""The tool is locked down: login throttling, a strict Content-Security-Policy, no inline script."""

from __future__ import annotations

import re

import pytest
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
