"""A root event as CloudTrail recorded it, once per eventID."""

from __future__ import annotations

from django.db import models

from accounts.models import AwsAccount
from audits.models import AuditRun
from cloudtrail.records import SIGN_IN, api_action


class RootEvent(models.Model):
    """One root sign-in or call in one account: exact time, address, MFA, outcome, and the whole record."""

    class Origin(models.TextChoices):
        LOOKUP = "lookup", "CloudTrail LookupEvents"
        FILE = "file", "CloudTrail file"

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="root_events")
    event_id = models.CharField(max_length=64, help_text="CloudTrail eventID: one row per event, however often delivered")
    at = models.DateTimeField(help_text="eventTime")
    name = models.CharField(max_length=128, help_text="eventName, e.g. ConsoleLogin, CreateUser")
    event_source = models.CharField(max_length=128, help_text="eventSource, e.g. signin.amazonaws.com")
    region = models.CharField(max_length=32, blank=True)
    source_ip = models.CharField(max_length=128, blank=True, help_text="sourceIPAddress (an address or a service name)")
    user_agent = models.TextField(blank=True)
    mfa_used = models.BooleanField(null=True, help_text="sign-in: MFAUsed; call: the session's mfaAuthenticated; null: not said")
    success = models.BooleanField()
    error = models.TextField(blank=True, help_text="errorCode: errorMessage, or why a sign-in failed")
    access_key_id = models.CharField(max_length=128, blank=True, help_text="the key id the call was signed with (never a secret)")
    raw = models.JSONField(help_text="the record as CloudTrail wrote it")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="root_events", help_text="the run that first stored it")

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["account", "event_id"], name="one_root_event_per_event_id")]
        indexes = [models.Index(fields=["account", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.name} by root at {self.at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_sign_in(self) -> bool:
        return self.name == SIGN_IN

    @property
    def action(self) -> str:
        return api_action(self.event_source, self.name)


class TrailRead(models.Model):
    """One region's LookupEvents window in one run: what CloudTrail was read for, so that a root use the credential
    report saw and CloudTrail did not is told apart from a time that was never read."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="trail_reads")
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="trail_reads")
    region = models.CharField(max_length=32)
    start = models.DateTimeField()
    end = models.DateTimeField()
    events = models.PositiveIntegerField(default=0)
    problem = models.TextField(blank=True, help_text="why the region was not read; empty when it was")

    class Meta:
        ordering = ["-end", "region"]
        indexes = [models.Index(fields=["account", "end"])]

    def __str__(self) -> str:
        return f"{self.region} {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
