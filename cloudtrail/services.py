"""Storing root events: all-or-nothing, idempotent by eventID, findings raised over every stored event of the days
concerned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.aws import AccountAccess, describe_error
from accounts.models import AwsAccount
from audits.alerts import alerts_for_run
from audits.checks import EVENT_CHECK_IDS
from audits.models import AuditRun, RunSource, RunStatus
from audits.runs import StepOutcome
from audits.services import FindingCounts, event_findings_record
from cloudtrail.checks import evaluate_events, known_networks
from cloudtrail.fetch import Lookup, enabled_regions, lookup_root_events
from cloudtrail.models import RootEvent, TrailRead
from cloudtrail.records import RootRecord, Sorted, TrailFileError, records_in, sort_records, unique


@dataclass(frozen=True, slots=True)
class Stored:
    events: int  # root events read
    new: int  # of them, not stored before
    findings: FindingCounts


def store_root_events(*, run: AuditRun, records: Sequence[RootRecord], origin: str) -> Stored:
    """Store `records` (the run's account's root events) not stored before and raise their findings, inside the
    caller's transaction."""
    account = run.account
    records = list(unique(records))
    known = set(
        RootEvent.objects.filter(account=account, event_id__in=[r.event_id for r in records]).values_list("event_id", flat=True)
    )
    new = [r for r in records if r.event_id not in known]
    RootEvent.objects.bulk_create(
        RootEvent(
            account=account, event_id=r.event_id, at=r.at, name=r.name, event_source=r.event_source, region=r.region,
            source_ip=r.source_ip, user_agent=r.user_agent, mfa_used=r.mfa_used, success=r.success, error=r.error,
            access_key_id=r.access_key_id, raw=r.raw, origin=origin, run=run,
        )
        for r in new
    )  # fmt: skip
    days = {r.at.date() for r in new}
    if not days:
        return Stored(len(records), 0, FindingCounts(0, 0, 0))
    stored = RootEvent.objects.filter(account=account, at__gte=_start(min(days)), at__lt=_start(max(days)) + timedelta(days=1))
    affected = [event_record(e, account.account_id) for e in stored if e.at.astimezone(UTC).date() in days]
    results = evaluate_events(affected, known_networks(settings.IAMWATCH_KNOWN_NETWORKS))
    return Stored(len(records), len(new), event_findings_record(run=run, results=results))


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def event_record(event: RootEvent, account_id: str) -> RootRecord:
    """A stored event (of the account `account_id`) as the checks read it."""
    return RootRecord(
        event_id=event.event_id, at=event.at, name=event.name, event_source=event.event_source, region=event.region,
        source_ip=event.source_ip, user_agent=event.user_agent, mfa_used=event.mfa_used, success=event.success,
        error=event.error, access_key_id=event.access_key_id, account_id=account_id,
        arn=str((event.raw.get("userIdentity") or {}).get("arn") or ""), raw=event.raw,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FileImport:
    run: AuditRun
    files: int
    stored: Stored
    other_accounts: int
    not_root: int

    def summary(self) -> str:
        skipped = []
        if self.other_accounts:
            skipped.append(f"{self.other_accounts} of other accounts")
        if self.not_root:
            skipped.append(f"{self.not_root} not by root")
        return (
            f"{self.stored.events} root event{'s' if self.stored.events != 1 else ''} ({self.stored.new} new) "
            f"from {self.files} file{'s' if self.files != 1 else ''}"
            + (f"; records skipped: {', '.join(skipped)}" if skipped else "")
            + f"; findings: {self.stored.findings.new} new, {self.stored.findings.open - self.stored.findings.new} seen again"
        )


def cloudtrail_import(*, account: AwsAccount, files: Sequence[tuple[str, bytes]], actor: str) -> FileImport:
    """Import CloudTrail files into `account` as one run: every file is read and checked before anything is stored,
    and either every new root event lands with its findings or nothing does. Raises TrailFileError."""
    if not files:
        raise TrailFileError("no file given")
    sorted_files: list[Sorted] = [sort_records(name, records_in(name, content), account.account_id) for name, content in files]
    now = timezone.now()
    with transaction.atomic():
        run = AuditRun.objects.create(
            account=account, source=RunSource.CLOUDTRAIL, status=RunStatus.SUCCEEDED, requested_at=now, requested_by=actor,
            started_at=now, finished_at=now, generated_at=now,
        )  # fmt: skip
        stored = store_root_events(run=run, records=[r for s in sorted_files for r in s.root], origin=RootEvent.Origin.FILE)
        result = FileImport(
            run=run, files=len(files), stored=stored,
            other_accounts=sum(s.other_accounts for s in sorted_files), not_root=sum(s.not_root for s in sorted_files),
        )  # fmt: skip
        run.open_finding_count, run.new_finding_count = stored.findings.open, stored.findings.new
        run.warnings = [result.summary()]
        run.save(update_fields=["open_finding_count", "new_finding_count", "warnings"])
        transaction.on_commit(lambda: alerts_for_run(run_id=run.pk))
    return result


class LookupStep:
    """Root events from LookupEvents in every fetch run (audits.runs.RunStep), unless IAMWATCH_CLOUDTRAIL_LOOKUP is off."""

    def read(self, access: AccountAccess, account: AwsAccount, now: datetime) -> Lookup | str | None:
        """The lookup, or why nothing could be read (a string), or None when switched off."""
        if not settings.IAMWATCH_CLOUDTRAIL_LOOKUP:
            return None
        regions = list(settings.IAMWATCH_CLOUDTRAIL_REGIONS)
        if not regions:
            try:
                regions = enabled_regions(access.client("ec2"))
            except (ClientError, BotoCoreError) as exc:
                return describe_error(exc, call="ec2:DescribeRegions") + " (or set IAMWATCH_CLOUDTRAIL_REGIONS)"
        newest = dict(
            RootEvent.objects.filter(account=account, origin=RootEvent.Origin.LOOKUP)
            .values_list("region")
            .annotate(newest=Max("at"))
            .order_by()
        )
        return lookup_root_events(
            lambda region: access.client("cloudtrail", region), regions=regions, account_id=account.account_id, newest=newest, now=now
        )

    def store(self, run: AuditRun, data: Any) -> StepOutcome:
        if data is None:
            return StepOutcome()
        if isinstance(data, str):
            return StepOutcome([f"CloudTrail not read: {data}"], dict.fromkeys(sorted(EVENT_CHECK_IDS), f"CloudTrail not read: {data}"))
        lookup: Lookup = data
        stored = store_root_events(run=run, records=lookup.records, origin=RootEvent.Origin.LOOKUP)
        TrailRead.objects.bulk_create(
            TrailRead(account=run.account, run=run, region=r.region, start=r.start, end=r.end, events=r.events, problem=r.problem)
            for r in lookup.regions
        )
        read = [r.region for r in lookup.regions if not r.problem]
        notes = [
            f"CloudTrail LookupEvents: {stored.events} root event{'s' if stored.events != 1 else ''} ({stored.new} new) "
            f"in {len(read)} region{'s' if len(read) != 1 else ''}; findings: {stored.findings.new} new"
        ]
        if not lookup.problems:
            return StepOutcome(notes)
        why = "CloudTrail not read in " + "; ".join(lookup.problems)
        return StepOutcome([*notes, why], dict.fromkeys(sorted(EVENT_CHECK_IDS), why))
