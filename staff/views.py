"""The audit trail page and its CSV."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from staff.export import csv_response
from staff.forms import TrailFilterForm, start_of_day
from staff.models import ChangeRecord
from staff.pages import query_without_page
from staff.roles import READ_PERMISSION, policy

TRAIL_HEADER = ("at", "actor", "action", "target", "before", "after")


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


@policy(get=READ_PERMISSION, unscoped=("GET",))  # the trail spans every account: closed to scoped logins
def trail(request: HttpRequest) -> HttpResponseBase:
    """The audit trail: every change with who, when, what, before and after; filterable, with its CSV."""
    form = TrailFilterForm(request.GET)
    records = ChangeRecord.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            records = records.filter(actor=data["actor"])
        if data["action"]:
            records = records.filter(action__startswith=data["action"])
        if data["target"]:
            records = records.filter(target__icontains=data["target"])
        if data["since"]:
            records = records.filter(at__gte=start_of_day(data["since"]))
    if request.GET.get("format") == "csv":
        rows = ((r.at, r.actor, r.action, r.target, _json(r.before), _json(r.after)) for r in records.iterator(chunk_size=2000))
        return csv_response(TRAIL_HEADER, rows, "iamwatch-audit-trail.csv")
    page = Paginator(records, 100).get_page(request.GET.get("page"))
    listed = [(r, _readable(r.before), _readable(r.after)) for r in page]
    return render(request, "staff/trail.html", {"form": form, "page": page, "rows": listed, "query": query_without_page(request)})


def _readable(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A record's values as a reader wants them: no Python spellings (None, True, ['a']) on the page."""

    def text(value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list | tuple):
            return ", ".join(text(v) for v in value) or "—"
        if isinstance(value, dict):
            return "; ".join(f"{k}: {text(v)}" for k, v in value.items()) or "—"
        return str(value)

    return [(key.replace("_", " "), text(value)) for key, value in (values or {}).items()]
