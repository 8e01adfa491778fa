"""A signed review as it was signed: its page, CSV and counts read the latest sign-off's snapshot, never live data; and
what arrived after the sign-off about its period (late evidence), shown beside it and first on the next review."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.urls import reverse

from accounts.models import AwsAccount
from audits.export import FINDINGS_HEADER
from audits.models import REPORT_SOURCES, AuditRun, RootUsageEvent
from cloudtrail.models import RootEvent
from reviews.models import Disposition, Review, SignOff
from reviews.period import previous_signoffs


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class FrozenAccount:
    account_id: str
    name: str


@dataclass(frozen=True, slots=True)
class FrozenDecision:
    """A decision as the snapshot keeps it; reads like a Disposition in the templates."""

    kind: str
    justification: str
    owner: str
    expires_on: date | None
    ticket: str
    due_on: date | None
    decided_by: str
    decided_at: datetime | None
    carried_from_review: int | None

    def get_kind_display(self) -> str:
        return str(dict(Disposition.Kind.choices).get(self.kind, self.kind))


@dataclass(frozen=True, slots=True)
class FrozenFinding:
    """A finding as the snapshot keeps it; reads like a Finding in the templates."""

    pk: int
    account_id: str
    check_id: str
    severity: str
    principal: str
    detail: str
    status: str
    first_seen: datetime | None
    row: dict[str, Any]  # the findings CSV's values, as signed
    decision: FrozenDecision | None


def _decision(d: dict[str, Any] | None) -> FrozenDecision | None:
    if d is None:
        return None
    return FrozenDecision(
        kind=d["disposition"], justification=d.get("justification") or "", owner=d.get("owner") or "",
        expires_on=_day(d.get("expires_on")), ticket=d.get("ticket") or "", due_on=_day(d.get("due_on")),
        decided_by=d.get("decided_by") or "", decided_at=_time(d.get("decided_at")), carried_from_review=d.get("carried_from_review"),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Frozen:
    """The latest sign-off of a signed review and what its snapshot says."""

    signoff: SignOff
    accounts: list[FrozenAccount]
    findings: list[FrozenFinding]
    preparers: list[str]

    def progress(self) -> dict[str, tuple[int, int]]:
        """Per account id: findings the review decided, and how many had a decision (all of them, once signed)."""
        counts: dict[str, tuple[int, int]] = {}
        for f in self.findings:
            total, done = counts.get(f.account_id, (0, 0))
            counts[f.account_id] = (total + 1, done + (f.decision is not None))
        return counts


def frozen_review(review: Review) -> Frozen | None:
    """The review as its latest sign-off froze it, while it stands signed; None while it is open or being corrected."""
    if review.status != Review.Status.SIGNED:
        return None
    signoff = review.signoffs.order_by("-signed_at", "-pk").first()
    if signoff is None:
        return None
    snapshot = signoff.snapshot
    findings = [
        FrozenFinding(
            pk=f["finding_id"], account_id=f["account_id"], check_id=f["check_id"], severity=f["severity"], principal=f["principal"],
            detail=f["detail"], status=f["status"], first_seen=_time(f["first_seen"]), row=f, decision=_decision(f.get("disposition")),
        )
        for f in snapshot.get("findings", [])
    ]
    findings.sort(key=lambda f: (f.check_id, f.principal))
    people = snapshot.get("review", {})
    preparers = sorted({(people.get("prepared_by") or {}).get("name") or review.created_by, *(p["name"] for p in people.get("decided_by", []))})
    accounts = sorted((FrozenAccount(a["account_id"], a["name"]) for a in snapshot.get("accounts", [])), key=lambda a: (a.name, a.account_id))
    return Frozen(signoff, accounts, findings, preparers)


def frozen_finding_rows(frozen: Frozen) -> Iterator[tuple[object, ...]]:
    """The review CSV's rows as signed: each finding as the findings CSV showed it, then its decision."""
    for f in sorted(frozen.findings, key=lambda f: (_account_name(frozen, f.account_id), f.account_id, f.check_id, f.principal)):
        d = f.row.get("disposition") or {}
        decision = tuple(d.get(k) for k in ("disposition", "justification", "owner", "expires_on", "ticket", "due_on", "decided_by", "decided_at", "carried_from_review"))
        yield (f.pk, *(f.row[k] for k in FINDINGS_HEADER), *decision)


def _account_name(frozen: Frozen, account_id: str) -> str:
    return next((a.name for a in frozen.accounts if a.account_id == account_id), "")


@dataclass(frozen=True, slots=True)
class Late:
    """Evidence about a period that was stored after the period's sign-off: shown on the signed review, first on the next."""

    account: AwsAccount
    what: str
    happened_at: datetime
    stored_at: datetime
    url: str


def late_evidence(*, accounts: list[AwsAccount], since: dict[int, datetime]) -> list[Late]:
    """Per account (pk -> a sign-off's time): root events, root use and reports that happened by that sign-off and were
    stored after it, oldest stored first; three queries whatever the number of accounts."""
    by_pk = {a.pk: a for a in accounts if a.pk in since}
    if not by_pk:
        return []
    earliest = min(since[pk] for pk in by_pk)
    found: list[Late] = []

    def late(account_pk: int, happened: datetime, stored: datetime) -> bool:
        return happened <= since[account_pk] < stored

    def page(account: AwsAccount, anchor: str) -> str:
        return f"{reverse('audits:account-detail', args=[account.account_id])}{anchor}"

    for e in RootEvent.objects.filter(account__in=by_pk, recorded_at__gt=earliest).select_related("file"):
        if late(e.account_id, e.at, e.recorded_at):
            what = ("root console sign-in" + ("" if e.success else " (failed)")) if e.is_sign_in else f"root called {e.action}"
            account = by_pk[e.account_id]
            url = f"{reverse('cloudtrail:root-activity')}?account={account.account_id}"
            found.append(Late(account, f"{what}, from {e.source}", e.at, e.recorded_at, url))
    uses = RootUsageEvent.objects.filter(account__in=by_pk, first_seen_run__requested_at__gt=earliest).select_related("first_seen_run")
    for u in uses:
        if late(u.account_id, u.used_at, u.first_seen_run.requested_at):
            what = f"root {u.get_credential_display()} used (credential report, run {u.first_seen_run_id})"
            found.append(Late(by_pk[u.account_id], what, u.used_at, u.first_seen_run.requested_at, page(by_pk[u.account_id], "#root-usage")))
    for r in AuditRun.objects.stored_reports().filter(account__in=by_pk, requested_at__gt=earliest, source__in=REPORT_SOURCES):
        if r.generated_at is not None and late(r.account_id, r.generated_at, r.requested_at):
            what = f"credential report of that time, {r.get_source_display()} in run {r.pk}"
            found.append(Late(by_pk[r.account_id], what, r.generated_at, r.requested_at, page(by_pk[r.account_id], "#runs")))
    return sorted(found, key=lambda item: (item.stored_at, item.account.name, item.happened_at))


def late_for_signed(review: Review, frozen: Frozen) -> list[Late]:
    """What arrived after this review's sign-off about its period."""
    signed_at = review.signoffs.order_by("signed_at", "pk").values_list("signed_at", flat=True).first() or frozen.signoff.signed_at
    accounts = list(review.accounts.order_by("name", "account_id"))
    return late_evidence(accounts=accounts, since={a.pk: signed_at for a in accounts})


def late_for_open(review: Review, *, accounts: list[AwsAccount], now: datetime) -> list[Late]:
    """What arrived after each account's previous sign-off about the time before it: first on the open review."""
    return late_evidence(accounts=accounts, since=previous_signoffs(review, before=now))
