"""A root event as CloudTrail recorded it, once per eventID."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import AwsAccount
from audits.models import AuditRun
from cloudtrail.records import SIGN_IN, api_action


class TrailFile(models.Model):
    """A CloudTrail file imported by someone (the page's upload or `import_cloudtrail`): where its root events came from,
    by name, SHA-256 and who brought it when. A file is evidence a person supplied; AWS's own record wins over it."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="trail_files")
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="trail_files")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text="of the file's bytes as uploaded")
    size = models.PositiveBigIntegerField()
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"file {self.name} (SHA-256 {self.sha256[:12]}…) uploaded by {self.uploaded_by} at {self.uploaded_at:%Y-%m-%d %H:%M:%S} UTC"


class RootEvent(models.Model):
    """One root sign-in or call in one account: exact time, address, MFA, outcome, and the whole record."""

    class Origin(models.TextChoices):
        LOOKUP = "lookup", "CloudTrail LookupEvents"
        FILE = "file", "CloudTrail file"
        PUSH = "push", "EventBridge push"

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
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="root_events", help_text="the run that stored this record")
    file = models.ForeignKey(
        TrailFile, null=True, blank=True, on_delete=models.PROTECT, related_name="root_events", help_text="the file it came from (origin file)"
    )
    recorded_at = models.DateTimeField(default=timezone.now, help_text="when IAMWatch stored this record: later than a sign-off, it is late evidence")
    message_id = models.CharField(max_length=128, blank=True, help_text="origin push: the SQS message that delivered it")

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["account", "event_id"], name="one_root_event_per_event_id")]
        indexes = [models.Index(fields=["account", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.name} by root at {self.at:%Y-%m-%d %H:%M} UTC"

    @property
    def source(self) -> str:
        """Where this record came from, for the pages and the evidence pack."""
        if self.file is not None:
            return str(self.file)
        if self.origin == self.Origin.PUSH and self.message_id:
            return f"{self.get_origin_display()} (SQS message {self.message_id}) in run {self.run_id}"
        return f"{self.get_origin_display()} in run {self.run_id}"

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


class EventConflict(models.Model):
    """A file's record of an event that AWS's own record (LookupEvents) contradicts. AWS's record is the one stored; the
    file's is kept here as evidence of its own, with the fields that differ."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="event_conflicts")
    event_id = models.CharField(max_length=64)
    file = models.ForeignKey(TrailFile, on_delete=models.PROTECT, related_name="conflicts")
    file_raw = models.JSONField(help_text="the record as the file gave it")
    differences = models.JSONField(default=list, help_text="the fields the file got wrong")
    aws_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="+", help_text="the run that read AWS's own record")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.file} disagrees with AWS on {', '.join(self.differences)}"


class PushPath(models.Model):
    """One account's push path (EventBridge rule -> SQS -> consume_root_events): when its first and latest root event
    arrived that way. The daily LookupEvents read finds what the path did not deliver (cloudtrail.selectors.push_missed)."""

    account = models.OneToOneField(AwsAccount, on_delete=models.CASCADE, related_name="push_path")
    first_message_at = models.DateTimeField(help_text="when the first pushed root event of the account was stored")
    last_message_at = models.DateTimeField(help_text="when the latest pushed message for the account arrived")
    last_event_at = models.DateTimeField(help_text="eventTime of the latest pushed event")
    messages = models.PositiveBigIntegerField(default=0, help_text="messages consumed for the account, duplicates included")

    def __str__(self) -> str:
        return f"push path of {self.account}: last message {self.last_message_at:%Y-%m-%d %H:%M} UTC"


class UnregisteredRootEvent(models.Model):
    """A pushed root event of an account IAMWatch does not review: kept aside (once per account and eventID) and listed
    on the Root activity page, since a root sign-in in an account nobody registered is news in itself."""

    aws_account_id = models.CharField(max_length=12)
    event_id = models.CharField(max_length=64)
    at = models.DateTimeField()
    name = models.CharField(max_length=128)
    source_ip = models.CharField(max_length=128, blank=True)
    success = models.BooleanField()
    mfa_used = models.BooleanField(null=True)
    raw = models.JSONField(help_text="the record as CloudTrail wrote it")
    message_id = models.CharField(max_length=128, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["aws_account_id", "event_id"], name="one_unregistered_event_per_event_id")]

    def __str__(self) -> str:
        return f"{self.name} by root of unregistered account {self.aws_account_id} at {self.at:%Y-%m-%d %H:%M} UTC"
