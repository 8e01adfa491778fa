"""The main navigation, with the section of the page being shown marked (aria-current) for every template."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

# (label, URL name, other path prefixes that belong to the section)
SECTIONS = (
    ("Accounts", "audits:overview", ("/accounts/",)),
    ("Findings", "audits:finding-list", ("/findings",)),
    ("Changes since review", "audits:changes", ()),
    ("Root activity", "cloudtrail:root-activity", ()),
    ("Identity Center", "identitycenter:identity-center", ()),
    ("Runs", "audits:run-list", ()),
    ("Alerts", "audits:alert-list", ()),
    ("People", "people:people-list", ("/access.csv",)),
    ("Naming", "accounts:standard-list", ("/exemptions/",)),
    ("Reviews", "reviews:review-list", ()),
    ("Trail", "staff:trail", ()),
    ("Users", "accounts:login-list", ()),
)
# Sections only some readers may open: shown to those alone.
SECTION_PERMISSION = {"Users": "auth.view_user"}


def _links() -> list[tuple[str, str, tuple[str, ...]]]:
    return [(label, reverse(name), prefixes) for label, name, prefixes in SECTIONS]


def section_of(path: str, links: list[tuple[str, str, tuple[str, ...]]] | None = None) -> str:
    """The label of the navigation section `path` belongs to ("" for none); the longest matching prefix wins."""
    best, length = "", 0
    for label, url, prefixes in links if links is not None else _links():
        for prefix in (url, *prefixes):
            hit = path == prefix if prefix == "/" else path.startswith(prefix)
            if hit and len(prefix) > length:
                best, length = label, len(prefix)
    return best


def navigation(request: HttpRequest) -> dict[str, object]:
    if not request.user.is_authenticated:
        return {}
    links = _links()  # each URL reversed once per page
    current = section_of(request.path, links)
    shown = [(label, url) for label, url, _ in links if label not in SECTION_PERMISSION or request.user.has_perm(SECTION_PERMISSION[label])]
    return {"nav": [(label, url, label == current) for label, url in shown]}
