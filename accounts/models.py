"""AWS accounts and the naming standards their IAM users are held to."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from .naming import PRESET_LABELS, NamingRule, Preset, compile_rule

ACCOUNT_ID = r"^[0-9]{12}$"
account_id_validator = RegexValidator(ACCOUNT_ID, "An AWS account id is exactly 12 digits.")


def is_account_id(value: str) -> bool:
    """Whether `value` is an AWS account id (exactly 12 ASCII digits), as the model's validator says."""
    return re.fullmatch(ACCOUNT_ID, value, re.ASCII) is not None
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
    environment_from_organization = models.BooleanField(
        default=False, db_default=False, help_text="the environment was read from the organisation's tags or OUs (set by hand: never overwritten)"
    )
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
    # The push path's EventBridge rule, as the last connection test found it (events:DescribeRule).
    push_rule = models.CharField(max_length=300, blank=True, db_default="", help_text="ENABLED, DISABLED, or why it was not found")
    push_rule_checked_at = models.DateTimeField(null=True, blank=True)
    push_rule_enabled_since = models.DateTimeField(
        null=True, blank=True, help_text="since when connection tests found the rule enabled (cleared when one did not)"
    )

    class Meta:
        ordering = ["name", "account_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    def clean(self) -> None:
        """The one check beyond the fields', for every way in (command, Organizations, admin): the role to assume
        must live in this account."""
        if self.role_arn and self.account_id and f":{self.account_id}:" not in self.role_arn:
            raise ValidationError({"role_arn": f"role ARN {self.role_arn} belongs to another account than {self.account_id}"})


class AccountScope(models.Model):
    """Restricts a user to some accounts: with a scope, every page shows only its accounts (none if it is
    empty); without one, a user sees every account their role reads."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_scope")
    accounts = models.ManyToManyField(AwsAccount, blank=True, related_name="scopes")
    reason = models.TextField(help_text="Why this user sees only these accounts (for example: the payments team).")

    def __str__(self) -> str:
        return f"account scope of {self.user}"
