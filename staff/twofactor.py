"""Two-factor login (TOTP, django-otp): required for reviewers and admins, with recovery codes.

After the password, a user who must use 2FA is sent to enrol (QR code, then a first code, then
recovery codes shown once) or to verify a code; until then no other page answers.
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image
from django_otp.util import random_hex

from staff.roles import ADMIN, LOGIN, REVIEWER, policy
from staff.trail import record_change

RECOVERY_CODES = 10
# Set in the session by a single sign-on whose provider says its sign-in used a second factor (signin.oidc): that
# sign-in counts as two-factor, as IAMWatch's own TOTP would.
IDP_MFA_SESSION_KEY = "signin_provider_mfa"
ALWAYS_ALLOWED = ("/account/2fa/", "/logout/", "/static/")


def requires_two_factor(user: Any) -> bool:
    """Reviewers, admins and superusers must use a second factor (IAMWATCH_REQUIRE_2FA, default on)."""
    if not settings.IAMWATCH_REQUIRE_2FA or not user.is_authenticated:
        return False
    return bool(user.is_superuser or user.groups.filter(name__in=[REVIEWER, ADMIN]).exists())


class TwoFactorMiddleware:
    """Hold users who must use 2FA at enrolment or verification until they have passed it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user  # django-otp's middleware adds is_verified()
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.session.get(IDP_MFA_SESSION_KEY)
            and not request.path.startswith(ALWAYS_ALLOWED)
            and requires_two_factor(user)
        ):
            target = "two-factor-verify" if user_has_device(user) else "two-factor-setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next(request: HttpRequest) -> str:
    """Where to go after the step: `next` if it stays on this site (Django's own test, as the login uses), else home."""
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if safe else "/"


@transaction.atomic
def two_factor_reset(*, user: Any, actor: str) -> int:
    """Remove every two-factor device of `user` (authenticator and recovery codes): they enrol again at their next
    login. Recorded in the trail (never a key or a code). Returns how many devices went."""
    devices = 0
    for model in (TOTPDevice, StaticDevice):
        found = model.objects.filter(user=user)
        devices += found.count()
        found.delete()
    record_change(actor=actor, action="two_factor.reset", target=f"user {user.get_username()}", after={"devices_removed": devices})
    return devices


# The key offered on the setup page lives in the session that saw it, for SETUP_MINUTES, and nowhere else: a new
# key on every page, never shown again, gone at logout. A colleague who knows a first password and reads a key can
# never see the key the real user confirms.
SETUP_SESSION_KEY = "iamwatch_2fa_setup"
SETUP_MINUTES = 10
SETUP_ATTEMPTS = 5  # wrong codes before the key is thrown away


def _offer(request: HttpRequest) -> TOTPDevice:
    """A new, unsaved authenticator with a fresh key, remembered in this session only."""
    device = TOTPDevice(user=request.user, name="authenticator", confirmed=True, key=random_hex(20))
    request.session[SETUP_SESSION_KEY] = {"key": device.key, "at": time.time(), "failures": 0, "failed_at": 0.0}
    return device


def _offered(request: HttpRequest) -> tuple[TOTPDevice | None, dict[str, Any]]:
    """The key this session was shown, if it is still fresh (None: none, or it expired)."""
    offer = request.session.get(SETUP_SESSION_KEY)
    if not isinstance(offer, dict) or time.time() - float(offer.get("at", 0)) > SETUP_MINUTES * 60:
        return None, {}
    return TOTPDevice(user=request.user, name="authenticator", confirmed=True, key=str(offer["key"])), offer


def _confirm(device: TOTPDevice, token: str) -> bool:
    """Whether `token` is the key's current code (one step either side); on success the device remembers the step."""
    try:
        code = int(token)
    except ValueError:
        return False
    checker = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    checker.time = time.time()
    if not checker.verify(code, device.tolerance):
        return False
    device.last_t, device.drift = checker.t(), checker.drift
    return True


@policy(get=LOGIN, post=LOGIN)
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: QR code and key, then a first code confirms it within SETUP_MINUTES in the same
    session; recovery codes follow. Nothing is stored before the code matches."""
    user = request.user
    if user_has_device(user):
        return redirect("two-factor-verify")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()  # left by an older version: never shown again
    form = TokenForm(request.POST or None)
    device = None
    if request.method == "POST":
        device, offer = _offered(request)
        if device is None:
            form.add_error(None, f"The key shown has expired (after {SETUP_MINUTES} minutes) or was never shown here: scan this new one.")
        elif form.is_valid():
            wait = 2 ** (offer["failures"] - 1) if offer["failures"] else 0  # as django-otp slows guessing
            if wait and time.time() - offer["failed_at"] < wait * getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1):
                form.add_error("token", "That code does not match. Wait a few seconds, then try the current code.")
            elif _confirm(device, form.cleaned_data["token"].strip()):
                with transaction.atomic():
                    device.save()
                    codes = _new_recovery_codes(user)
                del request.session[SETUP_SESSION_KEY]
                otp_login(request, device)
                return render(request, "registration/two_factor_codes.html", {"codes": codes, "next": _next(request)})
            else:
                offer.update(failures=offer["failures"] + 1, failed_at=time.time())
                request.session[SETUP_SESSION_KEY] = offer
                form.add_error("token", "That code does not match. Check the time on your phone and try the current code.")
                if offer["failures"] >= SETUP_ATTEMPTS:
                    device = None
                    form.add_error(None, f"{SETUP_ATTEMPTS} wrong codes: that key is thrown away. Scan this new one.")
    if device is None or request.method == "GET":
        device = _offer(request)
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    return render(
        request,
        "registration/two_factor_setup.html",
        {"form": form, "qr_svg": svg.getvalue().decode(), "key": _base32(device), "minutes": SETUP_MINUTES, "next": _next(request)},
    )


def _base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


def _new_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="recovery codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@policy(get=LOGIN, post=LOGIN)
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a code from the authenticator app, or one recovery code (used up)."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].strip())
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", "That code is not valid.")
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)})
