"""The password login: for everyone (IAMWATCH_LOCAL_LOGIN=all) or only for break-glass superusers once everyone else
signs in with the identity provider (superusers)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class LocalLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your user name and password did not match. Please try again.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if settings.IAMWATCH_LOCAL_LOGIN == "superusers" and not user.is_superuser:
            raise ValidationError(
                f"Password login is for break-glass superusers: sign in with {settings.IAMWATCH_OIDC_PROVIDER_NAME}.",
                code="local_login_off",
            )
