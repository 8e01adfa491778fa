"""Reviews: open one, walk it account by account deciding every open finding, sign it off; the evidence pack, the
meeting calendar and its private links."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from accounts.selectors import in_accounts, visible_accounts
from audits.export import FINDINGS_HEADER
from audits.models import Finding
from reviews.calendar import calendar_feed_exists, calendar_feed_issue, calendar_feed_revoke, calendar_feed_user
from reviews.evidence import DISPOSITIONS_HEADER, EvidenceUnavailable, evidence_pack
from reviews.forms import CorrectionForm, DispositionForm, ReviewForm, SignOffForm
from reviews.frozen import (
    Frozen,
    FrozenDecision,
    FrozenFinding,
    frozen_finding_rows,
    frozen_review,
    late_for_open,
    late_for_signed,
)
from reviews.models import Disposition, Review
from reviews.selectors import (
    attached_report_uses,
    meeting_at,
    review_cadence,
    review_finding_rows,
    review_findings,
    review_progress,
    undecided,
    upcoming_meetings,
    visible_reviews,
)
from reviews.services import (
    Carried,
    Decision,
    ReviewError,
    carried_decisions,
    disposition_set,
    dispositions_bulk,
    dispositions_carry,
    four_eyes_refusal,
    review_correct,
    review_open,
    review_sign,
)
from staff.export import csv_response
from staff.forms import form_errors
from staff.roles import ANYONE, READ_PERMISSION, actor_of, policy

REVIEW_PERMISSION = "reviews.add_signoff"
REVIEWS_HEADER = (
    "review_id",
    "title",
    "period_start",
    "period_end",
    "status",
    "prepared_by",
    "signed_by",
    "signed_at",
    "snapshot_sha256",
)


# The findings CSV's columns, then the decision's (the evidence pack's findings.csv and dispositions.csv in one).
REVIEW_FINDINGS_HEADER = ("finding_id", *FINDINGS_HEADER, *DISPOSITIONS_HEADER[4:])


def _reviews(user: Any) -> QuerySet[Review]:
    """The reviews `user` may see: those all of whose accounts they may see."""
    return visible_reviews(visible_accounts(user))


@policy(get=READ_PERMISSION)
def review_list(request: HttpRequest) -> HttpResponseBase:
    reviews = _reviews(request.user).annotate(n_accounts=Count("accounts")).prefetch_related("signoffs")
    if request.GET.get("format") == "csv":
        rows = []
        for r in reviews:
            last = r.signoffs.all().order_by("-signed_at").first()
            rows.append(
                (r.pk, r.title, r.period_start, r.period_end, r.status, r.created_by, last.signed_by if last else "",
                 last.signed_at if last else "", last.snapshot_sha256 if last else "")
            )  # fmt: skip
        return csv_response(REVIEWS_HEADER, rows, "iamwatch-reviews.csv")
    context = {
        "reviews": reviews,
        "cadence": review_cadence(now=timezone.now(), within=visible_accounts(request.user)),
        "form": ReviewForm(within=visible_accounts(request.user)),
    }
    return render(request, "reviews/review_list.html", context)


@policy(post="reviews.add_review")
def review_new(request: HttpRequest) -> HttpResponse:
    form = ReviewForm(request.POST, within=visible_accounts(request.user))
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("reviews:review-list")
    start, end = form.period_bounds()
    accounts = list(form.cleaned_data["accounts"]) or list(form.active_accounts)
    try:
        review = review_open(period_start=start, period_end=end, accounts=accounts, actor=request.user)
    except ReviewError as exc:
        messages.error(request, exc.message)
        return redirect("reviews:review-list")
    return redirect("reviews:review-detail", review_id=review.pk)


@policy(get=READ_PERMISSION)
def review_detail(request: HttpRequest, review_id: int) -> HttpResponseBase:
    """The review, one account at a time (?account=), each open finding with its decision; ?format=csv: all of them."""
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    frozen = frozen_review(review)  # a signed review is shown as it was signed, never from live data
    if request.GET.get("format") == "csv":
        rows = frozen_finding_rows(frozen) if frozen else review_finding_rows(review)
        return csv_response(REVIEW_FINDINGS_HEADER, rows, f"iamwatch-review-{review.pk}-findings.csv")
    if request.GET.get("print") == "all":
        return _print_page(request, review, frozen)
    if frozen:
        return _frozen_page(request, review, frozen, request.GET.get("account", ""))
    return _review_page(request, review, request.GET.get("account", ""))


def _print_page(request: HttpRequest, review: Review, frozen: Frozen | None) -> HttpResponse:
    """The whole review for paper: every account, every finding and its decision, read-only (a signed review as
    signed). The review page's own print shows the account on screen; its "Print the whole review" opens this."""
    pairs: list[tuple[str, str, Any, Any]]
    if frozen:
        names = {a.account_id: a.name for a in frozen.accounts}
        pairs = [(names.get(f.account_id, f.account_id), f.account_id, f, f.decision) for f in frozen.findings]
        accounts = [(a.name, a.account_id) for a in frozen.accounts]
        preparers = frozen.preparers
    else:
        decided = {d.finding_id: d for d in Disposition.objects.filter(review=review).select_related("carried_from")}
        pairs = [(f.account.name, f.account.account_id, f, decided.get(f.pk)) for f in review_findings(review)]
        accounts = list(review.accounts.order_by("name", "account_id").values_list("name", "account_id"))
        preparers = sorted({review.created_by, *Disposition.objects.filter(review=review).values_list("decided_by", flat=True)})
    by_account: dict[str, list[tuple[Any, Any]]] = {account_id: [] for _, account_id in accounts}
    for _, account_id, f, d in pairs:
        by_account.setdefault(account_id, []).append((f, d))
    context = {
        "review": review,
        "frozen": frozen,
        "accounts": [(name, account_id, by_account.get(account_id, [])) for name, account_id in accounts],
        "total": len(pairs),
        "undecided": sum(1 for *_, d in pairs if d is None),
        "preparers": preparers,
        "signoffs": list(review.signoffs.order_by("signed_at", "pk")),
        "printed_at": timezone.now(),
    }
    return render(request, "reviews/review_print.html", context)


def _walk(accounts: list[Any], chosen: str, progress: list[tuple[Any, int, int]]) -> tuple[Any, Any, Any]:
    """The account shown (?account=, else the first with an undecided finding, else the first), the one before, after."""
    if chosen:
        current = next((a for a in accounts if a.account_id == chosen), None)
        if current is None:
            raise Http404("this review does not cover that account")
    else:
        current = next((a for a, total, done in progress if done < total), accounts[0] if accounts else None)
    index = accounts.index(current) if current else 0
    previous = accounts[index - 1] if current and index > 0 else None
    following = accounts[index + 1] if current and index + 1 < len(accounts) else None
    return current, previous, following


def _frozen_page(request: HttpRequest, review: Review, frozen: Frozen, chosen: str) -> HttpResponse:
    """A signed review from its latest snapshot: the accounts, counts, findings and decisions as signed; what arrived
    after the sign-off about its period listed apart, with links."""
    counts = frozen.progress()
    progress = [(a, *counts.get(a.account_id, (0, 0))) for a in frozen.accounts]
    current, previous, following = _walk(frozen.accounts, chosen, progress)
    rows = [Row(f, f.decision, None, {}, "", "") for f in frozen.findings if current and f.account_id == current.account_id]
    context = {
        "review": review,
        "frozen": frozen,
        "progress": progress,
        "current": current,
        "previous": previous,
        "next": following,
        "rows": rows,
        "kept": Kept(),
        "total": len(frozen.findings),
        "undecided": 0,
        "signoffs": list(review.signoffs.order_by("signed_at", "pk")),
        "correction_form": CorrectionForm(),
        "preparers": frozen.preparers,
        "late": late_for_signed(review, frozen),
        "max_days": frozen.signoff.snapshot.get("acceptance_max_days", settings.IAMWATCH_ACCEPTANCE_MAX_DAYS),
    }
    return render(request, "reviews/review_detail.html", context)


DECISION_FIELDS = ("justification", "owner", "expires_on", "ticket", "due_on")


@dataclass
class Kept:
    """What a refused form held, to show it again beside the error: never a blank form after a refusal."""

    error: str = ""
    finding_id: int | None = None  # the row whose decision was refused; None: the bulk form
    kind: str = ""
    values: dict[str, str] = field(default_factory=dict)
    selected: frozenset[int] = frozenset()
    comment: str = ""  # a refused sign-off's comment
    sign_error: str = ""


def _posted_decision(request: HttpRequest) -> tuple[Decision | None, Kept]:
    """The decision a form posted: `kind` (the button pressed) and its fields, named `<kind>-<field>` (or plain)."""
    kind = request.POST.get("kind", "")
    values = {f: request.POST.get(f"{kind}-{f}", request.POST.get(f, "")) for f in DECISION_FIELDS}
    form = DispositionForm({"kind": kind, **values})
    if not form.is_valid():
        return None, Kept(form_errors(form), kind=kind, values=values)
    return Decision(**form.cleaned_data), Kept(kind=kind, values=values)


def _review_page(request: HttpRequest, review: Review, chosen: str, kept: Kept | None = None) -> HttpResponse:
    """The review, one account at a time, each open finding with its decision; `kept`: a refused form to show again."""
    accounts = list(review.accounts.order_by("name", "account_id"))
    counts = review_progress(review)
    progress = [(a, *counts.get(a.pk, (0, 0))) for a in accounts]
    current, previous, following = _walk(accounts, chosen, progress)
    findings = list(review_findings(review).filter(account=current)) if current else []
    decided = {
        d.finding_id: d
        for d in Disposition.objects.filter(review=review, finding__in=findings).select_related("carried_from")
    }
    today = timezone.now().date()
    within = visible_accounts(request.user)
    carried = carried_decisions(review=review, today=today, account=current, within=within) if current and review.editable else []
    proposals = {c.finding.pk: c for c in carried}
    kept = kept or Kept()
    attached = attached_report_uses(review, findings)
    with_session = {u.pk for uses in attached.values() for u in uses}  # shown in their session's row, decided with it
    rows = [
        dataclasses.replace(_row(f, decided.get(f.pk), proposals.get(f.pk), kept, today), attached=tuple(attached.get(f.pk, ())))
        for f in findings
        if f.pk not in with_session
    ]
    rows.sort(key=lambda r: (r.decision is not None, not (r.carried and r.carried.problem)))  # undecided first, problems on top
    signoffs = list(review.signoffs.order_by("signed_at", "pk"))
    context = {
        "review": review,
        "progress": progress,
        "current": current,
        "previous": previous,
        "next": following,
        "late": late_for_open(review, accounts=accounts, now=timezone.now()),
        "rows": rows,
        "carryable": [c for c in carried if not c.problem],
        "carry_problems": [c for c in carried if c.problem],
        "kept": kept,
        "bulk": kept if kept.finding_id is None else Kept(),
        "checks": sorted({r.finding.check_id for r in rows if r.decision is None}),
        "kinds": Disposition.Kind.choices,
        "undecided": sum(total - done for total, done in counts.values()) if review.editable else 0,
        "total": sum(total for total, _ in counts.values()),
        "signoffs": signoffs,
        "sign_form": SignOffForm(initial={"comment": kept.comment}),
        # Who may not sign sees why, instead of a form that would be refused.
        "sign_refusal": four_eyes_refusal(review, request.user, timezone.now())
        if review.editable and request.user.has_perm(REVIEW_PERMISSION)
        else "",
        "correction_form": CorrectionForm(),
        "four_eyes": settings.IAMWATCH_REVIEW_FOUR_EYES,
        # By name for the reader (who opened it and who decided); four-eyes itself compares user ids (preparers()).
        "preparers": sorted({review.created_by, *Disposition.objects.filter(review=review).values_list("decided_by", flat=True)}),
        "max_days": settings.IAMWATCH_ACCEPTANCE_MAX_DAYS,
        "today": today,
    }
    return render(request, "reviews/review_detail.html", context, status=400 if kept.error or kept.sign_error else 200)


@dataclass(frozen=True, slots=True)
class Row:
    """A finding on the review page: its decision in this review, an earlier review's decision, the form's values."""

    finding: Finding | FrozenFinding
    decision: Disposition | FrozenDecision | None
    carried: Carried | None
    values: dict[str, str]  # what the decision form shows: the refused input, else the decision (this or the earlier)
    kind: str  # the decision whose fields are shown open
    error: str
    attached: tuple[Finding, ...] = ()  # the report's root.recent_use this root session's decision decides too


def _values(d: Disposition | None, today: date | None = None) -> dict[str, str]:
    """The form's values for a decision. With `today` (an earlier review's decision to decide again), a date that
    would be refused as it stands (an expiry or a due date gone by) starts empty, to be chosen anew."""
    if d is None:
        return {}
    expires_on, due_on = d.expires_on, d.due_on
    if today is not None:
        expires_on = expires_on if expires_on and expires_on > today else None
        due_on = due_on if due_on and due_on >= today else None
    return {
        "justification": d.justification,
        "owner": d.owner,
        "expires_on": expires_on.isoformat() if expires_on else "",
        "ticket": d.ticket,
        "due_on": due_on.isoformat() if due_on else "",
    }


def _row(f: Finding, d: Disposition | None, carried: Carried | None, kept: Kept, today: date) -> Row:
    if kept.finding_id == f.pk:
        return Row(f, d, carried, kept.values, kept.kind, kept.error)
    if d is not None:
        return Row(f, d, carried, _values(d), "", "")
    earlier = carried.previous if carried else None
    return Row(f, d, carried, _values(earlier, today), earlier.kind if earlier else "", "")


def _account_url(review: Review, account_id: str, anchor: str = "") -> str:
    return f"{reverse('reviews:review-detail', args=[review.pk])}?account={account_id}{anchor}"


# A refused form is shown again at the address it was posted to, the input kept (status 400). Each such address also
# answers GET with the page it was posted from, so that the address bar after a refusal opens the same page again.


@policy(get=READ_PERMISSION, post="reviews.add_disposition")
def disposition_save(request: HttpRequest, review_id: int, finding_id: int) -> HttpResponse:
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    finding = get_object_or_404(
        in_accounts(Finding.objects.select_related("account"), visible_accounts(request.user)), pk=finding_id
    )
    if request.method == "GET":
        return redirect(_account_url(review, finding.account.account_id, f"#finding-{finding.pk}"))
    decision, kept = _posted_decision(request)
    kept.finding_id = finding.pk
    if decision is not None:
        try:
            disposition_set(review=review, finding=finding, decision=decision, actor=request.user, today=timezone.now().date())
        except ReviewError as exc:
            kept.error = str(exc.message)
    if kept.error:  # the page again, the error beside the row, the input kept
        kept.error = f"{finding.check_id} {finding.principal or '(account)'}: {kept.error}"
        return _review_page(request, review, finding.account.account_id, kept)
    messages.success(request, f"Decided: {finding.check_id} {finding.principal or '(account)'}.")
    return redirect(_account_url(review, finding.account.account_id, f"#finding-{finding.pk}"))


def _selected(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("finding") if v.isdigit()]


@policy(get=READ_PERMISSION, post="reviews.add_disposition")
def dispositions_decide(request: HttpRequest, review_id: int) -> HttpResponse:
    """One decision for the findings ticked on the review page, or every undecided one of the account (of a check)."""
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    if request.method == "GET":
        return _back_to_review(request, review)
    account = request.POST.get("account", "")
    ids = _selected(request)
    scope = request.POST.get("scope", "ticked")
    if scope in ("account", "check"):
        pending = undecided(review).filter(account__account_id=account)
        if scope == "check":
            pending = pending.filter(check_id=request.POST.get("check", ""))
        ids = list(pending.values_list("pk", flat=True))
    decision, kept = _posted_decision(request)
    kept.selected = frozenset(ids)
    if decision is not None:
        try:
            n = dispositions_bulk(
                review=review, finding_ids=ids, decision=decision, actor=request.user, today=timezone.now().date()
            )
        except ReviewError as exc:
            kept.error = str(exc.message)
    if kept.error:
        return _review_page(request, review, account, kept)
    messages.success(request, f"Decided {n} finding{'s' if n != 1 else ''}: {decision.kind.replace('_', ' ')}.")  # type: ignore[union-attr]
    return redirect(_account_url(review, account))


@policy(get=READ_PERMISSION, post="reviews.add_disposition")
def dispositions_carry_over(request: HttpRequest, review_id: int) -> HttpResponse:
    """Confirm the earlier reviews' decisions, unchanged, for the findings ticked (default: all that can stand)."""
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    if request.method == "GET":
        return _back_to_review(request, review)
    account = request.POST.get("account", "")
    try:
        n = dispositions_carry(
            review=review, finding_ids=_selected(request), actor=request.user, today=timezone.now().date(),
            within=visible_accounts(request.user),
        )  # fmt: skip
    except ReviewError as exc:
        return _review_page(request, review, account, Kept(str(exc.message), selected=frozenset(_selected(request))))
    messages.success(request, f"Carried over {n} decision{'s' if n != 1 else ''} from earlier reviews.")
    return redirect(_account_url(review, account))


@policy(get=READ_PERMISSION, post=REVIEW_PERMISSION)
def review_signoff(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    if request.method == "GET":
        return redirect(reverse("reviews:review-detail", args=[review.pk]) + "#signoff")
    if not review.editable:
        messages.error(request, "Not signed: this review is already signed.")
        return redirect("reviews:review-detail", review_id=review.pk)
    form = SignOffForm(request.POST)
    comment = request.POST.get("comment", "")
    if not form.is_valid():
        error = "a sign-off needs a comment"
    else:
        try:
            signoff = review_sign(review=review, actor=request.user, comment=form.cleaned_data["comment"], now=timezone.now())
        except ReviewError as exc:
            error = str(exc.message)
        else:
            messages.success(request, f"Signed off. Snapshot SHA-256 {signoff.snapshot_sha256}.")
            return redirect("reviews:review-detail", review_id=review.pk)
    # The page again with the error beside the form and the comment as typed.
    return _review_page(request, review, request.POST.get("account", ""), Kept(comment=comment, sign_error=f"Not signed: {error}"))


def _back_to_review(request: HttpRequest, review: Review) -> HttpResponse:
    account = request.GET.get("account", "")
    return redirect(_account_url(review, account) if account else reverse("reviews:review-detail", args=[review.pk]))


@policy(post=REVIEW_PERMISSION)
def review_correction(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    form = CorrectionForm(request.POST)
    try:
        if not form.is_valid():
            raise ReviewError("a correction needs a reason")
        review_correct(review=review, actor=request.user, reason=form.cleaned_data["reason"])
    except ReviewError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "Correction started: change the decisions, then sign again. The earlier sign-off stays as it was."
        )
    return redirect("reviews:review-detail", review_id=review.pk)


@policy(get=READ_PERMISSION)
def review_evidence(request: HttpRequest, review_id: int) -> HttpResponseBase:
    review = get_object_or_404(_reviews(request.user), pk=review_id)
    try:
        pack = evidence_pack(review)
    except EvidenceUnavailable as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    return FileResponse(
        pack, as_attachment=True, filename=f"iamwatch-review-{review.pk}-evidence.zip", content_type="application/zip"
    )


@policy(get=READ_PERMISSION)
def review_calendar(request: HttpRequest) -> HttpResponse:
    """The review meetings as iCalendar, downloaded by a logged-in reader."""
    return _calendar(request, request.user)


@policy(get=ANYONE)
def review_calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The same calendar for a calendar app, through the user's private link (no login, no session)."""
    user = calendar_feed_user(token)
    if user is None:
        raise Http404("no such calendar link")
    response = _calendar(request, user)
    response["Cache-Control"] = "private, no-store"
    return response


@policy(get=READ_PERMISSION, post=READ_PERMISSION)
def calendar_link(request: HttpRequest) -> HttpResponse:
    """Make (shown once), replace or revoke one's private calendar link."""
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            revoked = calendar_feed_revoke(user=request.user, actor=actor_of(request))
            messages.success(request, "Your calendar link no longer works." if revoked else "You had no calendar link.")
            return redirect("reviews:calendar-link")
        token = calendar_feed_issue(user=request.user, actor=actor_of(request))
    context = {
        "url": request.build_absolute_uri(reverse("reviews:review-calendar-feed", args=[token])) if token else "",
        "exists": token is not None or calendar_feed_exists(request.user),
    }
    return render(request, "reviews/calendar_link.html", context)


def _calendar(request: HttpRequest, user: Any) -> HttpResponse:
    """Past reviews (those `user` may see) and the next twelve meetings, each linking to its review."""
    now = timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//IAMWatch//review meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "IAMWatch review meetings")
    length = timedelta(minutes=settings.IAMWATCH_REVIEW_MEETING_MINUTES)
    reviews = list(_reviews(user).order_by("period_start", "pk"))
    by_period = {r.period_start: r for r in reviews}
    for review in reviews:
        start = meeting_at(review.period_end + timedelta(days=1))  # the meeting of the month after the period
        calendar.add_component(
            _event(
                request,
                f"review-{review.pk}",
                review.title,
                start,
                length,
                reverse("reviews:review-detail", args=[review.pk]),
                review.status,
            )
        )
    for meeting in upcoming_meetings(now=now, count=12):
        period = (meeting.date().replace(day=1) - timedelta(days=1)).replace(day=1)  # a meeting reviews the month before
        existing = by_period.get(period)
        if existing is not None:
            continue
        url = reverse("reviews:review-list") + f"?period={period:%Y-%m}"
        calendar.add_component(
            _event(request, f"meeting-{period:%Y-%m}", f"IAM review {period:%B %Y}", meeting, length, url, "due")
        )
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="iamwatch-reviews.ics"'
    return response


def _event(request: HttpRequest, uid: str, title: str, start: datetime, length: timedelta, path: str, status: str) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{request.get_host()}")
    event.add("summary", title)
    event.add("dtstart", start)
    event.add("dtend", start + length)
    event.add("dtstamp", start)
    url = request.build_absolute_uri(path)
    event.add("url", url)
    event.add("description", f"{title} ({status}): {url}")
    return event


