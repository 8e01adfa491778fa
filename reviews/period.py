"""A review's period, exact to the second: for each account, from the previous review's sign-off to this one's (the
first review of an account covers everything since its first run); and the evidence of that period for the snapshot
and the evidence pack.

Evidence belongs to the period it was stored in as well as the one it happened in: a root sign-in of last month
imported today is in this period, marked late, so that nothing falls between two reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Min, Q

from accounts.models import AwsAccount
from audits.export import ROOT_USAGE_HEADER
from audits.models import Alert, AuditRun, RootUsageEvent
from cloudtrail.checks import event_subjects, known_networks
from cloudtrail.export import ROOT_EVENTS_HEADER, root_event_row
from cloudtrail.models import EventConflict, RootEvent
from cloudtrail.selectors import event_record
from cloudtrail.sessions import root_sessions
from identitycenter.models import AccessPath
from reviews.models import Review, SignOff
from staff.export import iso_utc


def iso(t: datetime | None) -> str | None:
    """A time as the snapshot keeps it: the CSVs' ISO 8601 UTC (staff.export.iso_utc), None for none."""
    return iso_utc(t) if t is not None else None


@dataclass(frozen=True, slots=True)
class Period:
    """Per account (pk): when its period starts (the previous review's sign-off; None: from its first run); and its end."""

    starts: dict[int, datetime | None]
    end: datetime

    def q(self, account_field: str, *time_fields: str) -> Q:
        """Rows of the period: of one of its accounts, with any of `time_fields` after the account's start and none
        after the end (the first time field is when it happened, the others when it was stored)."""
        where = Q(pk__in=[])
        for pk, start in self.starts.items():
            inside = Q(**{account_field: pk})
            for field in time_fields:
                inside &= Q(**{f"{field}__lte": self.end}) | Q(**{f"{field}__isnull": True})
            if start is not None:
                after = Q(pk__in=[])
                for field in time_fields:
                    after |= Q(**{f"{field}__gt": start})
                inside &= after
            where |= inside
        return where


def previous_signoffs(review: Review, *, before: datetime) -> dict[int, datetime]:
    """Per account (pk) of the review: the latest other review's sign-off before `before` (each review counted by its
    first sign-off: a correction does not move a period)."""
    firsts = dict(SignOff.objects.exclude(review=review).values_list("review").annotate(first=Min("signed_at")).order_by())
    starts: dict[int, datetime] = {}
    if not firsts:
        return starts
    covered = Review.accounts.through.objects.filter(
        awsaccount__in=review.accounts.all(), review_id__in=[r for r, t in firsts.items() if t < before]
    ).values_list("review_id", "awsaccount_id")
    for review_id, account_pk in covered:
        t = firsts[review_id]
        if account_pk not in starts or t > starts[account_pk]:
            starts[account_pk] = t
    return starts


def review_period(review: Review, *, end: datetime) -> Period:
    """The period a sign-off at `end` covers; a correction keeps the period of the review's first sign-off."""
    first = review.signoffs.order_by("signed_at", "pk").values_list("signed_at", flat=True).first()
    end = first or end
    starts = previous_signoffs(review, before=end)
    return Period({pk: starts.get(pk) for pk in review.accounts.values_list("pk", flat=True)}, end)


def _late(period: Period, account_pk: int, happened: datetime | None) -> bool:
    start = period.starts.get(account_pk)
    return happened is not None and start is not None and happened <= start


def period_evidence(period: Period, *, accounts: list[AwsAccount], deciding: dict[tuple[str, str], list[int]]) -> dict[str, Any]:
    """What the snapshot keeps of the period. `deciding`: (account id, subject) -> the findings that decide a root event."""
    by_pk = {a.pk: a for a in accounts}
    events = (
        RootEvent.objects.filter(period.q("account", "at", "recorded_at"))
        .select_related("account", "file")
        .order_by("at", "pk")
    )
    # Each event's finding is its session's (one per session, named after its sign-in or first event); the findings of
    # single events that sessions replaced are found by the subjects they had.
    session_of: dict[str, str] = {}
    by_account: dict[int, list[RootEvent]] = {}
    for e in events:
        by_account.setdefault(e.account_id, []).append(e)
    networks = known_networks(settings.IAMWATCH_KNOWN_NETWORKS)
    for account_events in by_account.values():
        for session in root_sessions([event_record(e, e.account.account_id) for e in account_events], networks):
            session_of.update(dict.fromkeys(session.event_ids, session.subject))
    root_events = [
        {
            **{k: iso(v) if isinstance(v, datetime) else v for k, v in zip(ROOT_EVENTS_HEADER, root_event_row(e), strict=True)},
            "recorded_at": iso(e.recorded_at),
            "late": _late(period, e.account_id, e.at),
            "finding_ids": sorted(
                {pk for subject in {*event_subjects(e.event_id, e.at, e.source_ip), session_of.get(e.event_id, "")}
                 for pk in deciding.get((e.account.account_id, subject), [])}
            ),
        }
        for e in events
    ]
    uses = (
        RootUsageEvent.objects.filter(period.q("account", "used_at", "first_seen_run__finished_at"))
        .select_related("account", "first_seen_run")
        .order_by("used_at", "pk")
    )
    root_usage = [
        {
            **dict(zip(ROOT_USAGE_HEADER, (u.account.account_id, u.credential, iso(u.used_at), u.first_seen_run_id, iso(u.first_seen_run.generated_at)), strict=True)),
            "late": _late(period, u.account_id, u.used_at),
        }
        for u in uses
    ]
    access = []
    for change, field in (("granted", "valid_from"), ("removed", "valid_to")):
        for p in AccessPath.objects.filter(period.q("account", field)).exclude(**{f"{field}__isnull": True}).order_by(field, "pk"):
            access.append(
                {
                    "account_id": by_pk[p.account_id].account_id, "change": change, "at": iso(getattr(p, field)),
                    "user_name": p.user_name, "permission_set": p.permission_set_name, "administrator": p.admin,
                    "through_group": p.group_name,
                }
            )
    runs = [
        {
            "run_id": r.pk, "account_id": by_pk[r.account_id].account_id, "source": r.source, "status": r.status,
            "requested_at": iso(r.requested_at), "report_generated_at": iso(r.generated_at),
            "report_sha256": r.report.sha256 if r.report else None, "error": r.error,
        }
        for r in AuditRun.objects.filter(period.q("account", "requested_at")).select_related("report").order_by("requested_at", "pk")
    ]
    alerts = [
        {
            "alert_id": a.pk, "account_id": by_pk[a.account_id].account_id, "kind": a.kind, "subject": a.subject,
            "recipients": a.recipients, "created_at": iso(a.created_at), "sent_at": iso(a.sent_at), "error": a.error,
        }
        for a in Alert.objects.filter(period.q("account", "created_at")).order_by("created_at", "pk")
    ]
    conflicts = [
        {
            "account_id": by_pk[c.account_id].account_id, "event_id": c.event_id, "file": c.file.name, "file_sha256": c.file.sha256,
            "uploaded_by": c.file.uploaded_by, "uploaded_at": iso(c.file.uploaded_at), "differences": " ".join(c.differences),
            "aws_run_id": c.aws_run_id, "recorded_at": iso(c.recorded_at),
        }
        for c in EventConflict.objects.filter(period.q("account", "recorded_at")).select_related("file").order_by("recorded_at", "pk")
    ]
    return {
        "period": {
            "end": iso(period.end),
            "starts": {by_pk[pk].account_id: iso(start) for pk, start in sorted(period.starts.items(), key=lambda kv: by_pk[kv[0]].account_id)},
        },
        "root_events": root_events,
        "root_usage": root_usage,
        "access_changes": access,
        "period_runs": runs,
        "alerts": alerts,
        "evidence_conflicts": conflicts,
    }
