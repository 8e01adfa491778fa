"""The meeting's pages that compose every domain: the agenda (overview), the account page, a finding with its review
decisions, changes since the last review, the practice, a naming standard with the users it would flag, and who has
access where.

Every table here has a CSV of exactly its rows with the same filters (`?format=csv`), streamed; htmx requests get
the table partial only. Every view needs a login (middleware) and declares who may open it (staff.roles.policy)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.forms import AccountStandardForm, ExemptionForm, NamingStandardForm
from accounts.models import AwsAccount, NamingExemption, NamingStandard
from accounts.selectors import (
    account_or_404,
    account_scope,
    account_standard,
    accounts_under,
    in_accounts,
    outside_scope,
    redacted,
    standard_rule,
    visible_accounts,
)
from accounts.services import standard_save
from audits.charts import last_months, root_usage_timeline, sparkline, summary_charts, worse_or_better
from audits.checks import CHECKS_BY_ID
from audits.export import ROOT_USAGE_HEADER, root_usage_row
from audits.forms import OverviewForm, ReportUploadForm, SinceForm
from audits.models import Finding
from audits.selectors import (
    STATUS_FILTERS,
    AccessRow,
    EnvironmentGroup,
    OverviewRow,
    access_rows,
    account_root_usage,
    account_sections,
    admins_with_mfa,
    changes_since,
    finding_counts,
    finding_history,
    fleet_trend,
    group_by_environment,
    latest_people,
    latest_points,
    latest_stored_run,
    overview_accounts,
    person_access,
    runs_page,
    standard_preview,
    trend_months,
    with_open_now,
)
from cloudtrail.selectors import (
    account_root_events,
    account_sessions,
    push_missed,
    push_status,
    report_uses_alone,
    sessions_since,
    trail_gaps,
)
from cloudtrail.sessions import CONSOLE_SESSION, SESSION_CHECK
from identitycenter.selectors import account_paths, admin_counts, paths_changed, person_paths
from people.forms import OwnerLinkForm
from people.matching import PersonFacts
from people.models import OwnerLink, Person
from people.selectors import directory_loaded
from reviews.selectors import open_review_decisions, review_cadence, review_since, visible_reviews
from staff.export import csv_response
from staff.forms import start_of_day
from staff.pages import page_or_partial, query_without_page, wants_csv
from staff.roles import ORGANISATION_WIDE, READ_PERMISSION, actor_of, policy

PERSON_PAGE = 100  # a person's IAM users per page (one who owns a user in every account has thousands); the CSV holds all
AGENDA_PAGE = 50  # agenda rows per page, worst first: a meeting reads the top of the list (issue 29); the CSV holds every account

OVERVIEW_HEADER = (
    "account_id", "account_name", "environment", "last_report_at", "last_run_status", "open_critical", "open_high",
    "open_medium", "open_low", "open_total", "new_since", "root_used_since", "since",
    # the agenda's columns, added after the first ones so that older readers of this file keep working
    "root_last_used", "resolved_since", "users", "console_users", "console_without_mfa", "naming_violations",
    "review_decided", "review_to_decide", "iam_admins", "identity_center_admins",
    "iam_can_become_admin", "identity_center_can_become_admin",
)  # fmt: skip


HISTORY_HEADER = ("finding_id", "account_id", "check_id", "principal", "event", "report_generated_at", "run_id")


USER_HEADER = ("account_id", "principal", "arn", "at")


ACCESS_CHANGE_HEADER = ("account_id", "user_name", "permission_set", "administrator", "through_group", "at")


@policy(get=READ_PERMISSION)
def overview(request: HttpRequest) -> HttpResponseBase:
    form = OverviewForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    since = _since(request, data.get("since"))
    review, covered, decisions = open_review_decisions(visible_accounts(request.user))
    months = last_months(timezone.now().date())
    counts = finding_counts(visible_accounts(request.user), since)
    latest = latest_points(within=visible_accounts(request.user), months=months)
    sessions = sessions_since(within=visible_accounts(request.user), since=since)
    accounts = overview_accounts(
        within=visible_accounts(request.user),
        since=since,
        environment=data.get("environment", ""),
        q=data.get("q", ""),
        sort=data.get("sort") or "worst",
        review=(covered, decisions) if review is not None else None,
        people={pk: (figures["users"], figures["console_users"]) for pk, figures in latest.items()},
        root_sessions=sessions,
        sso_admins=admin_counts(within=visible_accounts(request.user)),
        counts=counts,
    )
    outside = outside_scope(visible_accounts(request.user))
    if outside:  # a last run's error names no account outside the reader's scope
        accounts = accounts.mapped(
            lambda a: dataclasses.replace(a, last_run_error=redacted(a.last_run_error, outside)) if a.last_run_error else a
        )
    if wants_csv(request):
        rows = (
            (a.account_id, a.name, a.environment, a.last_success_at, a.last_run_status or "", a.open_critical, a.open_high, a.open_medium,
             a.open_low, a.open_total, a.new_since, "yes" if a.root_used_since else "no", since, a.root_last_used,
             a.resolved_since, a.users, a.console_users, a.without_mfa, a.naming_violations,
             "" if a.review_total is None else a.review_decided, "" if a.review_total is None else a.review_total - a.review_decided,
             a.iam_admins, a.sso_admins, a.iam_can_become_admin, a.sso_can_become_admin)
            for a in accounts
        )  # fmt: skip
        return csv_response(OVERVIEW_HEADER, rows, "iamwatch-overview.csv")
    environments = accounts.environments()
    page = Paginator(accounts, AGENDA_PAGE).get_page(request.GET.get("page"))
    # The sparklines of the page's rows alone: their year of trend points, this month's with their findings open now.
    on_page = AwsAccount.objects.filter(pk__in=[a.pk for a in page])
    points = with_open_now(trend_months(within=on_page, months=months), months[-1], within=on_page, counts=counts)
    shown = [_with_spark(a, points.get(a.pk, {}), months) for a in page]
    context = {
        "form": form,
        "page": page,
        "query": query_without_page(request),
        "groups": _agenda_groups(
            group_by_environment(shown),
            report_uses_alone(uses={a.pk: a.report_root_used for a in shown if a.report_root_used}, sessions=sessions),
            push_missed(within=visible_accounts(request.user), since=since),
        ),
        "networks_known": bool(settings.IAMWATCH_KNOWN_NETWORKS),
        "review": review,
        "fleet_trends": summary_charts(
            fleet_trend(within=visible_accounts(request.user), months=months, latest=latest, counts=counts), months
        ),
        "since": since,
        "environments": environments,
        "count": len(accounts),
        "cadence": review_cadence(now=timezone.now(), within=visible_accounts(request.user)),
        "scope": account_scope(request.user),
    }
    return page_or_partial(request, "audits/overview.html", "audits/partials/overview_table.html", context)


def _agenda_groups(
    groups: list[EnvironmentGroup], alone: dict[int, tuple[datetime, str, str]], missed: dict[int, int] | None = None
) -> list[dict[str, Any]]:
    """The agenda's groups of rows as dicts (see OverviewRow.as_dict), each row with its links, the credential
    report's root use that no CloudTrail session explains (`alone`: time, credential, why) and the root events
    LookupEvents found that the push path did not deliver (`missed`, cloudtrail.selectors.push_missed); in each group,
    the accounts to discuss (OverviewRow.to_discuss, root used per the report alone, or a push path that missed
    events) apart from the quiet rest."""
    missed = missed or {}
    findings = reverse("audits:finding-list")
    agenda = []
    for group in groups:
        rows = [
            {
                **row.as_dict(),
                "url": reverse("audits:account-detail", args=[row.account_id]),
                "findings": f"{findings}?account={row.account_id}",
                "root_alone": alone.get(row.pk),
                "push_missed": missed.get(row.pk, 0),
            }
            for row in group.accounts
        ]
        discuss = [r for r in rows if r["to_discuss"] or r["root_alone"] or r["push_missed"]]
        quiet = [r for r in rows if not (r["to_discuss"] or r["root_alone"] or r["push_missed"])]
        if quiet:  # the table's rows are one loop (an include per row costs a fifth of the page): a mark where the rest starts
            quiet[0] = {**quiet[0], "first_quiet": True}
        agenda.append(
            {
                "environment": group.environment,
                "accounts": rows,  # every row of the page, in order
                "rows": discuss + quiet,  # as the table shows them
                "discuss": discuss,  # first, each on its line
                "quiet": quiet,  # the rest, summed up in one line (and there to open)
                "quiet_critical": sum(r["open_critical"] for r in quiet),
                "quiet_high": sum(r["open_high"] for r in quiet),
            }
        )
    return agenda


def _with_spark(row: OverviewRow, by_month: dict[date, dict[str, int]], months: list[date]) -> OverviewRow:
    values, direction = worse_or_better(by_month, months)
    return dataclasses.replace(row, spark=sparkline(values), trend=direction)


@policy(get=READ_PERMISSION)
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    now = timezone.now()
    since = _since(request, None)
    only = AwsAccount.objects.filter(pk=account.pk)
    months = last_months(now.date())
    counts = finding_counts(only, since)
    points = with_open_now(trend_months(within=only, months=months), months[-1], within=only, counts=counts)
    since_review = sessions_since(within=only, since=since)
    agenda = next(
        iter(overview_accounts(within=only, since=since, people=latest_people(points), root_sessions=since_review, counts=counts)), None
    )
    trends = summary_charts(points.get(account.pk, {}), months)
    root_usage = list(account_root_usage(account=account).filter(used_at__gte=now - timedelta(days=365)))
    year_ago = now - timedelta(days=365)
    trail = list(account_root_events(account=account).filter(at__gte=year_ago - CONSOLE_SESSION))
    sessions = account_sessions(account=account, events=trail, since=year_ago)
    decided = {f.subject: f for f in Finding.objects.filter(account=account, check_id=SESSION_CHECK, subject__in=[s.subject for s in sessions])}
    gaps = trail_gaps(account=account, uses=[(e.used_at, e.credential) for e in root_usage], events=trail)
    standard = account_standard(account=account)
    sections = account_sections(account=account)
    admin_findings = [
        f for _, checks, items in sections if "user.direct_admin" in checks for f in items if f.check_id == "user.direct_admin"
    ]
    context = {
        "account": account,
        "upload_form": ReportUploadForm(),
        "agenda": agenda,
        "since": since,
        "trends": trends,
        "statuses": _status_counts(account),
        "sections": sections,
        "standard": standard,
        "naming": standard_rule(standard),
        "exemptions": NamingExemption.objects.filter(standard=standard).order_by("user_name") if standard else [],
        "admins_with_mfa": admins_with_mfa(account=account, names=[f.principal for f in admin_findings]),
        "root_usage": list(zip(root_usage, gaps, strict=True)),
        "trail_events": trail,
        "root_sessions": [(s, decided.get(s.subject)) for s in reversed(sessions)],  # the latest first, each with its finding
        "root_alone": report_uses_alone(uses={account.pk: agenda.report_root_used} if agenda and agenda.report_root_used else {}, sessions=since_review).get(account.pk),
        "timeline": root_usage_timeline(
            [(e.used_at, e.credential) for e in root_usage], end=now, trail=[(e.at, _trail_mark(e)) for e in trail]
        ),
        # The agenda row's last report run (status and error), as a reader with a scope may see its error.
        "last_run_error": redacted(agenda.last_run_error or "", outside_scope(visible_accounts(request.user))) if agenda else "",
        "runs": runs_page(account=account, visible=visible_accounts(request.user), number=request.GET.get("runs")),
        "access_paths": account_paths(account=account),
        "root_email_rule": settings.IAMWATCH_ROOT_EMAIL_RULE,
        "push": push_status(account=account),
    }
    return render(request, "audits/account_detail.html", context)


def _trail_mark(e: Any) -> str:
    what = "console sign-in" if e.is_sign_in else e.action
    mfa = {True: "MFA used", False: "no MFA", None: "MFA not recorded"}[e.mfa_used]
    outcome = "" if e.success else f", {e.error or 'failed'}"
    return f"{what} {e.at:%Y-%m-%d %H:%M:%S} UTC from {e.source_ip}, {mfa}{outcome}"


def _status_counts(account: AwsAccount) -> list[tuple[str, int]]:
    counts = dict(Finding.objects.filter(account=account).values_list("status").annotate(n=Count("pk")).order_by())
    return [(s, counts.get(s, 0)) for s in STATUS_FILTERS if s != "all"]


@policy(get=READ_PERMISSION)
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponseBase:
    findings = in_accounts(Finding.objects.all(), visible_accounts(request.user))
    finding = get_object_or_404(findings.select_related("account", "first_run", "last_run", "resolved_run"), pk=finding_id)
    history = list(finding_history(finding=finding))
    latest = latest_stored_run(account=finding.account)
    gap = latest.not_evaluated.get(finding.check_id) if latest is not None else None
    if wants_csv(request):
        rows = (
            (finding.pk, finding.account.account_id, finding.check_id, finding.principal, e.kind, e.at, e.run_id) for e in history
        )
        return csv_response(HISTORY_HEADER, rows, f"iamwatch-finding-{finding.pk}-history.csv")
    return render(
        request,
        "audits/finding_detail.html",
        {
            "finding": finding,
            "check": CHECKS_BY_ID.get(finding.check_id),
            "history": history,
            "not_evaluated": (latest, gap) if gap else None,
            "decisions": finding.dispositions.filter(review__in=visible_reviews(visible_accounts(request.user)))
            .select_related("review")
            .order_by("-review__period_end", "-pk"),
        },
    )


@policy(get=READ_PERMISSION)
def changes(request: HttpRequest) -> HttpResponseBase:
    form = SinceForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    since = _since(request, data.get("since"))
    account = account_or_404(request, data["account"]) if data.get("account") else None
    found = changes_since(since=since, account=account, within=visible_accounts(request.user))
    added, removed = paths_changed(since=since, within=visible_accounts(request.user), account=account)
    table = request.GET.get("table", "")
    rows: Iterable[Sequence[object]]
    if wants_csv(request):
        if table == "findings":
            rows = (
                (e.finding_id, e.finding.account.account_id, e.finding.check_id, e.finding.principal, e.kind, e.at, e.run_id)
                for e in found.findings.iterator(chunk_size=2000)
            )
            return csv_response(HISTORY_HEADER, rows, "iamwatch-changes-findings.csv")
        if table in ("new_users", "removed_users"):
            states = found.new_users if table == "new_users" else found.removed_users
            rows = ((s.account.account_id, s.name, s.arn, s.valid_from if table == "new_users" else s.valid_to) for s in states.iterator(chunk_size=2000))
            return csv_response(USER_HEADER, rows, f"iamwatch-changes-{table}.csv")
        if table == "root":
            return csv_response(ROOT_USAGE_HEADER, map(root_usage_row, found.root_events.iterator(chunk_size=2000)), "iamwatch-changes-root.csv")
        if table in ("access_added", "access_removed"):
            paths = added if table == "access_added" else removed
            rows = (
                (p.account.account_id, p.user_name, p.permission_set_name, "yes" if p.admin else "no", p.group_name, p.valid_from if table == "access_added" else p.valid_to)
                for p in paths.iterator(chunk_size=2000)
            )  # fmt: skip
            return csv_response(ACCESS_CHANGE_HEADER, rows, f"iamwatch-changes-{table}.csv")
        raise Http404("unknown table")
    tables = (
        ("findings", found.findings), ("new_users", found.new_users), ("removed_users", found.removed_users),
        ("root_events", found.root_events), ("access_added", added), ("access_removed", removed),
    )  # fmt: skip
    context = {"form": form, "since": since, "account": account, "query": request.GET.urlencode(), "shown": CHANGES_SHOWN}
    # The first rows of each kind of change, and whether there are more (the CSVs hold every one).
    context.update({name: _first_rows(queryset) for name, queryset in tables})
    return render(request, "audits/changes.html", context)


CHANGES_SHOWN = 100  # rows of each kind of change on the page; the CSVs hold every one


def _first_rows(queryset: QuerySet[Any]) -> tuple[list[Any], bool]:
    """The first CHANGES_SHOWN rows, and whether there are more: one query, no count."""
    rows = list(queryset[: CHANGES_SHOWN + 1])
    return rows[:CHANGES_SHOWN], len(rows) > CHANGES_SHOWN


@policy(get=READ_PERMISSION)
def practice(request: HttpRequest) -> HttpResponse:
    """The practice the checks stand for: one user per person, naming, no shared logins, read-only then assume a role."""
    return render(request, "audits/practice.html")


def _since(request: HttpRequest, value: object) -> datetime:
    return start_of_day(value) or review_since(now=timezone.now(), within=visible_accounts(request.user))


# --- a naming standard and the users it would flag ------------------------------------------------------


@policy(get=READ_PERMISSION, post="accounts.change_namingstandard", unscoped=ORGANISATION_WIDE)
def standard_edit(request: HttpRequest, standard_id: int | None = None) -> HttpResponse:
    """Create or change a standard. "Preview" lists the current users it would flag, without saving."""
    standard = get_object_or_404(NamingStandard, pk=standard_id) if standard_id else NamingStandard()
    preview = None
    can_change = request.user.has_perm("accounts.change_namingstandard" if standard_id else "accounts.add_namingstandard")
    if request.method == "POST":
        if not can_change:
            return HttpResponse("You may not change naming standards.", status=403)
        form = NamingStandardForm(request.POST, instance=standard)
        if form.is_valid():
            candidate: NamingStandard = form.save(commit=False)
            if request.POST.get("action") == "preview":
                rule = standard_rule(candidate) if candidate.pk else candidate.rule()
                visible = visible_accounts(request.user)
                accounts = in_accounts(accounts_under(candidate, is_default=candidate.is_default), visible, "pk")
                if not accounts.exists():
                    accounts = visible.filter(is_active=True)
                preview = standard_preview(rule=rule, accounts=accounts)
            else:
                try:
                    standard_save(standard=candidate, actor=actor_of(request))
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, f"Saved the naming standard {candidate.name}; it applies from the next run.")
                    return redirect("accounts:standard-edit", standard_id=candidate.pk)
    else:
        form = NamingStandardForm(instance=standard)
    exemptions = standard.exemptions.order_by("user_name") if standard.pk else NamingExemption.objects.none()
    context = {
        "form": form,
        "standard": standard,
        "preview": preview,
        "can_change": can_change,
        "exemptions": exemptions,
        "exemption_form": ExemptionForm(),
        "accounts": in_accounts(standard.accounts.order_by("name"), visible_accounts(request.user), "pk") if standard.pk else [],
    }
    return render(request, "accounts/standard_edit.html", context)


# --- who has access where ---------------------------------------------------------------------------------


ACCESS_HEADER = (
    "employee_id", "person", "person_active", "owner_match", "account_id", "account_name", "user_name", "arn",
    "password_enabled", "password_last_used", "mfa_active", "key1_active", "key1_last_used", "key2_active",
    "key2_last_used", "state_since",
)  # fmt: skip


def _access_csv_row(row: AccessRow) -> tuple[object, ...]:
    s, owner = row.state, row.owner
    if owner is not None:
        who: tuple[object, ...] = (owner.employee_id, owner.name, owner.active, owner.how)
    elif row.owners:
        who = ("", "", "", f"ambiguous: {len(row.owners)} people")
    else:
        who = ("", "", "", "no owner")
    return (
        *who, s.account.account_id, s.account.name, s.name, s.arn, s.password_enabled, s.password_last_used,
        s.mfa_active, s.key1_active, s.key1_last_used, s.key2_active, s.key2_last_used, s.valid_from,
    )  # fmt: skip


@policy(get=READ_PERMISSION)
def person_detail(request: HttpRequest, employee_id: str) -> HttpResponseBase:
    """Who has access where: every IAM user this person owns across all accounts, with MFA, keys and last use."""
    person = get_object_or_404(Person, employee_id=employee_id)
    rows = person_access(person=person, within=visible_accounts(request.user))
    if request.GET.get("format") == "csv":
        return csv_response(ACCESS_HEADER, (_access_csv_row(r) for r in rows), f"iamwatch-access-{person.employee_id}.csv")
    facts = PersonFacts(person.pk, person.employee_id, person.first_name, person.last_name, person.email, person.active)
    paths = person_paths(person_id=facts.person_id, within=visible_accounts(request.user))
    page = Paginator(rows, PERSON_PAGE).get_page(request.GET.get("page"))
    context = {"person": person, "page": page, "query": query_without_page(request), "paths": paths}
    return render(request, "people/person_detail.html", context)


@policy(get=READ_PERMISSION)
def access_csv(request: HttpRequest) -> HttpResponseBase:
    """Who has access where, for the whole fleet: every current IAM user with its owner (or none)."""
    rows = access_rows(visible_accounts(request.user))
    return csv_response(ACCESS_HEADER, (_access_csv_row(r) for r in rows), "iamwatch-access.csv")


def _owner_rows(account: AwsAccount) -> Iterable[AccessRow]:
    return access_rows(AwsAccount.objects.filter(pk=account.pk))


@policy(get=READ_PERMISSION)
def account_owners(request: HttpRequest, account_id: str) -> HttpResponseBase:
    account = account_or_404(request, account_id)
    rows = list(_owner_rows(account))
    if request.GET.get("format") == "csv":
        return csv_response(ACCESS_HEADER, (_access_csv_row(r) for r in rows), f"iamwatch-owners-{account.account_id}.csv")
    standard = account_standard(account=account)
    context = {
        "account": account,
        "rows": rows,
        "standard": standard,
        "directory_loaded": directory_loaded(),
        "links": OwnerLink.objects.filter(account=account).select_related("person").order_by("user_name"),
        "link_form": OwnerLinkForm(),
        "standard_form": AccountStandardForm(initial={"standard": account.naming_standard_id}),
    }
    return render(request, "people/account_owners.html", context)
