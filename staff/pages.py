"""What every page does alike: a table's CSV at `?format=csv`, the table alone for an htmx request, and a pager's
links that keep the filters."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def query_without_page(request: HttpRequest) -> str:
    """The request's query string without its page number, for a pager's links to keep the filters."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def page_or_partial(request: HttpRequest, template: str, partial: str, context: dict[str, object]) -> HttpResponse:
    """The whole page, or for htmx (which swaps the table in place) the table's partial alone."""
    return render(request, partial if request.headers.get("HX-Request") else template, context)
