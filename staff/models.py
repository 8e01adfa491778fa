"""The audit trail, and the append-only base that the trail and frozen sign-offs share."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone


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
    """The audit trail: who changed what, when, with the values before and after. Written once, never edited, and
    chained: each record keeps the SHA-256 of its content and of the record before it (staff.chain)."""

    refusal = "the audit trail is append-only"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=150, help_text="user name, or the command that made the change")
    action = models.CharField(max_length=64, help_text="e.g. naming_standard.changed")
    target = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_sha256 = models.CharField(max_length=64, unique=True, help_text="the sha256 of the record before (64 zeros: the first)")
    sha256 = models.CharField(max_length=64, unique=True, help_text="SHA-256 of this record's chain link (staff.chain)")

    class Meta:
        db_table = "accounts_changerecord"  # made in the accounts app; moved here with its table (and its triggers)
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"
