"""Storing root events: all-or-nothing, idempotent by eventID, findings raised over every stored event of the days
concerned."""

from __future__ import annotations

import dataclasses
import hashlib
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
from audits.checks import EVENT_CHECK_IDS, Result
from audits.models import AuditRun, Finding, RunSource, RunStatus
from audits.report import ROOT_USER
from audits.runs import StepOutcome
from audits.services import FindingCounts, event_findings_record
from cloudtrail.checks import known_networks
from cloudtrail.fetch import LOOKUP_ATTEMPTS, Lookup, enabled_regions, lookup_root_events
from cloudtrail.models import EventConflict, RootEvent, TrailFile, TrailRead
from cloudtrail.records import RootRecord, Sorted, TrailFileError, records_in, sort_records, unique
from cloudtrail.selectors import event_record
from cloudtrail.sessions import SESSION_CHECK, RootSession, root_sessions


@dataclass(frozen=True, slots=True)
class Stored:
    events: int  # root events read
    new: int  # of them, not stored before
    findings: FindingCounts


# What a record says that IAMWatch reads and decides on: a file that differs from AWS in any of these contradicts it.
COMPARED = ("at", "name", "event_source", "region", "source_ip", "user_agent", "mfa_used", "success", "error", "access_key_id")
CONFLICT_CHECK = "root.evidence_conflict"


def _fields(r: RootRecord) -> dict[str, Any]:
    return {
        "event_id": r.event_id, "at": r.at, "name": r.name, "event_source": r.event_source,
        "region": r.region, "source_ip": r.source_ip, "user_agent": r.user_agent, "mfa_used": r.mfa_used,
        "success": r.success, "error": r.error, "access_key_id": r.access_key_id, "raw": r.raw,
    }  # fmt: skip


def store_root_events(
    *, run: AuditRun, records: Sequence[RootRecord], origin: str, files: dict[str, TrailFile] | None = None,
    recorded_at: datetime | None = None, message_ids: dict[str, str] | None = None,
) -> Stored:
    """Store `records` (the run's account's root events) not stored before and raise their findings, inside the
    caller's transaction. `files`: the file each record came from, by eventID (origin file); `recorded_at`: when they
    are stored (now, unless the demo writes its history); `message_ids`: the SQS message each record came in, by
    eventID (origin push).

    AWS's own record wins: when LookupEvents returns an event that a file supplied with other values, AWS's record
    replaces the file's, the file's is kept as an EventConflict, and a critical root.evidence_conflict names the file
    and who uploaded it."""
    account = run.account
    records = list(unique(records))
    known = {
        e.event_id: e
        for e in RootEvent.objects.filter(account=account, event_id__in=[r.event_id for r in records]).select_related("file")
    }
    new = [r for r in records if r.event_id not in known]
    now = recorded_at or timezone.now()
    RootEvent.objects.bulk_create(
        RootEvent(
            account=account,
            **_fields(r),
            origin=origin,
            run=run,
            file=(files or {}).get(r.event_id),
            recorded_at=now,
            message_id=(message_ids or {}).get(r.event_id, ""),
        )
        for r in new
    )
    replaced: list[tuple[RootEvent, TrailFile, RootRecord, list[str]]] = []
    if origin == RootEvent.Origin.LOOKUP:
        for r in records:
            stored_event = known.get(r.event_id)
            if stored_event is None or stored_event.file is None:
                continue
            differences = [f for f in COMPARED if getattr(stored_event, f) != getattr(r, f)]
            if differences:
                replaced.append((stored_event, stored_event.file, r, differences))
    conflicts = []
    for stored_event, trail_file, r, differences in replaced:
        conflict = EventConflict(
            account=account, event_id=r.event_id, file=trail_file, file_raw=stored_event.raw, differences=differences,
            aws_run=run, recorded_at=now,
        )  # fmt: skip
        conflicts.append(conflict)
        RootEvent.objects.filter(pk=stored_event.pk).update(
            **{k: v for k, v in _fields(r).items() if k != "event_id"}, origin=origin, run=run, file=None, recorded_at=now
        )
    EventConflict.objects.bulk_create(conflicts)
    days = {r.at.date() for r in new} | {r.at.date() for _, _, r, _ in replaced}
    if not days:
        return Stored(len(records), 0, FindingCounts(0, 0, 0))
    # The sessions the new events belong to, over every stored event around them (a session may cross midnight).
    stored = RootEvent.objects.filter(account=account, at__gte=_start(min(days)) - SESSION_MARGIN, at__lt=_start(max(days)) + timedelta(days=1) + SESSION_MARGIN)
    touched = {r.event_id for r in new} | {r.event_id for _, _, r, _ in replaced}
    sessions = [
        s for s in root_sessions([event_record(e, account.account_id) for e in stored], known_networks(settings.IAMWATCH_KNOWN_NETWORKS))
        if touched.intersection(s.event_ids)
    ]  # fmt: skip
    results = _keeping_subjects(account, sessions)
    results += [_conflict_result(c, r) for c, (_, _, r, _) in zip(conflicts, replaced, strict=True)]
    return Stored(len(records), len(new), event_findings_record(run=run, results=results))


SESSION_MARGIN = timedelta(days=1)


def _keeping_subjects(account: AwsAccount, sessions: list[RootSession]) -> list[Result]:
    """Each session's finding. A session that grew to include an event before its first (failed attempts that arrived
    in a later file, say) keeps the finding it had: the finding already named after one of its events."""
    had = set(
        Finding.objects.filter(account=account, check_id=SESSION_CHECK, subject__in=[e for s in sessions for e in s.event_ids]).values_list("subject", flat=True)
    )
    results = []
    for session in sessions:
        result = session.result()
        earlier = sorted(had.intersection(session.event_ids) - {result.subject})
        if earlier and result.subject not in had:
            result = dataclasses.replace(result, subject=earlier[0])
        results.append(result)
    return results


def _conflict_result(conflict: EventConflict, aws: RootRecord) -> Result:
    file = conflict.file
    said = (
        f"CloudTrail file {file.name} (SHA-256 {file.sha256}), uploaded by {file.uploaded_by} at "
        f"{file.uploaded_at:%Y-%m-%d %H:%M:%S} UTC, gave event {conflict.event_id} other values than AWS's own record "
        f"(LookupEvents): {', '.join(conflict.differences)}. AWS's record is stored; the file's is kept as evidence."
    )
    return Result(CONFLICT_CHECK, ROOT_USER, aws.arn, said, subject=conflict.event_id)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


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


def cloudtrail_import(
    *, account: AwsAccount, files: Sequence[tuple[str, bytes]], actor: str, received_at: datetime | None = None
) -> FileImport:
    """Import CloudTrail files into `account` as one run: every file is read and checked before anything is stored,
    and either every new root event lands with its findings or nothing does. Raises TrailFileError. `received_at`:
    when the files came (now, unless the demo writes its history)."""
    if not files:
        raise TrailFileError("no file given")
    sorted_files: list[Sorted] = [sort_records(name, records_in(name, content), account.account_id) for name, content in files]
    now = received_at or timezone.now()
    with transaction.atomic():
        run = AuditRun.objects.create(
            account=account, source=RunSource.CLOUDTRAIL, status=RunStatus.SUCCEEDED, requested_at=now, requested_by=actor,
            started_at=now, finished_at=now, generated_at=now,
        )  # fmt: skip
        by_event: dict[str, TrailFile] = {}
        for (name, content), found in zip(files, sorted_files, strict=True):
            trail_file = TrailFile.objects.create(
                account=account, run=run, name=name[:255], sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                uploaded_by=actor, uploaded_at=now,
            )  # fmt: skip
            for r in found.root:
                by_event.setdefault(r.event_id, trail_file)
        stored = store_root_events(
            run=run, records=[r for s in sorted_files for r in s.root], origin=RootEvent.Origin.FILE, files=by_event,
            recorded_at=now,
        )
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
            lambda region: access.client("cloudtrail", region, attempts=LOOKUP_ATTEMPTS), regions=regions, account_id=account.account_id, newest=newest, now=now,
            deadline=settings.IAMWATCH_CLOUDTRAIL_DEADLINE,
        )

    def failed(self, reason: str) -> StepOutcome:
        why = f"CloudTrail not stored: {reason}"
        return StepOutcome([why], dict.fromkeys(sorted(EVENT_CHECK_IDS), why))

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
