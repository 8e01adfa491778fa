"""A single sign-on session lasts at most IAMWATCH_OIDC_SESSION_HOURS from its login, whatever its activity: a leaver
removed from the provider's groups loses access by then at the latest. And the pages let their logout form lead to the
provider (the Content-Security-Policy's form-action, which a browser applies to the redirect after a form too)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone

EXPIRES_SESSION_KEY = "signin_expires_at"


class SsoSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        expires = request.session.get(EXPIRES_SESSION_KEY) if hasattr(request, "session") else None
        if expires is not None and timezone.now().timestamp() >= float(expires):
            logout(request)  # the whole session goes, its expiry with it
            messages.info(
                request, f"Your single sign-on session ended after {settings.IAMWATCH_OIDC_SESSION_HOURS} hours: sign in again."
            )
            return redirect(settings.LOGIN_URL)
        response = self.get_response(request)
        if settings.IAMWATCH_OIDC_ISSUER:
            parts = urlsplit(settings.IAMWATCH_OIDC_ISSUER)
            response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
        return response
