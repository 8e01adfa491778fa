"""signin: single sign-on with the company's identity provider (OpenID Connect, through mozilla-django-oidc): who an
SSO login is (issuer and subject), its role and account scope from the provider's groups at every login, the
provider's MFA, the session's limit and RP-initiated logout. It imports staff (roles, trail, two-factor) and
accounts (account scopes)."""

from __future__ import annotations

from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "signin"
    default_auto_field = "django.db.models.BigAutoField"
