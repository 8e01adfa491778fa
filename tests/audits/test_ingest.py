"""A report becomes a run, a compact history, root-usage events and findings that live across runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q

from accounts.models import AwsAccount, NamingExemption
from audits import services
from audits.models import AuditRun, Finding, PrincipalState, RootUsageEvent, RunStatus, StoredReport
from audits.report import ReportError, parse_report
from audits.services import report_import
from tests.conftest import SAMPLE_T
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
T1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def table_counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (AuditRun, StoredReport, PrincipalState, RootUsageEvent, Finding))


def state_on(account: AwsAccount, name: str, when: datetime) -> PrincipalState:
    """What user `name` looked like at `when`: one query."""
    return PrincipalState.objects.get(
        Q(valid_to__isnull=True) | Q(valid_to__gt=when), account=account, name=name, valid_from__lte=when
    )


def test_importing_the_sample_stores_a_complete_run(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    run = report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    assert run.status == RunStatus.SUCCEEDED and run.generated_at == SAMPLE_T
    assert run.principal_count == 7 and run.open_finding_count == run.new_finding_count == 13
    assert run.report is not None and run.report.sha256 == services.parse_report(sample_bytes).sha256
    assert PrincipalState.objects.filter(account=sandbox, valid_to__isnull=True).count() == 7
    sandbox.refresh_from_db()
    assert sandbox.last_success_at == SAMPLE_T


def test_the_raw_report_is_kept_compressed_byte_for_byte(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    import gzip

    run = report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    assert run.report is not None
    stored = bytes(run.report.compressed)
    assert len(stored) < len(sample_bytes) and gzip.decompress(stored) == sample_bytes


def test_an_unchanged_report_adds_a_run_but_no_history_and_no_second_copy(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    second = report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T + DAY)
    assert second.changed_principal_count == 0
    assert PrincipalState.objects.count() == 7 and StoredReport.objects.count() == 1 and AuditRun.objects.count() == 2
    assert Finding.objects.filter(last_run=second, last_seen=SAMPLE_T + DAY).count() == 13


def test_history_keeps_a_row_per_change_and_answers_state_on_a_date_in_one_query(
    sandbox: AwsAccount, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    no_mfa = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00")
    with_mfa = {**no_mfa, "mfa_active": "true"}
    report_import(account=sandbox, content=build_report(root_row(), no_mfa), generated_at=T1)
    report_import(account=sandbox, content=build_report(root_row(), no_mfa), generated_at=T1 + DAY)
    report_import(account=sandbox, content=build_report(root_row(), with_mfa), generated_at=T1 + 2 * DAY)
    report_import(account=sandbox, content=build_report(root_row()), generated_at=T1 + 3 * DAY)  # JSmith deleted

    states = list(PrincipalState.objects.filter(account=sandbox, name="JSmith").order_by("valid_from"))
    assert [(s.valid_from, s.valid_to, s.mfa_active) for s in states] == [
        (T1, T1 + 2 * DAY, False),
        (T1 + 2 * DAY, T1 + 3 * DAY, True),
    ]
    with django_assert_num_queries(1):
        assert state_on(sandbox, "JSmith", T1 + DAY + timedelta(hours=5)).mfa_active is False
    assert state_on(sandbox, "JSmith", T1 + 2 * DAY).mfa_active is True
    assert not PrincipalState.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=T1 + 3 * DAY), name="JSmith").exists()


def test_root_usage_events_all_on_the_first_run_then_only_those_that_moved(sandbox: AwsAccount) -> None:
    first_root = root_row(
        password_last_used="2026-10-01T08:00:00+00:00", access_key_1_active="true",
        access_key_1_last_rotated="2020-01-01T00:00:00+00:00", access_key_1_last_used_date="2026-09-01T08:00:00+00:00",
    )  # fmt: skip
    run1 = report_import(account=sandbox, content=build_report(first_root), generated_at=T1)
    run2 = report_import(account=sandbox, content=build_report(first_root), generated_at=T1 + DAY)
    moved = {**first_root, "password_last_used": "2026-11-01T20:00:00+00:00"}
    run3 = report_import(account=sandbox, content=build_report(moved), generated_at=T1 + 2 * DAY)
    events = list(RootUsageEvent.objects.order_by("used_at").values_list("credential", "used_at", "first_seen_run"))
    assert events == [
        ("access_key_1", datetime(2026, 9, 1, 8, tzinfo=UTC), run1.pk),
        ("password", datetime(2026, 10, 1, 8, tzinfo=UTC), run1.pk),
        ("password", datetime(2026, 11, 1, 20, tzinfo=UTC), run3.pk),
    ]
    assert not RootUsageEvent.objects.filter(first_seen_run=run2).exists()


def test_a_finding_lives_across_runs_open_resolved_reopened(sandbox: AwsAccount) -> None:
    no_mfa = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00")
    fixed = {**no_mfa, "mfa_active": "true"}
    run1 = report_import(account=sandbox, content=build_report(root_row(), no_mfa), generated_at=T1)
    run2 = report_import(account=sandbox, content=build_report(root_row(), no_mfa), generated_at=T1 + DAY)
    finding = Finding.objects.get(check_id="user.console_without_mfa", principal="JSmith")
    assert (finding.status, finding.first_seen, finding.last_seen, finding.first_run_id, finding.last_run_id) == (
        "open",
        T1,
        T1 + DAY,
        run1.pk,
        run2.pk,
    )

    run3 = report_import(account=sandbox, content=build_report(root_row(), fixed), generated_at=T1 + 2 * DAY)
    finding.refresh_from_db()
    assert (finding.status, finding.resolved_at, finding.resolved_run_id, finding.last_seen) == (
        "resolved",
        T1 + 2 * DAY,
        run3.pk,
        T1 + DAY,
    )
    assert run3.resolved_finding_count == 1

    report_import(account=sandbox, content=build_report(root_row(), no_mfa), generated_at=T1 + 3 * DAY)
    finding.refresh_from_db()
    assert (finding.status, finding.resolved_at, finding.first_seen, finding.last_seen, finding.reopened_count) == (
        "open",
        None,
        T1,
        T1 + 3 * DAY,
        1,
    )
    assert Finding.objects.filter(check_id="user.console_without_mfa", principal="JSmith").count() == 1
    history = list(finding.events.order_by("at").values_list("kind", "at"))
    assert history == [("opened", T1), ("resolved", T1 + 2 * DAY), ("reopened", T1 + 3 * DAY)]


def test_a_resolved_finding_stays_resolved_as_it_was_through_later_runs(sandbox: AwsAccount) -> None:
    """Issue 30 point 5: the runs after the one that resolved it neither move its resolved time nor add an event nor
    count it resolved again (the agenda's "resolved since" would grow every day)."""
    no_mfa = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00")
    fixed = {**no_mfa, "mfa_active": "true"}
    report_import(account=sandbox, content=build_report(root_row(), no_mfa), generated_at=T1)
    resolving = report_import(account=sandbox, content=build_report(root_row(), fixed), generated_at=T1 + DAY)
    later = [report_import(account=sandbox, content=build_report(root_row(), fixed), generated_at=T1 + n * DAY) for n in (2, 3)]
    finding = Finding.objects.get(check_id="user.console_without_mfa", principal="JSmith")
    assert (finding.status, finding.resolved_at, finding.resolved_run_id) == ("resolved", T1 + DAY, resolving.pk)
    assert list(finding.events.values_list("kind", flat=True).order_by("at")) == ["opened", "resolved"]
    assert [r.resolved_finding_count for r in later] == [0, 0]


def test_each_run_counts_its_open_new_and_resolved_findings(sandbox: AwsAccount) -> None:
    no_mfa = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00")
    other = {**no_mfa, "user": "AWhite", "arn": no_mfa["arn"].replace("JSmith", "AWhite")}
    reports = [(no_mfa,), (no_mfa, other), (other,), (no_mfa, other)]  # first, new + carried, resolved, reopened
    for day, users in enumerate(reports):
        run = report_import(account=sandbox, content=build_report(root_row(), *users), generated_at=T1 + day * DAY)
        open_now = Finding.objects.filter(account=sandbox, status="open")
        assert run.open_finding_count == open_now.count() == open_now.filter(last_run=run).count() > 0
        assert run.new_finding_count == Finding.objects.filter(first_run=run).count()
        assert run.resolved_finding_count == Finding.objects.filter(resolved_run=run).count()
    assert [r.resolved_finding_count > 0 for r in AuditRun.objects.order_by("generated_at")] == [False, False, True, False]
    assert Finding.objects.filter(principal="JSmith", reopened_count=1).exists()


def test_findings_of_a_deleted_user_are_resolved(sandbox: AwsAccount) -> None:
    report_import(account=sandbox, content=build_report(root_row(), user_row("networkAdmin")), generated_at=T1)
    report_import(account=sandbox, content=build_report(root_row()), generated_at=T1 + DAY)
    assert set(Finding.objects.filter(principal="networkAdmin").values_list("status", flat=True)) == {"resolved"}


def test_an_exemption_added_later_resolves_the_naming_finding_on_the_next_run(sandbox: AwsAccount) -> None:
    content = build_report(root_row(), user_row("ci-deploy"))
    report_import(account=sandbox, content=content, generated_at=T1)
    assert sandbox.naming_standard is not None
    NamingExemption.objects.create(
        standard=sandbox.naming_standard, user_name="ci-deploy", reason="CI service user, owned by platform team"
    )
    report_import(account=sandbox, content=content, generated_at=T1 + DAY)
    assert Finding.objects.get(check_id="user.name_violation", principal="ci-deploy").status == "resolved"


def test_a_stated_time_before_every_principal_was_created_is_not_believed(sandbox: AwsAccount) -> None:
    received = datetime(2026, 11, 20, tzinfo=UTC)
    content = build_report(user_row("JSmith", user_creation_time="2026-11-10T00:00:00+00:00"))
    moto_time = datetime(2015, 2, 2, 20, 2, 2, tzinfo=UTC)
    run = report_import(account=sandbox, content=content, generated_at=moto_time, received_at=received)
    assert run.generated_at == received and run.aws_generated_at == moto_time
    assert any("earlier than the creation of every principal" in w for w in run.warnings)
    assert any("no <root_account> row" in w for w in run.warnings)


def test_a_report_without_a_root_row_leaves_root_findings_and_root_as_they_were(sandbox: AwsAccount) -> None:
    """Root checks that could not run resolve nothing: a report cut at a line, or from moto, says nothing of root."""
    root = root_row(mfa_active="false", access_key_1_active="true", access_key_1_last_rotated="2026-01-01T00:00:00+00:00")
    first = report_import(account=sandbox, content=build_report(root, user_row("JSmith")), generated_at=T1)
    root_findings = {"root.mfa_disabled", "root.access_key_exists"}
    assert root_findings <= set(Finding.objects.filter(status="open").values_list("check_id", flat=True))
    second = report_import(account=sandbox, content=build_report(user_row("JSmith")), generated_at=T1 + DAY)
    assert set(Finding.objects.filter(check_id__in=root_findings).values_list("check_id", "status", "last_run")) == {
        (c, "open", first.pk) for c in root_findings
    }
    assert second.resolved_finding_count == 0
    assert any("no <root_account> row" in w for w in second.warnings)
    warning = next(w for w in second.warnings if w.startswith("not evaluated in this run"))
    assert "root.access_key_exists" in warning and "root.mfa_disabled" in warning and "left as they were" in warning
    assert second.not_evaluated["root.access_key_exists"] == "no <root_account> row in the report"
    root_state = PrincipalState.objects.get(name="<root_account>")
    assert root_state.valid_to is None and not root_state.removed
    # With the root row back and the key gone, the check runs again and resolves what it no longer sees.
    report_import(account=sandbox, content=build_report(root_row(mfa_active="false"), user_row("JSmith")), generated_at=T1 + 2 * DAY)
    assert Finding.objects.get(check_id="root.access_key_exists").status == "resolved"


def test_a_report_with_no_principal_at_all_is_refused(sandbox: AwsAccount) -> None:
    with pytest.raises(ReportError, match="lists no principal"):
        report_import(account=sandbox, content=build_report(), generated_at=T1)
    assert table_counts() == (0, 0, 0, 0, 0)


def test_a_report_of_another_account_is_refused_and_nothing_is_stored(db: None, sample_bytes: bytes) -> None:
    other = services.AwsAccount.objects.create(account_id="999988887777", name="other")
    with pytest.raises(ReportError, match="belong to account 111122223333"):
        report_import(account=other, content=sample_bytes, generated_at=SAMPLE_T)
    assert table_counts() == (0, 0, 0, 0, 0)


def test_a_report_not_newer_than_the_latest_run_is_refused(sandbox: AwsAccount) -> None:
    content = build_report(root_row(), user_row("JSmith"))
    report_import(account=sandbox, content=content, generated_at=T1)
    before = table_counts()
    with pytest.raises(ReportError, match="already stored"):
        report_import(account=sandbox, content=content, generated_at=T1)
    with pytest.raises(ReportError, match="older than account"):
        report_import(account=sandbox, content=content, generated_at=T1 - DAY)
    assert table_counts() == before


def test_a_generated_time_in_the_future_is_refused(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    with pytest.raises(ReportError, match="in the future"):
        report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T, received_at=SAMPLE_T - DAY)
    assert table_counts() == (0, 0, 0, 0, 0)


def test_a_crash_in_the_middle_of_a_run_leaves_nothing_half_stored(
    sandbox: AwsAccount, sample_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    before = table_counts()
    changed = sample_bytes.replace(b"JSmith,arn:aws:iam::111122223333:user/JSmith,2021-02-01T10:00:00+00:00,true,2026-10-31T16:20:05+00:00,2026-08-01T10:00:00+00:00,N/A,true",
                                   b"JSmith,arn:aws:iam::111122223333:user/JSmith,2021-02-01T10:00:00+00:00,true,2026-10-31T16:20:05+00:00,2026-08-01T10:00:00+00:00,N/A,false")  # fmt: skip

    def crash(**kwargs: object) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "_record_findings", crash)  # after history and root usage were written
    with pytest.raises(RuntimeError):
        report_import(account=sandbox, content=changed, generated_at=SAMPLE_T + DAY)
    assert table_counts() == before
    sandbox.refresh_from_db()
    assert sandbox.last_success_at == SAMPLE_T


@pytest.mark.django_db(transaction=True)
def test_ingest_refuses_to_run_outside_a_transaction(sandbox: AwsAccount, sample_bytes: bytes) -> None:
    run = AuditRun.objects.create(account=sandbox, source="import", requested_at=SAMPLE_T)
    with pytest.raises(RuntimeError, match="all-or-nothing"):
        services.report_ingest(run=run, report=services.parse_report(sample_bytes), content=sample_bytes, at=SAMPLE_T)


def test_state_fields_line_up_with_the_report_row() -> None:
    from audits.report import parse_report

    row = parse_report(
        build_report(
            user_row(
                "JSmith",
                password_enabled="true",
                mfa_active="true",
                access_key_2_active="true",
                access_key_2_last_rotated="2026-01-02T03:04:05+00:00",
            )
        )
    ).users[0]
    state = dict(zip(services.STATE_FIELDS, services._state_values(row), strict=True))
    assert state["arn"] == row.arn and state["mfa_active"] is True and state["password_enabled"] is True
    assert state["key2_active"] is True and state["key2_last_rotated"] == row.access_key_2.last_rotated
    assert state["cert2_active"] is False and state["key1_last_used_service"] == ""


def test_the_root_email_rule_from_settings_reaches_the_check(sandbox: AwsAccount, sample_bytes: bytes, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ROOT_EMAIL_RULE = "aws-root+{account_id}@example.com"
    sandbox.root_email = "jsmith@example.com"
    sandbox.save()
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    finding = Finding.objects.get(check_id="account.root_email_not_alias")
    assert finding.detail == "root email jsmith@example.com is not aws-root+111122223333@example.com"
    sandbox.root_email = "aws-root+111122223333@example.com"
    sandbox.save()
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T + DAY)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_a_check_whose_api_call_was_denied_leaves_its_findings_as_they_were(sandbox: AwsAccount) -> None:
    """A partial run: the credential report's checks run and resolve; the denied API checks neither raise nor resolve."""
    from django.db import transaction

    from audits.checks import ApiFacts
    from audits.models import AuditRun, RunSource
    from audits.services import report_ingest

    def fetched(day: int, facts: ApiFacts, *rows: dict[str, str]) -> AuditRun:
        content = build_report(root_row(), *rows)
        run = AuditRun.objects.create(account=sandbox, source=RunSource.FETCH, requested_at=T1 + day * DAY)
        with transaction.atomic():
            return report_ingest(run=run, report=parse_report(content), content=content, at=T1 + day * DAY, api_facts=facts)

    admin = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00", mfa_active="false")
    full = fetched(0, ApiFacts(password_policy=None, admin_users={"JSmith": ("AdministratorAccess",)}), admin)
    assert full.status == RunStatus.SUCCEEDED
    denied = {"user.direct_admin": "iam:GetAccountAuthorizationDetails", "account.password_policy_weak": "iam:GetAccountPasswordPolicy"}
    fixed = user_row("JSmith", password_enabled="true", password_last_used="2026-10-30T00:00:00+00:00", mfa_active="true")
    partial = fetched(1, ApiFacts(password_policy=None, missing=denied), fixed)
    assert partial.status == RunStatus.PARTIAL
    statuses = dict(Finding.objects.values_list("check_id", "status"))
    assert statuses["user.console_without_mfa"] == "resolved"  # the report's own check ran and no longer sees it
    assert statuses["user.direct_admin"] == statuses["account.password_policy_weak"] == "open"  # not evaluated
    assert Finding.objects.get(check_id="user.direct_admin").last_run_id == full.pk
    # Its summary counts every open finding of the account, those it left as they were included (issue 28 point 14).
    assert partial.open_finding_count == Finding.objects.filter(account=sandbox, status="open").count() >= 2
    assert partial.open_finding_count > Finding.objects.filter(last_run=partial, status="open").count()
    assert partial.not_evaluated == {
        "account.password_policy_weak": "the role may not call iam:GetAccountPasswordPolicy",
        "user.direct_admin": "the role may not call iam:GetAccountAuthorizationDetails",
    }


def test_a_finding_whose_check_did_not_run_says_so_on_its_page(sandbox: AwsAccount, alice_client) -> None:  # type: ignore[no-untyped-def]
    root = root_row(access_key_1_active="true", access_key_1_last_rotated="2026-01-01T00:00:00+00:00")
    first = report_import(account=sandbox, content=build_report(root, user_row("JSmith")), generated_at=T1)
    finding = Finding.objects.get(check_id="root.access_key_exists")
    assert "Not evaluated" not in alice_client.get(f"/findings/{finding.pk}/").content.decode()
    second = report_import(account=sandbox, content=build_report(user_row("JSmith")), generated_at=T1 + DAY)
    page = alice_client.get(f"/findings/{finding.pk}/").content.decode()
    assert f"Not evaluated in run {second.pk}" in page and "no &lt;root_account&gt; row in the report" in page
    assert f"as run {first.pk} last saw it" in page
