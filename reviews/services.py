"""Review sign-off: open a review, decide every open finding, sign it off frozen; acceptances expire on their own."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

import iamwatch
from accounts.models import AwsAccount
from audits.checks import EVENT_CHECK_IDS
from audits.export import FINDINGS_HEADER, finding_row
from audits.models import AuditRun, Finding, FindingEvent, FindingStatus
from audits.services import finding_tally_refresh, thresholds_from_settings
from reviews.models import Disposition, Review, SignOff
from reviews.period import iso, period_evidence, review_period
from reviews.selectors import attached_report_uses, preparers, review_findings, undecided, visible_reviews
from staff.chain import GENESIS, canonical_json, chain_lock, chain_time, link_sha256
from staff.trail import handling_said, login_handled_by, record_change, trail_head


class ReviewError(ValidationError):
    """A review action refused, with one line saying why."""


def _day_after(d: date) -> datetime:
    """An acceptance "until D" holds through day D (UTC) and ends at the start of the next day."""
    return datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=UTC)


@transaction.atomic
def review_open(*, period_start: date, period_end: date, accounts: list[AwsAccount], actor: Any, title: str = "") -> Review:
    """Open a review of a period over some accounts; `actor` is the user who prepares it."""
    if period_end < period_start:
        raise ReviewError("the period ends before it starts")
    if not accounts:
        raise ReviewError("a review covers at least one account")
    review = Review.objects.create(
        title=title
        or f"IAM review {period_start:%B %Y}" + (f" to {period_end:%B %Y}" if period_end.month != period_start.month else ""),
        period_start=period_start,
        period_end=period_end,
        created_by=actor.get_username(),
        created_by_user=actor,
    )
    review.accounts.set(accounts)
    record_change(
        actor=actor.get_username(),
        action="review.opened",
        target=f"review {review.pk}",
        after={
            "title": review.title,
            "period": f"{period_start}..{period_end}",
            "accounts": sorted(a.account_id for a in accounts),
        },
    )
    return review


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str
    justification: str = ""
    owner: str = ""
    expires_on: date | None = None
    ticket: str = ""
    due_on: date | None = None


def _decision_problem(decision: Decision, today: date) -> str:
    kind = decision.kind
    if kind == Disposition.Kind.ACCEPTED_RISK:
        limit = today + timedelta(days=settings.IAMWATCH_ACCEPTANCE_MAX_DAYS)
        if not decision.justification.strip() or not decision.owner.strip():
            return "an accepted risk needs a justification and an owner"
        if decision.expires_on is None:
            return "an accepted risk needs an expiry date"
        if not today < decision.expires_on <= limit:
            return f"an accepted risk expires after today and at most {settings.IAMWATCH_ACCEPTANCE_MAX_DAYS} days ahead (by {limit})"
    elif kind == Disposition.Kind.REMEDIATION_PLANNED:
        if not decision.ticket.strip() or decision.due_on is None:
            return "planned remediation needs a ticket reference and a due date"
        if decision.due_on < today:
            return "the remediation's due date is in the past"
    elif kind == Disposition.Kind.FALSE_POSITIVE:
        if not decision.justification.strip():
            return "a false positive needs a justification"
    else:
        return f"unknown disposition {kind!r}"
    return ""


@transaction.atomic
def disposition_set(
    *, review: Review, finding: Finding, decision: Decision, actor: Any, today: date, carried_from: Disposition | None = None
) -> Disposition:
    """Record (or change) the review's decision on a finding; the review must not be signed.

    `carried_from`: the earlier review's decision this one confirms unchanged (dispositions_carry). A root session's
    decision also decides the credential report's root.recent_use when the report's last root use is that session
    (reviews.selectors.attached_report_uses): one session, decided once."""
    disposition = _disposition_set(review=review, finding=finding, decision=decision, actor=actor, today=today, carried_from=carried_from)
    for use in attached_report_uses(review, [finding]).get(finding.pk, []):
        _disposition_set(review=review, finding=use, decision=decision, actor=actor, today=today, carried_from=None)
    return disposition


def _disposition_set(
    *, review: Review, finding: Finding, decision: Decision, actor: Any, today: date, carried_from: Disposition | None
) -> Disposition:
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.editable:
        raise ReviewError("this review is signed: start a correction to change a decision")
    if not review.accounts.filter(pk=finding.account_id).exists():
        raise ReviewError("this finding belongs to an account the review does not cover")
    problem = _decision_problem(decision, today)
    if problem:
        raise ReviewError(problem)
    fields = {k: v for k, v in asdict(decision).items()}
    fields["justification"], fields["owner"], fields["ticket"] = (
        decision.justification.strip(),
        decision.owner.strip(),
        decision.ticket.strip(),
    )
    if decision.kind != Disposition.Kind.ACCEPTED_RISK:
        fields.update(owner="", expires_on=None)
    if decision.kind == Disposition.Kind.FALSE_POSITIVE:
        fields.update(ticket="")  # an accepted risk may name its ticket (the risk register's, say); optional
    if decision.kind != Disposition.Kind.REMEDIATION_PLANNED:
        fields.update(due_on=None)
    existing = Disposition.objects.filter(review=review, finding=finding).select_related("carried_from").first()
    before = disposition_values(existing) if existing else None
    disposition, _ = Disposition.objects.update_or_create(
        review=review,
        finding=finding,
        defaults={**fields, "decided_by": actor.get_username(), "decided_by_user": actor, "carried_from": carried_from},
    )
    after = disposition_values(disposition)
    record_change(
        actor=actor.get_username(),
        action="finding.disposition_carried" if carried_from is not None else "finding.disposition_set",
        target=f"finding {finding.pk} ({finding.check_id} {finding.principal}) in review {review.pk}",
        before=before,
        after=after,
    )
    return disposition


@transaction.atomic
def dispositions_bulk(*, review: Review, finding_ids: list[int], decision: Decision, actor: Any, today: date) -> int:
    """One decision for many findings of the review, all or none; one trail entry per finding."""
    if not finding_ids:
        raise ReviewError("select at least one finding")
    findings = list(review_findings(review).filter(pk__in=finding_ids))
    if len(findings) != len(set(finding_ids)):
        raise ReviewError("some selected findings are not in this review (or not visible to you): nothing was decided")
    for finding in findings:
        disposition_set(review=review, finding=finding, decision=decision, actor=actor, today=today)
    return len(findings)


@dataclass(frozen=True, slots=True)
class Carried:
    """A decision of an earlier signed review on a finding still open: proposed again, unless `problem` says why not."""

    finding: Finding
    previous: Disposition
    problem: str  # "" when it can be confirmed as it stands

    @property
    def decision(self) -> Decision:
        return _decision_of(self.previous)


def _decision_of(d: Disposition) -> Decision:
    return Decision(d.kind, d.justification, d.owner, d.expires_on, d.ticket, d.due_on)


def _carry_problem(previous: Disposition, today: date) -> str:
    """Why an earlier decision cannot simply be confirmed: a remediation overdue, an acceptance run out."""
    if previous.kind == Disposition.Kind.REMEDIATION_PLANNED and previous.due_on is not None and previous.due_on < today:
        return f"remediation overdue: ticket {previous.ticket} was due on {previous.due_on:%Y-%m-%d}"
    if previous.kind == Disposition.Kind.ACCEPTED_RISK and previous.expires_on is not None and previous.expires_on <= today:
        return f"acceptance expired on {previous.expires_on:%Y-%m-%d}: decide again"
    if previous.kind == Disposition.Kind.FALSE_POSITIVE:
        return "marked a false positive, yet it is still reported: look at it again"
    problem = _decision_problem(_decision_of(previous), today)
    return f"cannot be carried as it stands: {problem}" if problem else ""


def carried_decisions(
    *, review: Review, today: date, account: AwsAccount | None = None, within: QuerySet[AwsAccount] | None = None
) -> list[Carried]:
    """For each undecided finding of the review (of `account`), the latest decision on it in another signed review
    (one the reader of `within` may see: a review covering an account outside a scope is not shown, nor its
    decisions' values); those that cannot be confirmed as they stand first."""
    findings = {f.pk: f for f in (undecided(review).filter(account=account) if account else undecided(review))}
    latest: dict[int, Disposition] = {}
    earlier = Disposition.objects.filter(finding_id__in=findings, review__status=Review.Status.SIGNED)
    if within is not None:
        earlier = earlier.filter(review__in=visible_reviews(within))
    earlier = (
        earlier.exclude(review=review)
        .select_related("review")
        .order_by("finding_id", "-review__period_end", "-review_id")
    )
    for d in earlier:
        latest.setdefault(d.finding_id, d)
    carried = [Carried(findings[pk], d, _carry_problem(d, today)) for pk, d in latest.items()]
    return sorted(carried, key=lambda c: (c.problem == "", c.finding.check_id, c.finding.principal))


@transaction.atomic
def dispositions_carry(
    *, review: Review, finding_ids: list[int], actor: Any, today: date, within: QuerySet[AwsAccount] | None = None
) -> int:
    """Confirm earlier decisions unchanged for the given findings, all or none; one trail entry per finding.

    Only decisions that can stand as they are: an overdue remediation or an expired acceptance is decided anew."""
    if not finding_ids:
        raise ReviewError("select at least one carried decision")
    proposals = {c.finding.pk: c for c in carried_decisions(review=review, today=today, within=within) if c.finding.pk in set(finding_ids)}
    missing = sorted(set(finding_ids) - set(proposals))
    if missing:
        raise ReviewError(f"finding {missing[0]} has no earlier decision to carry over (or is decided already): nothing was carried")
    blocked = [c for c in proposals.values() if c.problem]
    if blocked:
        c = blocked[0]
        raise ReviewError(f"{c.finding.check_id} {c.finding.principal or '(account)'}: {c.problem}; nothing was carried")
    for c in proposals.values():
        disposition_set(review=review, finding=c.finding, decision=c.decision, actor=actor, today=today, carried_from=c.previous)
    return len(proposals)


def disposition_values(d: Disposition) -> dict[str, Any]:
    return {
        "disposition": d.kind,
        "justification": d.justification,
        "owner": d.owner,
        "expires_on": d.expires_on.isoformat() if d.expires_on else None,
        "ticket": d.ticket,
        "due_on": d.due_on.isoformat() if d.due_on else None,
        "decided_by": d.decided_by,
        "decided_at": iso(d.decided_at),
        "carried_from_review": d.carried_from.review_id if d.carried_from is not None else None,
    }


SIGNOFF_TABLE = SignOff._meta.db_table


def signoff_content(s: SignOff) -> dict[str, Any]:
    """What a sign-off's chain link hashes: who signed what (the snapshot by its SHA-256), when, and the trail's head."""
    return {
        "review_id": s.review_id, "signed_by": s.signed_by, "signed_by_user_id": s.signed_by_user_id,
        "prepared_by": s.prepared_by, "signed_at": chain_time(s.signed_at), "comment": s.comment,
        "corrects_id": s.corrects_id, "snapshot_sha256": s.snapshot_sha256, "trail_sha256": s.trail_sha256,
    }  # fmt: skip


def _latest_runs(accounts: list[AwsAccount]) -> list[AuditRun]:
    runs = []
    for account in accounts:
        run = (
            AuditRun.objects.stored_reports().filter(account=account)
            .select_related("report")
            .order_by("-generated_at", "-pk")
            .first()
        )
        if run is not None:
            runs.append(run)
    return runs


def _person(user_id: int | None, name: str) -> dict[str, Any]:
    return {"user_id": user_id, "name": name}


def _deciding(findings: list[Finding]) -> dict[tuple[str, str], list[int]]:
    """(account id, subject): the review's root-event findings, which decide the events of that subject."""
    deciding: dict[tuple[str, str], list[int]] = {}
    for f in findings:
        if f.check_id in EVENT_CHECK_IDS:
            deciding.setdefault((f.account.account_id, f.subject), []).append(f.pk)
    return deciding


def prepared_by(review: Review) -> str:
    """Who prepared the review, for the sign-off line: who opened it, then who decided (by name, as they were named)."""
    deciders = sorted(set(Disposition.objects.filter(review=review).values_list("decided_by", flat=True)) - {review.created_by})
    said = review.created_by + (f"; decisions by {', '.join(deciders)}" if deciders else "")
    return said if len(said) <= 150 else said[:140].rsplit(", ", 1)[0] + ", and others"


def _snapshot(review: Review, *, signed_by: Any, signed_at: datetime, comment: str, corrects: SignOff | None) -> dict[str, Any]:
    accounts = list(review.accounts.order_by("account_id"))
    dispositions = {d.finding_id: d for d in Disposition.objects.filter(review=review).select_related("carried_from")}
    findings = list(review_findings(review).select_related("last_run", "resolved_run"))
    period = review_period(review, end=signed_at)
    return {
        "format": "iamwatch-signoff/5",
        "iamwatch_version": iamwatch.__version__,
        "review": {
            "id": review.pk,
            "title": review.title,
            "period_start": review.period_start.isoformat(),
            "period_end": review.period_end.isoformat(),
            "prepared_by": _person(review.created_by_user_id, review.created_by),
            "decided_by": sorted(
                (_person(*row) for row in set(Disposition.objects.filter(review=review).values_list("decided_by_user_id", "decided_by"))),
                key=lambda p: (p["name"], p["user_id"] or 0),
            ),
        },
        "signed_by": _person(signed_by.pk, signed_by.get_username()),
        "signed_at": iso(signed_at),
        "comment": comment,
        "corrects": corrects.pk if corrects else None,
        "accounts": [{"account_id": a.account_id, "name": a.name} for a in accounts],
        "runs": [
            {
                "run_id": r.pk,
                "account_id": r.account.account_id,
                "source": r.source,
                "report_generated_at": iso(r.generated_at),
                "report_sha256": r.report.sha256 if r.report else None,
            }
            for r in _latest_runs(accounts)
        ],
        # Each finding as the findings CSV shows it (the same columns and values, times in ISO UTC), at sign-off.
        "findings": [
            {
                "finding_id": f.pk,
                **{k: iso(v) if isinstance(v, datetime) else v for k, v in zip(FINDINGS_HEADER, finding_row(f), strict=True)},
                "disposition": disposition_values(dispositions[f.pk]) if f.pk in dispositions else None,
            }
            for f in findings
        ],
        # The period, exact to the second (format 5): from each account's previous review's sign-off to this one. Its
        # evidence: root events from CloudTrail (with their source and the findings that decide each) and from the
        # reports, Identity Center access granted and removed, runs, alerts, files that AWS contradicted; what
        # happened before the period but was stored in it is marked late.
        **period_evidence(period, accounts=accounts, deciding=_deciding(findings)),
        "thresholds": asdict(thresholds_from_settings()),
        "acceptance_max_days": settings.IAMWATCH_ACCEPTANCE_MAX_DAYS,
        "four_eyes": settings.IAMWATCH_REVIEW_FOUR_EYES,
    }


@transaction.atomic
def four_eyes_refusal(review: Review, actor: Any, now: datetime) -> str:
    """Why four-eyes keeps `actor` from signing the review off ("" when it does not, or is off): the signer did not
    prepare the review, and is no login a preparer created, changed, set the password of or reset the second factor
    of within IAMWATCH_FOUR_EYES_COOLDOWN_DAYS (a puppet login would be the same eyes). The review page asks it too,
    to say why instead of showing a form that would be refused."""
    if not settings.IAMWATCH_REVIEW_FOUR_EYES:
        return ""
    prepared = preparers(review)
    if {actor.pk, actor.get_username()} & prepared:
        return "four-eyes: a second reviewer who did not prepare this review must sign it off"
    names = {p for p in prepared if isinstance(p, str)}
    names |= set(User.objects.filter(pk__in=[p for p in prepared if isinstance(p, int)]).values_list("username", flat=True))
    days = settings.IAMWATCH_FOUR_EYES_COOLDOWN_DAYS
    found = login_handled_by(login=actor.get_username(), actors=names, since=now - timedelta(days=days))
    if found is not None:
        return (
            f"four-eyes: {found.actor}, who prepared this review, {handling_said(found)} the login {actor.get_username()} "
            f"on {found.at:%Y-%m-%d} (less than {days} days ago): another reviewer must sign it off"
        )
    return ""


def review_sign(*, review: Review, actor: Any, comment: str, now: datetime) -> SignOff:
    """Sign the review off: freeze what it covered and decided, and put its acceptances into effect."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.editable:
        raise ReviewError("this review is already signed")
    if not comment.strip():
        raise ReviewError("a sign-off needs a comment")
    refusal = four_eyes_refusal(review, actor, now)
    if refusal:
        raise ReviewError(refusal)
    missing = undecided(review).count()
    if missing:
        raise ReviewError(f"{missing} open finding{'s' if missing != 1 else ''} still without a decision")
    corrects = review.signoffs.order_by("-signed_at", "-pk").first()
    # The decisions take effect first, so that the snapshot (and the evidence pack) shows each finding as the pages
    # and the web CSV show it from the sign-off on: accepted, not "open".
    _apply_decisions(review, now)
    snapshot = _snapshot(review, signed_by=actor, signed_at=now, comment=comment.strip(), corrects=corrects)
    chain_lock(SIGNOFF_TABLE)
    signoff = SignOff(
        review=review,
        signed_by=actor.get_username(),
        signed_by_user=actor,
        prepared_by=prepared_by(review),
        signed_at=now,
        comment=comment.strip(),
        corrects=corrects,
        snapshot=snapshot,
        snapshot_sha256=hashlib.sha256(canonical_json(snapshot)).hexdigest(),
        trail_sha256=trail_head(),
        prev_sha256=SignOff.objects.order_by("-pk").values_list("sha256", flat=True).first() or GENESIS,
    )
    signoff.sha256 = link_sha256(signoff_content(signoff), signoff.prev_sha256)
    signoff.save(force_insert=True)
    review.status = Review.Status.SIGNED
    review.save(update_fields=["status"])
    record_change(
        actor=actor.get_username(),
        action="review.signed" if corrects is None else "review.corrected",
        target=f"review {review.pk}",
        after={"signoff": signoff.pk, "snapshot_sha256": signoff.snapshot_sha256, "corrects": corrects.pk if corrects else None},
    )
    return signoff


def _apply_decisions(review: Review, now: datetime) -> None:
    """Accepted risks and false positives show as accepted until their expiry; planned remediation stays open."""
    events = []
    changed: set[int] = set()  # accounts whose findings changed status
    for d in Disposition.objects.filter(review=review).select_related("finding"):
        finding = d.finding
        if finding.status == FindingStatus.RESOLVED:
            continue
        if d.kind == Disposition.Kind.ACCEPTED_RISK and d.expires_on is not None:
            until: datetime | None = _day_after(d.expires_on)
        elif d.kind == Disposition.Kind.FALSE_POSITIVE:
            until = now + timedelta(days=settings.IAMWATCH_ACCEPTANCE_MAX_DAYS)  # looked at again within the maximum
        else:
            until = None
        status = FindingStatus.ACCEPTED if until else FindingStatus.OPEN
        if (finding.status, finding.accepted_until) != (status, until):
            Finding.objects.filter(pk=finding.pk).update(status=status, accepted_until=until)
            changed.add(finding.account_id)
            if status == FindingStatus.ACCEPTED:
                events.append(FindingEvent(finding=finding, run_id=finding.last_run_id, at=now, kind=FindingEvent.Kind.ACCEPTED))
    FindingEvent.objects.bulk_create(events)
    finding_tally_refresh(changed)


@transaction.atomic
def review_correct(*, review: Review, actor: Any, reason: str) -> Review:
    """Reopen a signed review's decisions for a correction; the old sign-off stays as it is."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.status != Review.Status.SIGNED:
        raise ReviewError("only a signed review can be corrected")
    if not reason.strip():
        raise ReviewError("a correction needs a reason")
    review.status = Review.Status.CORRECTING
    review.save(update_fields=["status"])
    record_change(actor=actor.get_username(), action="review.correction_started", target=f"review {review.pk}", after={"reason": reason.strip()})
    return review


@transaction.atomic
def acceptances_expire(*, now: datetime) -> int:
    """Reopen every accepted finding whose acceptance has run out, so that the next review sees it."""
    expired = list(
        Finding.objects.select_for_update()
        .filter(status=FindingStatus.ACCEPTED, accepted_until__lte=now)
        .only("pk", "account_id", "last_run_id", "accepted_until")
    )
    if not expired:
        return 0
    Finding.objects.filter(pk__in=[f.pk for f in expired]).update(status=FindingStatus.OPEN, accepted_until=None)
    finding_tally_refresh(f.account_id for f in expired)
    FindingEvent.objects.bulk_create(
        [FindingEvent(finding_id=f.pk, run_id=f.last_run_id, at=now, kind=FindingEvent.Kind.EXPIRED) for f in expired]
    )
    for f in expired:
        record_change(
            actor="scheduler",
            action="finding.acceptance_expired",
            target=f"finding {f.pk}",
            before={"status": "accepted", "accepted_until": iso(f.accepted_until)},
            after={"status": "open"},
        )
    return len(expired)


# --- cadence --------------------------------------------------------------------------------------------


