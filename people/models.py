"""The people directory (as the HR system's CSV export last said) and the IAM users tied to a person by hand."""

from __future__ import annotations

from django.db import models

from accounts.models import AwsAccount, user_name_validator


class Person(models.Model):
    """One person of the people directory, as the HR system's CSV export last said."""

    employee_id = models.CharField(max_length=64, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    active = models.BooleanField(default=True, help_text="false once the person has left")
    left_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="when a directory import first said the person had left (null: active, or left before this was kept)",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_person"  # made in the accounts app; moved here with its table
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
        db_table = "accounts_ownerlink"
        constraints = [models.UniqueConstraint(fields=["account", "user_name"], name="one_owner_link_per_user")]

    def __str__(self) -> str:
        return f"{self.user_name} in {self.account.account_id} -> {self.person}"
