"""Two-factor login: reviewers and admins enrol (QR code, first code, recovery codes) and verify at every login."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import member_of

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def no_throttle(settings) -> None:  # type: ignore[no-untyped-def]
    """django-otp slows guessing (a wrong code blocks the device for a while); tests that need speed turn it off."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def log_in(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def code_for(user: User) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def a_minute_later() -> time_machine.travel:
    """A code is accepted once: the next login uses the code of a later 30-second step."""
    return time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=True)


def test_a_reviewer_must_enrol_before_any_page(db: None) -> None:
    member_of("reviewer", "rita")
    client = log_in("rita")
    response = client.get("/findings/")
    assert response.status_code == 302 and response["Location"].startswith("/account/2fa/setup/")
    assert client.get("/admin/").status_code == 302


def test_enrolment_shows_a_qr_code_then_recovery_codes_and_opens_the_pages(db: None) -> None:
    rita = member_of("reviewer", "rita")
    client = log_in("rita")
    page = client.get("/account/2fa/setup/?next=/findings/").content.decode()
    assert "<svg" in page and "Key:" in page
    wrong = client.post("/account/2fa/setup/", {"token": "000000", "next": "/findings/"}).content.decode()
    assert "does not match" in wrong or code_for(rita) == "000000"
    done = client.post("/account/2fa/setup/", {"token": code_for(rita), "next": "/findings/"}).content.decode()
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", done)
    assert len(codes) == 10
    assert client.get("/findings/").status_code == 200


def test_every_later_login_asks_for_a_code_and_a_recovery_code_works_once(db: None) -> None:
    rita = member_of("reviewer", "rita")
    first = log_in("rita")
    first.get("/account/2fa/setup/")
    codes = re.findall(
        r"<li><code>([0-9a-f]{10})</code></li>", first.post("/account/2fa/setup/", {"token": code_for(rita)}).content.decode()
    )

    again = log_in("rita")
    assert again.get("/").headers["Location"].startswith("/account/2fa/verify/")
    assert "not valid" in again.post("/account/2fa/verify/", {"token": "123"}).content.decode()
    assert again.post("/account/2fa/verify/", {"token": codes[0], "next": "/"}).status_code == 302
    assert again.get("/").status_code == 200

    third = log_in("rita")
    assert "not valid" in third.post("/account/2fa/verify/", {"token": codes[0]}).content.decode()  # used up
    with a_minute_later():
        assert third.post("/account/2fa/verify/", {"token": code_for(rita)}).status_code == 302


def test_a_viewer_is_not_held_by_the_second_factor(db: None) -> None:
    member_of("viewer", "vera")
    assert log_in("vera").get("/").status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.example.com/", "/\\evil.example/x", "https://evil.example/", "\\\\evil.example", "javascript:alert(1)"]
)
def test_the_next_parameter_cannot_send_the_user_off_site(db: None, target: str) -> None:
    rita = member_of("reviewer", "rita")
    client = log_in("rita")
    client.get("/account/2fa/setup/")
    enrolled = client.post("/account/2fa/setup/", {"token": code_for(rita), "next": target}).content.decode()
    assert "evil" not in enrolled and "javascript" not in enrolled  # the "Continue" link after the recovery codes
    client2 = log_in("rita")
    with a_minute_later():
        response = client2.post("/account/2fa/verify/", {"token": code_for(rita), "next": target})
    assert response["Location"] == "/"


def test_a_wrong_code_slows_down_the_next_attempt(db: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    rita = member_of("reviewer", "rita")
    client = log_in("rita")
    client.get("/account/2fa/setup/")
    assert "does not match" in client.post("/account/2fa/setup/", {"token": "000001"}).content.decode()
    assert "does not match" in client.post("/account/2fa/setup/", {"token": code_for(rita)}).content.decode()
