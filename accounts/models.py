"""AWS accounts and the naming standards their IAM users are held to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.validators import RegexValidator
from django.db import models

from .naming import PRESET_LABELS, NamingRule, Preset, compile_rule

account_id_validator = RegexValidator(r"^[0-9]{12}$", "An AWS account id is exactly 12 digits.")
role_arn_validator = RegexValidator(
    r"^arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$",
    "Expected an IAM role ARN such as arn:aws:iam::123456789012:role/IAMWatchAudit.",
)
user_name_validator = RegexValidator(r"^[\w+=,.@-]{1,64}$", "IAM user names are 1-64 of A-Z a-z 0-9 and +=,.@_-")


class NamingStandard(models.Model):
    name = models.CharField(max_length=100, unique=True)
    preset = models.CharField(max_length=32, choices=[(p.value, PRESET_LABELS[p]) for p in Preset])
    custom_regex = models.CharField(max_length=500, blank=True)
    company_initials = models.CharField(max_length=10, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="the organisation's standard: it applies to every account that does not choose its own"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="one_default_standard")
        ]

    def __str__(self) -> str:
        return self.name

    def rule(self, exemptions: dict[str, str] | None = None) -> NamingRule:
        return compile_rule(
            self.preset,
            custom_regex=self.custom_regex,
            company_initials=self.company_initials,
            exemptions=exemptions,
            label=f"the {self.name} standard",
        )


class NamingExemption(models.Model):
    """A user name the standard does not apply to (break-glass, documented service user), with the reason."""

    standard = models.ForeignKey(NamingStandard, on_delete=models.CASCADE, related_name="exemptions")
    user_name = models.CharField(max_length=64, validators=[user_name_validator])
    reason = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["standard", "user_name"], name="unique_exemption_per_standard")]

    def __str__(self) -> str:
        return f"{self.user_name} ({self.standard})"


class AwsAccount(models.Model):
    """An AWS account under review. IAMWatch holds a role to assume, never a long-lived secret."""

    account_id = models.CharField(max_length=12, unique=True, validators=[account_id_validator])
    name = models.CharField(max_length=200)
    environment = models.CharField(max_length=50, blank=True, help_text="e.g. prod, staging, sandbox")
    role_arn = models.CharField(max_length=600, blank=True, validators=[role_arn_validator])
    external_id = models.CharField(max_length=1224, blank=True)
    root_email = models.EmailField(blank=True)
    alert_email = models.EmailField(blank=True, help_text="security distribution list for alerts (default: the organisation's)")
    alias = models.CharField(max_length=63, blank=True, help_text="IAM account alias, as last fetched")
    organization_status = models.CharField(max_length=20, blank=True, help_text="status in AWS Organizations, if discovered")
    naming_standard = models.ForeignKey(NamingStandard, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="report time of the last successful run")

    class Meta:
        ordering = ["name", "account_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"


class Person(models.Model):
    """One person of the people directory, as the HR system's CSV export last said."""

    employee_id = models.CharField(max_length=64, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    active = models.BooleanField(default=True, help_text="false once the person has left")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "employee_id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.employee_id})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class OwnerLink(models.Model):
    """An IAM user tied to its owner by hand, where the naming standard cannot tell (or tells wrong)."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="owner_links")
    user_name = models.CharField(max_length=64, validators=[user_name_validator])
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="owner_links")
    reason = models.TextField(blank=True)
    linked_by = models.CharField(max_length=150)
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "user_name"], name="one_owner_link_per_user")]

    def __str__(self) -> str:
        return f"{self.user_name} in {self.account.account_id} -> {self.person}"


class AccountScope(models.Model):
    """Restricts a user to some accounts: with a scope, every page shows only its accounts (none if it is
    empty); without one, a user sees every account their role reads."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_scope")
    accounts = models.ManyToManyField(AwsAccount, blank=True, related_name="scopes")
    reason = models.TextField(help_text="Why this user sees only these accounts (for example: the payments team).")

    def __str__(self) -> str:
        return f"account scope of {self.user}"


class AppendOnly(models.Model):
    """A record written once: saving an existing row or deleting one is refused (say why in `refusal`)."""

    refusal = "this record is written once"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionDenied(f"{self.refusal}: it is never edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionDenied(f"{self.refusal}: it is never deleted")


class ChangeRecord(AppendOnly):
    """The audit trail: who changed what, when, with the values before and after. Written once, never edited."""

    refusal = "the audit trail is append-only"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, help_text="user name, or the command that made the change")
    action = models.CharField(max_length=64, help_text="e.g. naming_standard.changed")
    target = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"
