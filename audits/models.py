"""Audit runs, the evidence they keep, the principal history they build and the findings they raise."""

from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Lower

from accounts.models import AwsAccount


class RunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial", "partial (some checks could not run)"
    FAILED = "failed"
    UNCHANGED = "unchanged", "unchanged (report already stored)"


# A run whose report and findings landed: all of them, or all but the checks whose API calls were denied.
STORED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)


class RunSource(models.TextChoices):
    IMPORT = "import", "imported file"
    FETCH = "fetch", "fetched from AWS"
    DEMO = "demo", "demo generator"
    CLOUDTRAIL = "cloudtrail", "CloudTrail files"
    IDENTITY_CENTER = "sso", "IAM Identity Center"
    PUSH = "push", "EventBridge push"


# Runs that read a credential report (a fetch also reads CloudTrail); a CloudTrail file import or an Identity Center
# run reads no report, so it never stands for "the latest report" of an account.
REPORT_SOURCES = (RunSource.IMPORT, RunSource.FETCH, RunSource.DEMO)


class StoredReport(models.Model):
    """Raw credential report bytes, compressed, kept as evidence. Identical reports are stored once."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField()
    compressed = models.BinaryField()

    def __str__(self) -> str:
        return self.sha256


class AuditRunQuerySet(models.QuerySet["AuditRun"]):
    def stored_reports(self) -> AuditRunQuerySet:
        """Runs whose credential report landed (succeeded or partial): the history of an account's reports."""
        return self.filter(status__in=STORED, source__in=REPORT_SOURCES)


class AuditRun(models.Model):
    """One fetch or import of one account's credential report (a fetch also reads CloudTrail), or one import of
    CloudTrail files (source cloudtrail, no report). All-or-nothing: data only lands with `succeeded` or `partial`."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=10, choices=RunSource.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    requested_at = models.DateTimeField()
    requested_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True, help_text="T: the time findings are evaluated at")
    aws_generated_at = models.DateTimeField(null=True, blank=True, help_text="GeneratedTime as AWS stated it")
    report = models.ForeignKey(StoredReport, null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    not_evaluated = models.JSONField(
        default=dict, blank=True, help_text="check id -> why it could not run: its findings were left as they were"
    )
    principal_count = models.PositiveIntegerField(default=0)
    changed_principal_count = models.PositiveIntegerField(default=0)
    open_finding_count = models.PositiveIntegerField(default=0)
    new_finding_count = models.PositiveIntegerField(default=0)
    resolved_finding_count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(
        default=dict, blank=True, help_text="after this run: open findings by severity, users, console users without MFA, naming"
    )

    objects = AuditRunQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status", "-generated_at"]),
            models.Index(fields=["account", "-requested_at"]),
            models.Index(fields=["requested_at"]),  # runs stored since a time, fleet-wide: findings new since the review
            # Each account's last report run and its status, in the agenda's order (the index alone answers them).
            models.Index(
                fields=["account", "-requested_at", "-id", "status"],
                condition=models.Q(source__in=[s.value for s in REPORT_SOURCES]),
                name="last_report_run_idx",
            ),
        ]
        constraints = [
            # One stored run per report time: a duplicate delivery cannot store the same report twice. Runs of other
            # evidence (CloudTrail files, Identity Center) hold no report: their time is their own.
            models.UniqueConstraint(
                fields=["account", "generated_at"],
                condition=models.Q(status__in=["succeeded", "partial"], source__in=[s.value for s in REPORT_SOURCES]),
                name="one_stored_run_per_report_time",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.account.account_id} ({self.status})"


class PrincipalState(models.Model):
    """One IAM principal's credential state over an interval of report times [valid_from, valid_to).

    A row is written only when the state changes, so "user X on date D" is the one row with
    valid_from <= D < valid_to (or valid_to null: still current).
    """

    # Indexed by the unique constraints below, which start with the account.
    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="principal_states", db_index=False)
    name = models.CharField(max_length=128)
    arn = models.CharField(max_length=2048)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    # No index: nothing looks states up by the run that wrote them, and runs are evidence, never deleted; an index
    # here cost every 10,000-user import a B-tree of 10,000 entries (issue 29).
    first_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    appeared = models.BooleanField(default=False, help_text="the principal was not in the previous report (new user)")
    removed = models.BooleanField(default=False, help_text="closed because the principal left the report (removed user)")
    user_creation_time = models.DateTimeField(null=True)
    password_enabled = models.BooleanField(null=True)
    password_last_used = models.DateTimeField(null=True)
    password_never_used = models.BooleanField(default=False)
    password_last_changed = models.DateTimeField(null=True)
    password_next_rotation = models.DateTimeField(null=True)
    mfa_active = models.BooleanField(default=False)
    key1_active = models.BooleanField(default=False)
    key1_last_rotated = models.DateTimeField(null=True)
    key1_last_used = models.DateTimeField(null=True)
    key1_last_used_region = models.CharField(max_length=32, blank=True)
    key1_last_used_service = models.CharField(max_length=64, blank=True)
    key2_active = models.BooleanField(default=False)
    key2_last_rotated = models.DateTimeField(null=True)
    key2_last_used = models.DateTimeField(null=True)
    key2_last_used_region = models.CharField(max_length=32, blank=True)
    key2_last_used_service = models.CharField(max_length=64, blank=True)
    cert1_active = models.BooleanField(default=False)
    cert1_last_rotated = models.DateTimeField(null=True)
    cert2_active = models.BooleanField(default=False)
    cert2_last_rotated = models.DateTimeField(null=True)

    class Meta:
        ordering = ["account", "name", "valid_from"]
        indexes = [
            # "Changes since the last review": new and removed users without scanning the history.
            models.Index(fields=["valid_from"], condition=models.Q(appeared=True), name="principal_appeared_idx"),
            models.Index(fields=["valid_to"], condition=models.Q(removed=True), name="principal_removed_idx"),
            # Who has access where: a person's candidate user names across every account, as IAM compares them.
            models.Index(Lower("name"), condition=models.Q(valid_to__isnull=True), name="current_principal_lower_name"),
        ]
        constraints = [  # the first also serves as the index for "user X on date D"
            models.UniqueConstraint(fields=["account", "name", "valid_from"], name="one_state_per_principal_and_time"),
            models.UniqueConstraint(
                fields=["account", "name"], condition=models.Q(valid_to__isnull=True), name="one_current_state_per_principal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.valid_from:%Y-%m-%d}"


class RootUsageEvent(models.Model):
    """A distinct time the root user was seen used, with the run that first saw it."""

    class Credential(models.TextChoices):
        # The kind of credential, not a secret.
        PASSWORD = "password"  # noqa: S105  # nosec B105
        ACCESS_KEY_1 = "access_key_1", "access key 1"
        ACCESS_KEY_2 = "access_key_2", "access key 2"

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="root_usage_events")
    used_at = models.DateTimeField()
    credential = models.CharField(max_length=16, choices=Credential.choices)
    first_seen_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="root_usage_events")

    class Meta:
        ordering = ["-used_at"]
        constraints = [models.UniqueConstraint(fields=["account", "credential", "used_at"], name="one_root_event_per_use")]

    def __str__(self) -> str:
        return f"root {self.credential} used {self.used_at:%Y-%m-%d %H:%M} in {self.account.account_id}"


class FindingStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"


class Finding(models.Model):
    """One (account, check, principal) problem, living across runs: opened, seen again, resolved, reopened."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="findings", db_index=False)  # see constraints
    check_id = models.CharField(max_length=64)
    principal = models.CharField(max_length=128, blank=True, help_text="IAM user name, <root_account>, or empty for the account")
    subject = models.CharField(
        max_length=200, blank=True, default="", db_default="",
        help_text="an event finding's subject (CloudTrail event id, UTC day, day and address); empty for a state's finding",
    )  # fmt: skip
    arn = models.CharField(max_length=2048, blank=True)
    severity = models.CharField(max_length=10)
    detail = models.TextField()
    status = models.CharField(max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    first_run = models.ForeignKey(AuditRun, on_delete=models.RESTRICT, related_name="+")
    # The last and resolving runs are read through the finding, never searched by: without an index, the update of
    # every open finding's last run at each report run leaves no index entry to rewrite (issue 29). Runs are
    # evidence, never deleted (RESTRICT would refuse it anyway).
    last_run = models.ForeignKey(AuditRun, on_delete=models.RESTRICT, related_name="+", db_index=False)
    resolved_run = models.ForeignKey(AuditRun, null=True, blank=True, on_delete=models.RESTRICT, related_name="+", db_index=False)
    reopened_count = models.PositiveIntegerField(default=0)
    accepted_until = models.DateTimeField(
        null=True, blank=True, help_text="an accepted finding shows as accepted until then, then reopens"
    )

    class Meta:
        ordering = ["account", "check_id", "principal", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "check_id", "principal", "subject"], name="one_finding_per_check_principal_and_subject"
            )
        ]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["account", "status"]),
            # New since the review, counted by account and severity from the index alone (no finding read).
            models.Index(fields=["first_seen", "account", "severity"], name="finding_new_since_idx"),
            # Resolved since the review and still resolved, counted by account from the index alone.
            models.Index(
                fields=["resolved_at", "account"], condition=models.Q(status="resolved"), name="finding_resolved_since_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.check_id} {self.principal or self.account.account_id} ({self.status})"


class FindingTally(models.Model):
    """How many findings of a check and severity are open in an account now.

    Kept by every write that opens, resolves, accepts or reopens a finding (audits.services.finding_tally_refresh, in
    the same transaction), so that the agenda and the trend count a fleet's open findings from a few rows an account,
    never by scanning its findings. An account with none open of a check and severity has no row."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="+", db_index=False)
    check_id = models.CharField(max_length=64)
    severity = models.CharField(max_length=10)
    open = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "check_id", "severity"], name="one_tally_per_account_check_and_severity")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.check_id} {self.severity}: {self.open} open"


class FindingEvent(models.Model):
    """A change in a finding's life, with the run that saw it: its history across runs (sightings are not repeated)."""

    class Kind(models.TextChoices):
        OPENED = "opened"
        RESOLVED = "resolved"
        REOPENED = "reopened"
        ACCEPTED = "accepted"  # by a signed review, until its expiry
        EXPIRED = "expired"  # the acceptance ran out: open again

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    # Events are read by finding or by time, never by run (runs are evidence, never deleted): no index (issue 29).
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="finding_events", db_index=False)
    at = models.DateTimeField(help_text="the run's report time")
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["at", "kind"])]
        constraints = [  # a run opens, resolves or reopens a finding once (a review may accept it again later)
            models.UniqueConstraint(
                fields=["finding", "run", "kind"], condition=models.Q(kind__in=["opened", "resolved", "reopened"]), name="one_run_event_per_finding"
            )
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.kind} at {self.at:%Y-%m-%d}"


class Alert(models.Model):
    """One alert to the account's security distribution list, for one event; never repeated (unique key)."""

    class Kind(models.TextChoices):
        ROOT_USAGE = "root_usage", "root used"
        ROOT_ACCESS_KEY = "root_access_key", "root access key"
        CRITICAL_FINDING = "critical_finding", "new critical finding"
        ROOT_EVENT = "root_event", "root event in CloudTrail"

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="alerts")
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="the event alerted on; one alert per key")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    recipients = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="one_alert_per_event")]

    def __str__(self) -> str:
        return self.subject


def _summary_figure(key: str) -> models.GeneratedField:
    return models.GeneratedField(
        expression=Cast(KT(f"summary__{key}"), models.IntegerField()), output_field=models.IntegerField(null=True), db_persist=True
    )


class TrendMonth(models.Model):
    """An account's month for the trend charts: the summary of the month's latest stored run.

    Kept at ingest, so that a year of trends for a thousand accounts reads twelve rows each, never their runs."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="trend_months")
    month = models.DateField(help_text="the first day of the month (UTC)")
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="+")
    generated_at = models.DateTimeField()
    summary = models.JSONField(default=dict)
    # The summary's figures as columns the database computes when the row is written: the fleet's trend adds up
    # 24,000 of them at 2,000 accounts, and integers add up three times faster than values read out of JSON (issue 29).
    critical = _summary_figure("critical")
    high = _summary_figure("high")
    medium = _summary_figure("medium")
    low = _summary_figure("low")
    users = _summary_figure("users")
    console_users = _summary_figure("console_users")
    without_mfa = _summary_figure("without_mfa")
    naming_violations = _summary_figure("naming_violations")

    class Meta:
        ordering = ["account", "month"]
        constraints = [models.UniqueConstraint(fields=["account", "month"], name="one_trend_point_per_account_and_month")]

    def __str__(self) -> str:
        return f"{self.account} {self.month:%Y-%m}"
