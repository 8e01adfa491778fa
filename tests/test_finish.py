"""What every page shares: times with their zone, the current section marked, the trail and alerts readable."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.template import engines
from django.test import Client

from accounts.models import AwsAccount
from audits.models import Alert, AuditRun
from audits.services import report_import
from iamwatch.navigation import section_of
from staff.trail import record_change
from tests.conftest import ROOT, SAMPLE_T

pytestmark = pytest.mark.django_db


def test_every_date_and_time_on_a_page_goes_through_day_or_moment() -> None:
    """`|day` and `|moment` (staff/templatetags/timestamps.py) write a <time> that never wraps, times with "UTC".
    A raw `|date:` is left only inside a tag (a link's query, an attribute) or an SVG <title> (text only)."""
    raw = re.compile(r"\|date:")
    shown = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = re.sub(r"<title[^>]*>.*?</title>", "", path.read_text(), flags=re.S)
        for m in raw.finditer(text):
            before = text[: m.start()]
            if before.rfind("<") < before.rfind(">") and "{% with" not in before[before.rfind("{%") :]:
                shown.append(f"{path.relative_to(ROOT)}: {text[m.start() - 40 : m.end() + 12]}")
    assert shown == []


@pytest.mark.parametrize(
    ("value", "filter_", "shown"),
    [
        (datetime(2026, 11, 28, 23, 30, 9, tzinfo=UTC), "moment", '<time datetime="2026-11-28T23:30:09+00:00">2026-11-28 23:30 UTC</time>'),
        (datetime(2026, 11, 29, 0, 30, 9, tzinfo=timezone(timedelta(hours=1))), "moment", ">2026-11-28 23:30 UTC</time>"),
        (datetime(2026, 11, 28, 23, 30, 9, tzinfo=UTC), 'moment:"seconds"', ">2026-11-28 23:30:09 UTC</time>"),
        (datetime(2026, 11, 29, 0, 30, tzinfo=timezone(timedelta(hours=1))), "day", '<time datetime="2026-11-28">2026-11-28</time>'),
        (date(2026, 2, 3), "day", '<time datetime="2026-02-03">2026-02-03</time>'),
        (None, 'day|default:"never"', "never"),
        (None, "moment", ""),
    ],
)
def test_day_and_moment_show_utc_in_a_time_element(value: object, filter_: str, shown: str) -> None:
    rendered = engines["django"].from_string("{% load timestamps %}{{ value|" + filter_ + " }}").render({"value": value})
    assert rendered.endswith(shown) and (rendered == shown or shown.startswith(">"))


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/", "Accounts"),
        ("/accounts/111122223333/", "Accounts"),
        ("/accounts/111122223333/users/JSmith/", "Accounts"),
        ("/findings/", "Findings"),
        ("/findings/12/", "Findings"),
        ("/changes/", "Changes since review"),
        ("/root-activity/", "Root activity"),
        ("/identity-center/", "Identity Center"),
        ("/runs/", "Runs"),
        ("/runs/12/report.csv", "Runs"),
        ("/alerts/", "Alerts"),
        ("/people/", "People"),
        ("/people/1234/", "People"),
        ("/standards/", "Naming"),
        ("/standards/3/", "Naming"),
        ("/reviews/", "Reviews"),
        ("/reviews/4/", "Reviews"),
        ("/trail/", "Trail"),
        ("/admin/", ""),
    ],
)
def test_each_path_belongs_to_one_navigation_section(path: str, section: str) -> None:
    assert section_of(path) == section


def test_the_navigation_marks_the_page_being_shown(alice_client: Client) -> None:
    for path, label in [("/", "Accounts"), ("/findings/", "Findings"), ("/reviews/", "Reviews"), ("/trail/", "Trail")]:
        nav = alice_client.get(path).content.decode().split('<nav aria-label="Main">')[1].split("</nav>")[0]
        assert re.findall(r'aria-current="page">([^<]+)<', nav) == [label], path


def test_the_trail_page_shows_values_as_words_not_python(alice_client: Client) -> None:
    record_change(
        actor="rita",
        action="finding.disposition_set",
        target="finding 1",
        before=None,
        after={"expires_on": None, "ticket": "", "four_eyes": True, "accounts": ["111122223333", "444455556666"]},
    )
    page = alice_client.get("/trail/").content.decode()
    row = page.split("finding.disposition_set")[1].split("</tr>")[0]
    for shown in ("expires on: —", "ticket: —", "four eyes: yes", "accounts: 111122223333, 444455556666"):
        assert shown in row, shown  # in any order: PostgreSQL's jsonb keeps its own key order
    assert "None" not in page and "True" not in page and "['" not in page


def test_identical_delivery_errors_are_said_once_with_their_count(sandbox: AwsAccount, sample_bytes: bytes, alice_client: Client) -> None:
    run = report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    assert isinstance(run, AuditRun)
    error = "SMTPRecipientsRefused: security@example.com refused"
    for n in range(12):
        Alert.objects.create(account=sandbox, run=run, kind="critical_finding", key=f"k{n}", subject=f"finding {n}", body="x", error=error)
    Alert.objects.create(account=sandbox, run=run, kind="root_usage", key="other", subject="root", body="x", error="timeout")
    page = alice_client.get("/alerts/").content.decode()
    assert page.count(error) == 1 and "(12 alerts, the last" in page and page.count("not delivered (1)") == 12
    assert page.count("timeout") == 1 and "not delivered (2)" in page


def test_the_standard_form_says_what_the_default_checkbox_means_once(personas: dict[str, Client]) -> None:
    page = personas["admin"].get("/standards/new/").content.decode()
    assert page.count("applies to every account that does not choose its own") == 1
    assert '<label for="id_is_default">Organisation default:</label>' in page


def test_the_readme_says_how_to_serve_the_demo_on_another_port() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make run PORT=8080" in readme and "PORT ?= 8000" in makefile and "$(HOST):$(PORT)" in makefile


def test_a_filter_that_matches_nothing_says_so(alice_client: Client) -> None:
    page = alice_client.get("/findings/?account=999999999999").content.decode()
    assert "0 findings" in page and "No finding matches these filters." in page
