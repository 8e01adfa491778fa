"""Reviews: the meeting's decisions on findings, the frozen sign-offs, and private calendar links."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import AwsAccount
from audits.models import Finding
from staff.models import AppendOnly


class Review(models.Model):
    """A review meeting's decisions over a period and a set of accounts, ending in a sign-off."""

    class Status(models.TextChoices):
        OPEN = "open"
        SIGNED = "signed"
        CORRECTING = "correcting", "being corrected"

    title = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    accounts = models.ManyToManyField(AwsAccount, related_name="reviews")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_by = models.CharField(max_length=150, help_text="who prepared the review, as they were named then")
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="who, by identity"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "audits_review"  # the review models were made in the audits app; moved here with their tables
        ordering = ["-period_end", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def editable(self) -> bool:
        return self.status != self.Status.SIGNED


class CalendarFeed(models.Model):
    """A user's private link to the review calendar, for calendar apps that cannot log in.

    Only the token's SHA-256 is kept: the link is shown once, when it is made.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "audits_calendarfeed"

    def __str__(self) -> str:
        return f"calendar link of {self.user}"


class Disposition(models.Model):
    """The meeting's decision on one finding: accepted risk, remediation planned, or false positive."""

    class Kind(models.TextChoices):
        ACCEPTED_RISK = "accepted_risk", "accepted risk"
        REMEDIATION_PLANNED = "remediation_planned", "remediation planned"
        FALSE_POSITIVE = "false_positive", "false positive"

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="dispositions")
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="dispositions")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    justification = models.TextField(blank=True)
    owner = models.CharField(max_length=200, blank=True, help_text="who owns the accepted risk")
    expires_on = models.DateField(null=True, blank=True, help_text="the acceptance ends after this day")
    ticket = models.CharField(max_length=200, blank=True, help_text="ticket reference of the remediation")
    due_on = models.DateField(null=True, blank=True, help_text="when the remediation is due")
    decided_by = models.CharField(max_length=150)
    decided_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)
    carried_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the signed decision of an earlier review this one confirmed unchanged",
    )

    class Meta:
        db_table = "audits_disposition"
        constraints = [models.UniqueConstraint(fields=["review", "finding"], name="one_disposition_per_finding_and_review")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.finding}"

    @property
    def carried_from_review(self) -> int | None:
        """The review whose signed decision this one confirmed (read with select_related("carried_from"))."""
        return self.carried_from.review_id if self.carried_from is not None else None


class SignOff(AppendOnly):
    """A signed review, frozen: what it covered, decided and measured. Never edited or deleted; a correction is a new one.
    The sign-offs form a hash chain (staff.chain), each holding the audit trail's head at its signing.

    The database refuses UPDATE (and DELETE, see migration 0005) on this table; the model and the admin refuse too.
    """

    refusal = "a sign-off is frozen; sign a correction that points at it"

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="signoffs")
    signed_by = models.CharField(max_length=150)
    signed_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    prepared_by = models.CharField(max_length=150)
    signed_at = models.DateTimeField()
    comment = models.TextField()
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by")
    snapshot = models.JSONField(help_text="runs and report SHA-256, findings and dispositions, thresholds, version")
    snapshot_sha256 = models.CharField(max_length=64)
    trail_sha256 = models.CharField(
        max_length=64, blank=True, help_text="the audit trail's latest record at signing (empty: signed before it was kept)"
    )
    prev_sha256 = models.CharField(max_length=64, unique=True, help_text="the sha256 of the sign-off before (64 zeros: the first)")
    sha256 = models.CharField(max_length=64, unique=True, help_text="SHA-256 of this sign-off's chain link (staff.chain)")

    class Meta:
        db_table = "audits_signoff"  # its triggers (audits migration 0005) name this table
        ordering = ["signed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.review} signed by {self.signed_by} on {self.signed_at:%Y-%m-%d}"
