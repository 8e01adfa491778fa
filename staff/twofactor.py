"""Two-factor login (TOTP, django-otp): required for reviewers and admins, with recovery codes.

After the password, a user who must use 2FA is sent to enrol (QR code, then a first code, then
recovery codes shown once) or to verify a code; until then no other page answers.
"""

from __future__ import annotations

import io
import secrets
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
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from staff.roles import ADMIN, LOGIN, REVIEWER, policy
from staff.trail import record_change

RECOVERY_CODES = 10
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


@policy(get=LOGIN, post=LOGIN)
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: QR code and key, then a first code confirms it; recovery codes follow."""
    user = request.user
    if user_has_device(user):
        return redirect("two-factor-verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name="authenticator", confirmed=False
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _new_recovery_codes(user)
            otp_login(request, device)
            return render(request, "registration/two_factor_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("token", "That code does not match. Check the time on your phone and try the current code.")
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    key = device.bin_key.hex()
    return render(
        request,
        "registration/two_factor_setup.html",
        {"form": form, "qr_svg": svg.getvalue().decode(), "key": _base32(device), "hex": key, "next": _next(request)},
    )


def _base32(device: TOTPDevice) -> str:
    import base64

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
