"""The main navigation, with the section of the page being shown marked (aria-current) for every template."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

# (label, URL name, other path prefixes that belong to the section)
SECTIONS = (
    ("Accounts", "audits:overview", ("/accounts/", "/runs/")),
    ("Findings", "audits:finding-list", ("/findings",)),
    ("Changes since review", "audits:changes", ()),
    ("Alerts", "audits:alert-list", ()),
    ("People", "people:people-list", ("/access.csv",)),
    ("Naming", "accounts:standard-list", ("/exemptions/",)),
    ("Reviews", "reviews:review-list", ()),
    ("Trail", "staff:trail", ()),
)


def section_of(path: str) -> str:
    """The label of the navigation section `path` belongs to ("" for none); the longest matching prefix wins."""
    best, length = "", 0
    for label, name, prefixes in SECTIONS:
        url = reverse(name)
        for prefix in (url, *prefixes):
            hit = path == prefix if prefix == "/" else path.startswith(prefix)
            if hit and len(prefix) > length:
                best, length = label, len(prefix)
    return best


def navigation(request: HttpRequest) -> dict[str, object]:
    if not request.user.is_authenticated:
        return {}
    current = section_of(request.path)
    return {"nav": [(label, reverse(name), label == current) for label, name, _ in SECTIONS]}
