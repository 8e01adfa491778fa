"""What every page does alike: a table's CSV at `?format=csv`, and the table alone for an htmx request."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def page_or_partial(request: HttpRequest, template: str, partial: str, context: dict[str, object]) -> HttpResponse:
    """The whole page, or for htmx (which swaps the table in place) the table's partial alone."""
    return render(request, partial if request.headers.get("HX-Request") else template, context)
