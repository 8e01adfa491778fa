"""The login page's "Sign in with <provider>" (a template context processor)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def sso(request: HttpRequest) -> dict[str, str]:
    return {"sso_provider": settings.IAMWATCH_OIDC_PROVIDER_NAME if settings.IAMWATCH_OIDC_ISSUER else ""}
