"""Reads of reviews: which a user may see, their findings and progress, who prepared them, the meeting cadence."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from accounts.models import AwsAccount
from accounts.selectors import every_account
from audits.export import finding_row
from audits.models import Finding, FindingStatus, FindingTally
from cloudtrail.selectors import session_of_report_use
from cloudtrail.sessions import SESSION_CHECK
from reviews.models import Disposition, Review, SignOff


def visible_reviews(within: QuerySet[AwsAccount]) -> QuerySet[Review]:
    """The reviews all of whose accounts are in `within` (those the reader may see): a review that covers
    an account hidden from the reader is hidden as a whole, evidence pack and sign-off included."""
    if every_account(within):
        return Review.objects.all()
    return Review.objects.exclude(accounts__in=AwsAccount.objects.exclude(pk__in=within))


def visible_signoffs(within: QuerySet[AwsAccount]) -> QuerySet[SignOff]:
    """The sign-offs of the reviews a reader of `within` may see (a scoped reader learns nothing of the others)."""
    if every_account(within):
        return SignOff.objects.all()
    return SignOff.objects.filter(review__in=visible_reviews(within))


def review_since(*, now: datetime, within: QuerySet[AwsAccount]) -> datetime:
    """Since the last review the reader may see: its latest sign-off, or 30 days back before the first one."""
    last = visible_signoffs(within).order_by("-signed_at").values_list("signed_at", flat=True).first()
    return last if last is not None else now - REVIEW_WINDOW


def review_findings(review: Review) -> QuerySet[Finding]:
    """The findings the review decides: every open finding of its accounts, and those it has decided already."""
    decided = Disposition.objects.filter(review=review, finding=OuterRef("pk"))
    return (
        Finding.objects.filter(account__in=review.accounts.all())
        .filter(Q(status=FindingStatus.OPEN) | Q(Exists(decided)))
        .select_related("account")
        .order_by("account__name", "account__account_id", "check_id", "principal")
    )


def review_finding_rows(review: Review) -> Iterator[tuple[object, ...]]:
    """The review's findings as the findings CSV shows them, each followed by its decision in this review (if any)."""
    decided = {d.finding_id: d for d in Disposition.objects.filter(review=review).select_related("carried_from")}
    for f in review_findings(review).select_related("last_run", "resolved_run").iterator(chunk_size=2000):
        d = decided.get(f.pk)
        decision = (
            (d.kind, d.justification, d.owner, d.expires_on, d.ticket, d.due_on, d.decided_by, d.decided_at, d.carried_from_review)
            if d is not None
            else ("",) * 9
        )
        yield (f.pk, *finding_row(f), *decision)


def review_progress(review: Review) -> dict[int, tuple[int, int]]:
    """Per account (pk): how many findings the review decides, and how many it has decided; two grouped queries.

    The review decides every open finding of its accounts and those it has decided already (review_findings):
    open ones counted by account, plus the decided ones no longer open."""
    decided = review_decisions(review)
    open_ = dict(  # from the tally of open findings kept at ingest, not a count of the fleet's findings
        FindingTally.objects.filter(account__in=review.accounts.all()).values_list("account").annotate(n=Sum("open")).order_by()
    )
    progress = {}
    for account in set(open_) | set(decided):
        done, done_not_open = decided.get(account, (0, 0))
        progress[account] = (open_.get(account, 0) + done_not_open, done)
    return progress


def review_decisions(review: Review) -> dict[int, tuple[int, int]]:
    """Per account (pk): the review's decisions, and how many of them are on findings no longer open."""
    return {
        a: (done, done_not_open)
        for a, done, done_not_open in Disposition.objects.filter(review=review)
        .values_list("finding__account")
        .annotate(done=Count("pk"), done_not_open=Count("pk", filter=~Q(finding__status=FindingStatus.OPEN)))
        .order_by()
    }


def open_review_decisions(within: QuerySet[AwsAccount]) -> tuple[Review | None, set[int], dict[int, tuple[int, int]]]:
    """The latest review not yet signed that the reader may see, its accounts (pks) and review_decisions (the
    overview adds the open findings it counts anyway: what the review decides is those and the decided ones)."""
    review = visible_reviews(within).exclude(status=Review.Status.SIGNED).order_by("-period_end", "-pk").first()
    if review is None:
        return None, set(), {}
    return review, set(review.accounts.values_list("pk", flat=True)), review_decisions(review)


def attached_report_uses(review: Review, findings: Iterable[Finding]) -> dict[int, list[Finding]]:
    """For each root session finding among `findings` (by its pk), the credential report's open root.recent_use of
    its account in this review whose last root use is that session: decided with it, never on its own."""
    sessions = [f for f in findings if f.check_id == SESSION_CHECK]
    if not sessions:
        return {}
    uses = review_findings(review).filter(check_id="root.recent_use", status=FindingStatus.OPEN, account__in={f.account_id for f in sessions})
    attached: dict[int, list[Finding]] = {}
    for use in uses:
        session = session_of_report_use(account=use.account, until=use.last_seen)
        for f in sessions:
            if session is not None and f.account_id == use.account_id and f.subject == session.subject:
                attached.setdefault(f.pk, []).append(use)
    return attached


def undecided(review: Review) -> QuerySet[Finding]:
    return review_findings(review).exclude(Exists(Disposition.objects.filter(review=review, finding=OuterRef("pk"))))


def preparers(review: Review) -> set[int | str]:
    """Who prepared the review, by identity: the user ids of who opened it and who recorded its decisions.

    Reviews and decisions recorded before identities were kept (no user id) name their author only: for those the
    name stands in, which is the best they can say.
    """
    rows = [(review.created_by_user_id, review.created_by)]
    rows += Disposition.objects.filter(review=review).values_list("decided_by_user_id", "decided_by")
    return {user_id if user_id is not None else name for user_id, name in rows}


@dataclass(frozen=True, slots=True)
class Cadence:
    last_signed: SignOff | None
    due: datetime
    overdue: bool


def meeting_at(month: date) -> datetime:
    """The review meeting of a month: IAMWATCH_REVIEW_MEETING_DAY at IAMWATCH_REVIEW_MEETING_TIME, UTC."""
    hour, minute = (int(x) for x in settings.IAMWATCH_REVIEW_MEETING_TIME.split(":"))
    return datetime(month.year, month.month, settings.IAMWATCH_REVIEW_MEETING_DAY, hour, minute, tzinfo=UTC)


def review_cadence(*, now: datetime, within: QuerySet[AwsAccount]) -> Cadence:
    """When the next review is due: the meeting a cadence after the last sign-off the reader may see (now, if none)."""
    last = visible_signoffs(within).order_by("-signed_at", "-pk").first()
    if last is None:
        return Cadence(None, now, False)
    due = meeting_at((last.signed_at + relativedelta(months=settings.IAMWATCH_REVIEW_CADENCE_MONTHS)).date())
    return Cadence(last, due, now > due)


def upcoming_meetings(*, now: datetime, count: int) -> list[datetime]:
    first = now.date().replace(day=1)
    meetings = [meeting_at(first + relativedelta(months=i * settings.IAMWATCH_REVIEW_CADENCE_MONTHS)) for i in range(count + 1)]
    return [m for m in meetings if m >= now - timedelta(days=1)][:count]


# --- The review-meeting dashboard -------------------------------------------------------------
REVIEW_WINDOW = timedelta(days=30)
