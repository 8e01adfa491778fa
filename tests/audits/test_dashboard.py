"""The review-meeting pages: what they show, their filters and CSVs, and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AwsAccount
from accounts.services import account_create
from audits.models import Finding, FindingEvent, PrincipalState, RunSource
from audits.services import report_import
from demo.simulator import daily_times, simulate_account

pytestmark = pytest.mark.django_db
END = datetime(2026, 11, 20, 2, tzinfo=UTC)


def load_fleet(accounts: int, *, days: int = 8, users: int = 6, first: int = 0) -> None:
    times = daily_times(end=END, days=days)
    for n in range(first, first + accounts):
        account_id = f"{700000000000 + n}"
        account = account_create(
            account_id=account_id, name=f"acct-{n}", environment=("prod", "dev")[n % 2], naming_preset="initial_lastname"
        )
        sim = simulate_account(account_id=account_id, users=users, start=times[0], end=END, seed=n, shared=3, root_uses=2)
        for at in times:
            report_import(account=account, content=sim.report(at), generated_at=at, received_at=at, source=RunSource.DEMO)


def rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def page_urls() -> list[str]:
    finding = Finding.objects.order_by("pk").first()
    state = PrincipalState.objects.order_by("pk").first()
    assert finding is not None and state is not None
    return [
        "/",
        "/?sort=name&environment=prod",
        "/findings/",
        "/findings/?severity=high&status=all",
        f"/findings/{finding.pk}/",
        f"/accounts/{finding.account.account_id}/",
        f"/accounts/{state.account.account_id}/users/{state.name}/",
        "/changes/?since=2026-11-10",
    ]


def fleet_pages() -> list[str]:
    """The fleet benchmark's other pages (bench/bench_dashboard.py): findings by principal, the runs, root activity,
    the people, a person who owns a user in every account, an account's owners, the trail, the alerts, and a review
    over every account."""
    from people.models import OwnerLink, Person
    from reviews.models import Review
    from reviews.services import review_open
    from tests.conftest import staff_user

    owner = Person.objects.get_or_create(employee_id="10007", defaults={"first_name": "Pat", "last_name": "Owner"})[0]
    accounts = list(AwsAccount.objects.order_by("pk"))
    for account in accounts:  # by hand, one user an account: the person's rows grow with the fleet
        name = PrincipalState.objects.filter(account=account).order_by("name").values_list("name", flat=True).first()
        OwnerLink.objects.get_or_create(account=account, user_name=name, defaults={"person": owner, "linked_by": "test"})
    review = Review.objects.filter(title="fleet").first() or review_open(
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        accounts=accounts,
        actor=staff_user("preparer"),
        title="fleet",
    )
    review.accounts.add(*accounts)
    first = accounts[0].account_id
    return [
        "/findings/?severity=high&status=all&principal=a", "/runs/", "/runs/?health=failed", "/root-activity/",
        f"/root-activity/?account={first}", "/people/", "/people/10007/", f"/accounts/{first}/owners/", "/trail/", "/alerts/",
        f"/reviews/{review.pk}/",
    ]  # fmt: skip


def test_query_counts_do_not_grow_with_the_number_of_accounts_or_rows(alice_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    load_fleet(2)
    small = {url: queries(alice_client, url) for url in [*page_urls(), *fleet_pages()]}
    load_fleet(3, days=8, users=12, first=10)  # more accounts, more users, more findings, more history
    fleet_pages()  # the person owns a user in the new accounts too, and the review covers them
    # Same pages again (the first account's detail pages are unchanged in shape, only the data grew).
    large = {url: queries(alice_client, url) for url in small}
    assert large == small
    # The overview reads the open review and the trend months too; the account page carries the agenda's band (its
    # row of the overview: six aggregate queries) and its trend on top of its own, and root's CloudTrail events (two)
    # and the Identity Center paths (one). The overview counts each account's Identity Center admins (one), and reads
    # root's sessions since the review (one) and the report's root uses no session explains (two: the uses, the trail
    # reads). Its counts of findings are four queries (the tally of open findings by severity and of the agenda's checks,
    # those new since the review, those resolved since) and one for the runs stored late since the review; its trends
    # three (each account's latest point, the fleet's past months summed, the page's rows' points for their sparklines);
    # root's latest use and the last runs' status are one query each beside the account query; those resolved since
    # are two (still resolved, and back since).
    assert (
        max(n for url, n in small.items() if url.startswith(("/?", "/findings/", "/changes/")) or url == "/") <= 26
    )  # with a review open (its accounts and decisions: two); the overview reads today's open findings by severity for the current month's point
    assert max(small.values()) <= 30, (
        small
    )  # the account page and the review, with root's sessions since the review and over 12 months (two) and their findings (one)


def test_the_overview_puts_the_worst_first_and_groups_by_environment(alice_client: Client) -> None:
    from tests.reports import build_report, root_row, user_row

    t = datetime(2026, 11, 1, tzinfo=UTC)
    no_mfa = {"password_enabled": "true", "password_last_used": "2026-10-30T00:00:00+00:00", "mfa_active": "false"}
    fleet = {  # name: (environment, rows): A has a root key (critical), B two console users without MFA, C one
        "A": ("prod", [root_row(access_key_1_active="true", access_key_1_last_rotated="2026-10-01T00:00:00+00:00")]),
        "B": ("dev", [root_row(), user_row("BJones", **no_mfa), user_row("CKing", **no_mfa)]),
        "C": ("prod", [root_row(), user_row("DLee", **no_mfa)]),
    }
    for n, (name, (environment, report_rows)) in enumerate(fleet.items()):
        account_id = f"{800000000000 + n}"
        account = account_create(account_id=account_id, name=name, environment=environment, naming_preset="initial_lastname")
        content = build_report(*report_rows).replace(b"111122223333", account_id.encode())
        with time_machine.travel(t + timedelta(hours=1), tick=False):  # stored when it was made: not late
            report_import(account=account, content=content, generated_at=t)
    groups = alice_client.get("/?since=2026-10-01").context["groups"]
    assert [(g["environment"], [a["name"] for a in g["accounts"]]) for g in groups] == [("prod", ["A", "C"]), ("dev", ["B"])]
    counts = {a["name"]: (a["open_critical"], a["open_high"], a["new_since"]) for g in groups for a in g["accounts"]}
    assert counts == {"A": (1, 0, 1), "B": (0, 2, 2), "C": (0, 1, 1)}
    later = alice_client.get("/?since=2026-11-02").context["groups"]
    assert {a["name"]: a["new_since"] for g in later for a in g["accounts"]} == {"A": 0, "B": 0, "C": 0}


def test_the_agenda_lists_the_accounts_to_discuss_and_sums_up_the_quiet_rest_in_a_line(alice_client: Client) -> None:
    """Issue 29: what the meeting must talk about first, in each environment; the rest in one line that opens in place."""
    from datetime import date

    from reviews.services import review_open
    from tests.conftest import staff_user
    from tests.reports import build_report, root_row, user_row

    t = datetime(2026, 11, 1, tzinfo=UTC)
    no_mfa = {"password_enabled": "true", "password_last_used": "2026-09-30T00:00:00+00:00", "mfa_active": "false"}
    made = {}
    for n, (name, rows, at) in enumerate(
        [
            ("Loud", [root_row(access_key_1_active="true", access_key_1_last_rotated="2026-10-01T00:00:00+00:00")], t),
            ("Quiet", [root_row(), user_row("BJones", **no_mfa)], t - timedelta(days=30)),  # a high, but an old one
        ]
    ):
        account_id = f"{810000000000 + n}"
        made[name] = account_create(account_id=account_id, name=name, environment="prod", naming_preset="initial_lastname")
        with time_machine.travel(at + timedelta(hours=1), tick=False):
            report_import(
                account=made[name], content=build_report(*rows).replace(b"111122223333", account_id.encode()), generated_at=at
            )

    def agenda() -> tuple[list[str], list[str], str]:
        page = alice_client.get("/?since=2026-10-25")
        [group] = page.context["groups"]
        return [a["name"] for a in group["discuss"]], [a["name"] for a in group["quiet"]], page.content.decode()

    discuss, quiet, body = agenda()
    assert (discuss, quiet) == (["Loud"], ["Quiet"])  # a new critical; nothing new, nothing failed, no root use
    assert "1 more account with nothing to discuss" in body and ">1 high</span>" in body
    assert body.index(">Loud</a>") < body.index("more account with nothing") < body.index(">Quiet</a>")  # there to open
    review_open(
        period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[made["Quiet"]], actor=staff_user("preparer")
    )
    assert agenda()[:2] == (["Loud", "Quiet"], [])  # its finding still to decide in the open review: to discuss


def test_the_overview_csv_has_exactly_the_rows_shown(alice_client: Client) -> None:
    load_fleet(3)
    table = rows(alice_client.get("/?environment=prod&format=csv"))
    shown = [a for g in alice_client.get("/?environment=prod").context["groups"] for a in g["accounts"]]
    assert [r[0] for r in table[1:]] == [a["account_id"] for a in shown]
    assert {r[2] for r in table[1:]} == {"prod"}


def test_the_agenda_pages_worst_first_keeping_its_filters_and_its_csv_holds_every_account(
    alice_client: Client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import dashboard.views

    monkeypatch.setattr(dashboard.views, "AGENDA_PAGE", 2)
    load_fleet(5, days=2, users=2)
    everyone = [r[0] for r in rows(alice_client.get("/?sort=name&format=csv"))[1:]]
    assert len(everyone) == 5  # the CSV holds every account, whatever page the reader is on

    def shown(url: str) -> list[str]:
        return [a["account_id"] for g in alice_client.get(url).context["groups"] for a in g["accounts"]]

    assert [shown(f"/?sort=name&page={n}") for n in (1, 2, 3)] == [everyone[:2], everyone[2:4], everyone[4:]]
    assert shown("/?sort=name&page=99") == everyone[4:] and shown("/?sort=name&page=x") == everyone[:2]  # no error page
    body = alice_client.get("/?sort=name&environment=prod").content.decode()
    assert "3 accounts (accounts 1 to 2 on this page)" in body
    assert 'href="?sort=name&amp;environment=prod&amp;page=2">Next accounts</a>' in body  # the filters kept
    assert "Previous accounts" not in body
    assert (
        'href="?sort=name&amp;environment=prod&amp;page=1">Previous accounts</a>'
        in alice_client.get("/?sort=name&environment=prod&page=2").content.decode()
    )
    assert "Next accounts" not in alice_client.get("/?sort=name&environment=prod&page=2").content.decode()


def test_a_page_of_the_agenda_builds_only_its_own_rows(alice_client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: at 2,000 accounts the order reads a few facts per account and only the page's rows are built; the
    CSV builds every one, the same as the page would."""
    import audits.selectors
    import dashboard.views

    monkeypatch.setattr(dashboard.views, "AGENDA_PAGE", 2)
    load_fleet(5, days=2, users=2)
    built: list[str] = []
    real = audits.selectors.OverviewRow

    def counted(**fields):  # type: ignore[no-untyped-def]
        built.append(fields["account_id"])
        return real(**fields)

    monkeypatch.setattr(audits.selectors, "OverviewRow", counted)
    page = alice_client.get("/?sort=name")
    assert page.status_code == 200 and len(built) == 2
    assert built == [a["account_id"] for g in page.context["groups"] for a in g["accounts"]]
    built.clear()
    table = rows(alice_client.get("/?sort=name&format=csv"))
    assert len(built) == 5 and [r[0] for r in table[1:]] == built


def test_a_bad_filter_value_is_a_clear_message_not_an_error(alice_client: Client) -> None:
    load_fleet(1)
    body = alice_client.get("/findings/?since=yesterday&account=12").content.decode()
    assert "Enter a valid date (YYYY-MM-DD) or time (ISO 8601)." in body and "An account id is 12 digits." in body
    assert alice_client.get("/?since=not-a-date").status_code == 200


def test_findings_filters_and_their_csv_agree(alice_client: Client) -> None:
    load_fleet(2)
    url = "/findings/?severity=medium&status=all&principal=admin"
    page = alice_client.get(url).context["page"]
    table = rows(alice_client.get("/findings.csv?severity=medium&status=all&principal=admin"))
    assert len(table) - 1 == page.paginator.count > 0
    assert {r[3] for r in table[1:]} == {"medium"} and all("admin" in r[5].lower() for r in table[1:])


def test_htmx_gets_the_table_alone(alice_client: Client) -> None:
    load_fleet(1)
    body = alice_client.get("/findings/?status=all", headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<div id="finding-table">') and "<html" not in body


def test_a_finding_page_shows_its_history_across_runs(alice_client: Client) -> None:
    load_fleet(1, days=12)
    event = (
        FindingEvent.objects.filter(kind="resolved").select_related("finding").first()
        or FindingEvent.objects.select_related("finding").first()
    )
    assert event is not None
    response = alice_client.get(f"/findings/{event.finding_id}/")
    assert response.context["history"][0].kind == "opened"
    history = rows(alice_client.get(f"/findings/{event.finding_id}/?format=csv"))
    assert [r[4] for r in history[1:]] == [e.kind for e in response.context["history"]]


def test_the_principal_page_tells_what_changed_when(alice_client: Client) -> None:
    from tests.reports import build_report, root_row, user_row

    account = account_create(account_id="111122223333", name="sandbox")
    base = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00")
    with_mfa = {**base, "mfa_active": "true"}
    rotated = {**with_mfa, "access_key_1_active": "true", "access_key_1_last_rotated": "2026-11-02T12:00:00+00:00"}
    for day, row in ((1, base), (2, with_mfa), (3, rotated)):
        report_import(
            account=account, content=build_report(root_row(), row), generated_at=datetime(2026, 11, day, 20, tzinfo=UTC)
        )
    response = alice_client.get("/accounts/111122223333/users/JSmith/")
    changes = [p.changes for p in response.context["timeline"]]
    assert changes == [["key 1 activated"], ["MFA enabled"], ["first seen"]]
    table = rows(alice_client.get("/accounts/111122223333/users/JSmith/?format=csv"))
    assert [r[-1] for r in table[1:]] == ["first seen", "MFA enabled", "key 1 activated"]


def test_a_user_used_every_day_is_one_row_and_a_timeline_not_a_row_per_day(alice_client: Client) -> None:
    from tests.reports import build_report, root_row, user_row

    account = account_create(account_id="111122223333", name="sandbox")
    for day in range(1, 31):
        used = f"2026-10-{day:02d}T08:00:00+00:00"
        row = user_row(
            "JSmith", password_enabled="true", password_last_used=used, mfa_active="true" if day > 20 else "false",
            access_key_1_active="true", access_key_1_last_rotated="2026-09-01T00:00:00+00:00", access_key_1_last_used_date=used,
        )  # fmt: skip
        report_import(
            account=account, content=build_report(root_row(), row), generated_at=datetime(2026, 10, day, 20, tzinfo=UTC)
        )
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=UTC), tick=False):
        response = alice_client.get("/accounts/111122223333/users/JSmith/")
    periods = response.context["timeline"]
    assert [p.changes for p in periods] == [["MFA enabled"], ["first seen"]]  # newest first
    assert [p.states for p in periods] == [10, 20] and periods[1].until == periods[0].state.valid_from
    assert response.context["use_count"] == 60 and len(response.context["uses"].marks) == 60  # 30 logins, 30 key uses
    assert len(rows(alice_client.get("/accounts/111122223333/users/JSmith/?format=csv"))) == 1 + 30  # every state kept


def test_changes_since_the_last_review(alice_client: Client) -> None:
    from tests.reports import build_report, root_row, user_row

    account = account_create(account_id="111122223333", name="sandbox")
    report_import(
        account=account,
        content=build_report(
            root_row(), user_row("opsTeam", password_enabled="true", mfa_active="true"), user_row("networkAdmin")
        ),
        generated_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    used = root_row(password_last_used="2026-11-04T08:00:00+00:00")
    report_import(
        account=account,
        content=build_report(used, user_row("networkAdmin"), user_row("AWhite")),
        generated_at=datetime(2026, 11, 5, tzinfo=UTC),
    )
    changes = alice_client.get("/changes/?since=2026-11-01").context
    assert [s.name for s in changes["new_users"][0]] == ["AWhite"]
    assert [s.name for s in changes["removed_users"][0]] == ["opsTeam"]
    assert [e.used_at.day for e in changes["root_events"][0]] == [4]
    assert {e.kind for e in changes["findings"][0]} >= {"resolved"}
    assert [r[1] for r in rows(alice_client.get("/changes/?since=2026-11-01&table=new_users&format=csv"))[1:]] == ["AWhite"]
    assert alice_client.get("/changes/?table=nope&format=csv").status_code == 404


def test_the_changes_page_shows_the_latest_rows_and_says_so_while_each_csv_holds_every_one(
    alice_client: Client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import dashboard.views

    load_fleet(2, days=6, users=6)
    monkeypatch.setattr(dashboard.views, "CHANGES_SHOWN", 3)
    everything = rows(alice_client.get("/changes/?since=2026-01-01&table=findings&format=csv"))[1:]
    new_users = rows(alice_client.get("/changes/?since=2026-01-01&table=new_users&format=csv"))[1:]
    assert len(everything) > 3 and len(new_users) > 3  # more than the page shows: once cut at 500, page and CSV alike
    page = alice_client.get("/changes/?since=2026-01-01")
    shown, more = page.context["findings"]
    assert more and [str(e.finding_id) for e in shown] == [r[0] for r in everything[:3]]  # the CSV's first rows, newest first
    assert page.context["new_users"][1] and len(page.context["new_users"][0]) == 3
    body = page.content.decode()
    assert "The latest 3 finding changes shown; the CSV holds every one." in body and "The latest 3 new users shown" in body
    assert "root-usage events shown" not in alice_client.get("/changes/?since=2026-11-19").content.decode()


def test_the_account_page_has_the_meeting_sections_and_the_root_timeline(alice_client: Client) -> None:
    load_fleet(1, days=5)
    from accounts.models import AwsAccount

    account = AwsAccount.objects.get()
    response = alice_client.get(f"/accounts/{account.account_id}/")
    titles = [title for title, _, _ in response.context["sections"]]
    assert titles[:4] == ["Root user", "MFA gaps", "Naming standard", "Shared accounts"]
    body = response.content.decode()
    assert '<svg class="timeline"' in body and "a name that fits: <code>JSmith</code>" in body
    assert len(response.context["timeline"].marks) == len(response.context["root_usage"])


def test_the_timeline_places_events_by_time() -> None:
    from audits.charts import root_usage_timeline

    end = datetime(2026, 11, 20, tzinfo=UTC)
    timeline = root_usage_timeline(
        [(end - timedelta(days=365), "password"), (end, "access_key_1"), (end - timedelta(days=400), "password")], end=end
    )
    assert [m.x for m in timeline.marks] == [30.0, 710.0] and [m.credential for m in timeline.marks] == [
        "password",
        "access_key_1",
    ]
    assert len(timeline.ticks) == 12


def test_the_principal_page_findings_csv_has_exactly_its_rows(alice_client: Client) -> None:
    from tests.reports import build_report, root_row, user_row

    account = account_create(account_id="111122223333", name="sandbox")
    report_import(
        account=account,
        content=build_report(
            root_row(),
            user_row("opsTeam", password_enabled="true", mfa_active="true"),
            user_row("opsTeam2", password_enabled="true", mfa_active="true"),
        ),
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    shown = list(alice_client.get("/accounts/111122223333/users/opsTeam/").context["findings"])
    table = rows(alice_client.get("/findings.csv?account=111122223333&user=opsTeam&status=all"))
    assert (
        [r[5] for r in table[1:]] == [f.principal for f in shown] == ["opsTeam", "opsTeam"]
    )  # shared, and a password never used
    assert [r[2] for r in table[1:]] == [f.check_id for f in shown]


def test_failed_and_never_read_accounts_come_first_and_never_read_is_not_clean(alice_client: Client) -> None:
    from audits.models import AuditRun, RunStatus
    from tests.reports import build_report, root_row, user_row

    t = datetime(2026, 11, 1, tzinfo=UTC)
    worst = account_create(account_id="800000000001", name="has a critical", environment="prod")
    report_import(
        account=worst,
        content=build_report(root_row(mfa_active="false")).replace(b"111122223333", b"800000000001"),
        generated_at=t,
    )
    clean = account_create(account_id="800000000002", name="clean", environment="prod")
    report_import(
        account=clean,
        content=build_report(root_row(), user_row("JSmith")).replace(b"111122223333", b"800000000002"),
        generated_at=t,
    )
    broken = account_create(account_id="800000000003", name="last run failed", environment="prod")
    report_import(account=broken, content=build_report(root_row()).replace(b"111122223333", b"800000000003"), generated_at=t)
    from django.utils import timezone

    later = timezone.now() + timedelta(minutes=1)  # after the import's own request time
    AuditRun.objects.create(account=broken, source="fetch", status=RunStatus.FAILED, requested_at=later, error="AccessDenied")
    account_create(account_id="800000000004", name="never read", environment="prod")
    order = [a["name"] for g in alice_client.get("/").context["groups"] for a in g["accounts"]]
    assert set(order[:2]) == {"last run failed", "never read"} and order[2:] == ["has a critical", "clean"]
    page = alice_client.get("/accounts/800000000004/").content.decode()
    assert "never been read" in page and "Nothing open." not in page and "Not read yet" in page
    assert "Nothing open." in alice_client.get("/accounts/800000000002/").content.decode()


def test_every_agenda_number_links_to_exactly_the_rows_it_counts(alice_client: Client) -> None:
    """The agenda answers the mission's questions per account, in one table; each number opens the rows it counts."""
    import re

    from django.contrib.auth.models import User

    from accounts.models import AwsAccount
    from reviews.services import review_open

    load_fleet(4, days=20)
    review_open(
        period_start=END.date().replace(day=1), period_end=END.date(), accounts=list(AwsAccount.objects.all()),
        actor=User.objects.create(username="rita"),
    )  # fmt: skip
    since = (END - timedelta(days=10)).date().isoformat()
    page = alice_client.get(f"/?since={since}").content.decode()
    assert page.count("<table") == 1 and page.count('<th scope="rowgroup"') == 2  # one table, a group per environment
    links = [(n, url) for url, n in re.findall(r'<a class="count[^"]*" href="([^"]+)">(\d+)</a>', page)]
    assert len(links) == 4 * 7
    assert any(int(n) > 0 for n, url in links if "resolved_since" in url) and any(
        int(n) > 0 for n, url in links if "since=" in url
    )
    for count, url in links:
        listed = alice_client.get(url.replace("&amp;", "&"))
        assert listed.status_code == 200 and listed.context["page"].paginator.count == int(count), url
    decided = re.findall(r'\?account=(\d{12})">(\d+) / (\d+)</a>', page)
    assert len(decided) == 4 and all(done == "0" and int(total) > 0 for _, done, total in decided)
    # Root used, with when: the credential report's use, alone (no CloudTrail here), saying why CloudTrail has no session.
    assert re.search(
        r'<li class="root-session sev-high report-only"[^>]*><a href="[^"]+#root-usage"><time[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d UTC</time></a> '
        r"[a-z -]+, in the credential report only: CloudTrail not read for this account",
        page,
    )
    mfa = re.findall(r'check=user.console_without_mfa">(\d+)</a> / (\d+)', page)
    users = {
        a.pk: PrincipalState.objects.filter(account=a, valid_to__isnull=True, password_enabled=True).count()
        for a in AwsAccount.objects.all()
    }
    assert sorted(int(total) for _, total in mfa) == sorted(users.values())
