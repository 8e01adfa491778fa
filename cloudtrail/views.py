"""The fleet's Root activity page (every root event of every visible account, filtered, as CSV too) and the
account page's CloudTrail upload."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import AwsAccount
from accounts.selectors import account_or_404, visible_accounts
from cloudtrail.export import ROOT_EVENTS_HEADER, ROOT_SESSIONS_HEADER, root_event_row, root_session_row
from cloudtrail.forms import MAX_TRAIL_MB, RootActivityForm, TrailUploadForm
from cloudtrail.records import TrailFileError
from cloudtrail.selectors import RootEventFilters, root_event_search, sessions_since, unregistered_events
from cloudtrail.services import cloudtrail_import
from cloudtrail.sessions import RootSession
from staff.export import csv_response
from staff.forms import form_errors
from staff.pages import query_without_page
from staff.roles import READ_PERMISSION, RUN_PERMISSION, policy
from staff.uploads import accepts_upload

PAGE_SIZE = 100


@policy(get=READ_PERMISSION)
def root_activity(request: HttpRequest) -> HttpResponseBase:
    form = RootActivityForm(request.GET)
    if not form.is_valid():
        return render(request, "cloudtrail/root_activity.html", {"form": form, "page": None}, status=400)
    events = root_event_search(form.filters(), within=visible_accounts(request.user))
    sessions = _sessions(request, form.filters())
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "sessions":
            return csv_response(ROOT_SESSIONS_HEADER, (root_session_row(a.account_id, a.name, s) for a, s in sessions), "iamwatch-root-sessions.csv")
        return csv_response(ROOT_EVENTS_HEADER, (root_event_row(e) for e in events.iterator(chunk_size=2000)), "iamwatch-root-activity.csv")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    unregistered = unregistered_events(within=visible_accounts(request.user))
    context = {
        "form": form, "page": page, "query": query_without_page(request), "sessions": sessions[:SESSIONS_SHOWN], "session_count": len(sessions),
        "unregistered": list(unregistered[:UNREGISTERED_SHOWN]), "unregistered_count": unregistered.count(),
    }  # fmt: skip
    return render(request, "cloudtrail/root_activity.html", context)


SESSIONS_SHOWN = 200
UNREGISTERED_SHOWN = 100
SESSIONS_DEFAULT_DAYS = 90  # without a From date: LookupEvents' own reach


def _sessions(request: HttpRequest, filters: RootEventFilters) -> list[tuple[AwsAccount, RootSession]]:
    """The root sessions of the accounts (and the dates) the filters name, the latest first; the kind, MFA and address
    filters choose events, not sessions."""
    within = visible_accounts(request.user)
    if filters.account:
        within = within.filter(account_id=filters.account)
    since = datetime.combine(filters.since, time.min, tzinfo=UTC) if filters.since else timezone.now() - timedelta(days=SESSIONS_DEFAULT_DAYS)
    until = datetime.combine(filters.until, time.min, tzinfo=UTC) + timedelta(days=1) if filters.until else None
    found = sessions_since(within=within, since=since, until=until, late=False)
    accounts = within.in_bulk(list(found))
    return sorted(((accounts[pk], s) for pk, listed in found.items() for s in listed), key=lambda pair: pair[1].start, reverse=True)


@accepts_upload(MAX_TRAIL_MB * 1024 * 1024)
@policy(post=RUN_PERMISSION)
def trail_upload(request: HttpRequest, account_id: str) -> HttpResponse:
    """Import CloudTrail files from the account page, as `manage.py import_cloudtrail` does: one run, all or nothing."""
    account = account_or_404(request, account_id)
    form = TrailUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, f"Not imported: {form_errors(form)}")
        return redirect("audits:account-detail", account_id=account.account_id)
    files = [(f.name, f.read()) for f in form.cleaned_data["trail_files"]]
    try:
        result = cloudtrail_import(account=account, files=files, actor=request.user.get_username())
    except TrailFileError as exc:
        messages.error(request, f"Not imported: {exc}; nothing stored.")
    else:
        messages.success(request, f"Imported as run {result.run.pk}: {result.summary()}.")
    return redirect("audits:account-detail", account_id=account.account_id)
