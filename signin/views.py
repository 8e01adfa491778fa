"""The sign-in pages of single sign-on: the refusal that says which groups are expected, and logout (RP-initiated
where the provider offers it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout as local_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from signin.oidc import REFUSED_SESSION_KEY, provider_logout_url
from signin.roles import expected_groups
from staff.roles import ANYONE, LOGIN, policy


@policy(get=ANYONE)
def refused(request: HttpRequest) -> HttpResponse:
    """Where a single sign-on that IAMWatch did not accept lands: which groups were seen, which are expected."""
    seen = request.session.pop(REFUSED_SESSION_KEY, None)
    context = {
        "seen": seen,
        "expected": expected_groups(),
        "claim": settings.IAMWATCH_OIDC_GROUPS_CLAIM,
        "provider": settings.IAMWATCH_OIDC_PROVIDER_NAME,
    }
    return render(request, "signin/refused.html", context)


@policy(post=LOGIN)
def logout(request: HttpRequest) -> HttpResponse:
    """Log out; a single sign-on session ends at the provider too (end_session_endpoint, with the ID token as hint)."""
    target = provider_logout_url(request) if settings.IAMWATCH_OIDC_ISSUER and request.session.get("oidc_id_token") else None
    local_logout(request)
    return redirect(target or settings.LOGOUT_REDIRECT_URL)
