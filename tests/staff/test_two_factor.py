"""Two-factor login: reviewers and admins enrol (QR code, first code, recovery codes) and verify at every login."""

from __future__ import annotations

import base64
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


def key_on(page: str) -> bytes:
    """The key a setup page shows (base32), as bytes."""
    found = re.search(r'<code class="key">([A-Z2-7=]+)</code>', page)
    assert found is not None, "no key on the page"
    return base64.b32decode(found.group(1))


def code_of(key: bytes) -> str:
    return f"{totp(key):06d}"


def enrol(client: Client, **post: str) -> str:
    """Open the setup page and confirm its key with its current code; the page that answers."""
    key = key_on(client.get("/account/2fa/setup/").content.decode())
    return client.post("/account/2fa/setup/", {"token": code_of(key), **post}).content.decode()


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
    key = key_on(page)
    assert not TOTPDevice.objects.filter(user=rita).exists()  # nothing stored before the code matches
    wrong = client.post("/account/2fa/setup/", {"token": "000000", "next": "/findings/"}).content.decode()
    assert "does not match" in wrong or code_of(key) == "000000"
    assert key_on(wrong) == key  # a wrong code keeps the key on offer
    done = client.post("/account/2fa/setup/", {"token": code_of(key), "next": "/findings/"}).content.decode()
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", done)
    assert len(codes) == 10
    assert client.get("/findings/").status_code == 200


def test_every_later_login_asks_for_a_code_and_a_recovery_code_works_once(db: None) -> None:
    rita = member_of("reviewer", "rita")
    first = log_in("rita")
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", enrol(first))

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
    enrolled = enrol(client, next=target)
    assert "evil" not in enrolled and "javascript" not in enrolled  # the "Continue" link after the recovery codes
    client2 = log_in("rita")
    with a_minute_later():
        response = client2.post("/account/2fa/verify/", {"token": code_for(rita), "next": target})
    assert response["Location"] == "/"


def test_a_wrong_code_slows_down_the_next_attempt(db: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    member_of("reviewer", "rita")
    client = log_in("rita")
    key = key_on(client.get("/account/2fa/setup/").content.decode())
    assert "does not match" in client.post("/account/2fa/setup/", {"token": "000001"}).content.decode()
    assert "does not match" in client.post("/account/2fa/setup/", {"token": code_of(key)}).content.decode()


def test_a_key_read_by_a_colleague_is_never_the_key_the_user_confirms(db: None) -> None:
    """Issue 28 point 2: a colleague knowing rita's first password reads the setup page's key and logs out; rita
    then enrols; the colleague's key opens nothing, in a new session or at the verify step."""
    rita = member_of("reviewer", "rita")
    colleague = log_in("rita")
    stolen = key_on(colleague.get("/account/2fa/setup/").content.decode())
    colleague.post("/logout/")

    real = log_in("rita")
    key = key_on(real.get("/account/2fa/setup/").content.decode())
    assert key != stolen
    assert "recovery codes" in real.post("/account/2fa/setup/", {"token": code_of(key)}).content.decode().lower()
    assert TOTPDevice.objects.get(user=rita).bin_key == key

    again = log_in("rita")
    with a_minute_later():
        assert "not valid" in again.post("/account/2fa/verify/", {"token": code_of(stolen)}).content.decode()
        assert again.get("/").status_code == 302  # still held at the second factor


def test_a_code_of_a_key_shown_to_another_session_or_expired_is_refused(db: None) -> None:
    rita = member_of("reviewer", "rita")
    shown = log_in("rita")
    key = key_on(shown.get("/account/2fa/setup/").content.decode())
    other = log_in("rita")  # a session that never saw that key
    page = other.post("/account/2fa/setup/", {"token": code_of(key)}).content.decode()
    assert "expired" in page and key_on(page) != key and not TOTPDevice.objects.filter(user=rita).exists()
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=True):
        late = shown.post("/account/2fa/setup/", {"token": code_of(key)}).content.decode()
    assert "expired (after 10 minutes)" in late and not TOTPDevice.objects.filter(user=rita).exists()


def test_five_wrong_codes_throw_the_key_away(db: None) -> None:
    member_of("reviewer", "rita")
    client = log_in("rita")
    key = key_on(client.get("/account/2fa/setup/").content.decode())
    for _ in range(4):
        page = client.post("/account/2fa/setup/", {"token": "x"}).content.decode()
        assert key_on(page) == key
    page = client.post("/account/2fa/setup/", {"token": "x"}).content.decode()
    assert "5 wrong codes: that key is thrown away" in page and key_on(page) != key
