"""An SSO login's identity: the provider's issuer and subject, never its e-mail or user name."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    """The IAMWatch user of one subject of one issuer: a second provider user with the same e-mail is another user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity")
    issuer = models.URLField(max_length=500)
    subject = models.CharField(max_length=255)
    groups = models.JSONField(default=list, help_text="the groups claim at the last login")
    role = models.CharField(max_length=20, blank=True, help_text="the role the groups gave at the last login")
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_issuer_and_subject")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
