"""Identity Center access as history: each path from a user to an account, while it lasted."""

from __future__ import annotations

from django.db import models

from accounts.models import AwsAccount
from audits.models import AuditRun
from people.models import Person


class AccessPath(models.Model):
    """One way an Identity Center user reaches an account: a permission set, directly or through a group; open
    (valid_to empty) while Identity Center still grants it, closed by the first run that no longer sees it."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="access_paths")
    user_id = models.CharField(max_length=64)
    user_name = models.CharField(max_length=128)
    email = models.CharField(max_length=254, blank=True)
    employee_number = models.CharField(max_length=64, blank=True)
    permission_set_arn = models.CharField(max_length=256)
    permission_set_name = models.CharField(max_length=64)
    admin = models.BooleanField(help_text="the permission set grants administrator access (from its policies)")
    group_id = models.CharField(max_length=64, blank=True, help_text="empty: assigned to the user directly")
    group_name = models.CharField(max_length=128, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="access_paths",
        help_text="the person the user maps to (employee id, e-mail, or name under the naming rules), as of the last run",
    )  # fmt: skip
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    first_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="+")
    last_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="+")
    admin_since_run = models.ForeignKey(
        AuditRun, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="the run since which `admin` holds as it is (the first run, unless the set's policies changed since)",
    )  # fmt: skip
    changes = models.JSONField(
        default=list, blank=True, help_text="what later runs found changed on the open path: run, time, field, before, after"
    )

    class Meta:
        ordering = ["account", "user_name", "permission_set_name", "group_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "user_id", "permission_set_arn", "group_id"],
                condition=models.Q(valid_to__isnull=True),
                name="one_open_access_path",
            )
        ]
        indexes = [models.Index(fields=["user_name"]), models.Index(fields=["account", "valid_to"])]

    def __str__(self) -> str:
        via = "directly" if not self.group_id else f"through {self.group_name}"
        return f"{self.user_name} {via} with {self.permission_set_name}"


class SsoOwnerLink(models.Model):
    """An Identity Center user tied to its person by hand, where employee id, e-mail and the naming rules cannot tell
    (nobody, or two people): the same as an IAM user's owner link, for the organisation's Identity Center."""

    user_name = models.CharField(max_length=128, unique=True, help_text="the Identity Center user name, as Identity Center writes it")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sso_owner_links")
    reason = models.TextField(blank=True)
    linked_by = models.CharField(max_length=150)
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_name"]

    def __str__(self) -> str:
        return f"Identity Center user {self.user_name} -> {self.person}"
