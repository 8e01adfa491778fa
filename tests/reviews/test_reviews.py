"""Review sign-off: decisions, four-eyes, frozen sign-offs, corrections, expiry, the evidence pack and the calendar."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils.html import strip_tags
from icalendar import Calendar

from accounts.models import AwsAccount
from audits.models import Finding, FindingEvent
from audits.services import finding_tally_refresh, report_import
from reviews.evidence import evidence_zip
from reviews.models import Disposition, Review, SignOff
from reviews.selectors import undecided
from reviews.services import Decision, ReviewError, acceptances_expire, disposition_set, review_correct, review_open, review_sign
from reviews.tasks import expire_acceptances
from staff.models import ChangeRecord
from tests.conftest import SAMPLE_T, client_for, member_of, staff_user
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
FALSE_POSITIVE = Decision(kind="false_positive", justification="checked with the team")


@pytest.fixture
def review(account: AwsAccount) -> Review:
    return review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=staff_user("preparer"))


def decide_all(review: Review, decision: Decision = FALSE_POSITIVE, actor: str = "preparer") -> None:
    """Decide every open finding of the review, as the login named `actor`."""
    for finding in undecided(review):
        disposition_set(review=review, finding=finding, decision=decision, actor=staff_user(actor), today=TODAY)


def signed(review: Review) -> SignOff:
    decide_all(review)
    return review_sign(review=review, actor=staff_user("signer"), comment="November reviewed", now=NOW)


# --- decisions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            Decision(kind="accepted_risk", justification="legacy", expires_on=TODAY + timedelta(days=30)),
            "justification and an owner",
        ),
        (Decision(kind="accepted_risk", justification="legacy", owner="CISO"), "needs an expiry date"),
        (
            Decision(kind="accepted_risk", justification="legacy", owner="CISO", expires_on=TODAY + timedelta(days=91)),
            "at most 90 days",
        ),
        (Decision(kind="accepted_risk", justification="legacy", owner="CISO", expires_on=TODAY), "expires after today"),
        (Decision(kind="remediation_planned", ticket="SEC-1"), "ticket reference and a due date"),
        (Decision(kind="remediation_planned", ticket="SEC-1", due_on=TODAY - timedelta(days=1)), "in the past"),
        (Decision(kind="false_positive"), "needs a justification"),
        (Decision(kind="ignore"), "unknown disposition"),
    ],
)
def test_a_decision_without_what_it_needs_is_refused(review: Review, decision: Decision, message: str) -> None:
    finding = Finding.objects.filter(status="open").first()
    assert finding is not None
    with pytest.raises(ReviewError, match=message):
        disposition_set(review=review, finding=finding, decision=decision, actor=staff_user("preparer"), today=TODAY)
    assert not Disposition.objects.exists()


def test_the_maximum_acceptance_is_a_setting(review: Review, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_ACCEPTANCE_MAX_DAYS = 30
    finding = Finding.objects.filter(status="open").first()
    assert finding is not None
    decision = Decision(kind="accepted_risk", justification="legacy", owner="CISO", expires_on=TODAY + timedelta(days=31))
    with pytest.raises(ReviewError, match="at most 30 days"):
        disposition_set(review=review, finding=finding, decision=decision, actor=staff_user("preparer"), today=TODAY)


def test_a_finding_of_another_account_is_not_the_reviews(review: Review, db: None) -> None:
    from accounts.services import account_create

    other = account_create(account_id="222233334444", name="other")
    report_import(
        account=other,
        content=build_report({**user_row("networkAdmin"), "arn": "arn:aws:iam::222233334444:user/networkAdmin"}),
        generated_at=SAMPLE_T,
    )
    finding = Finding.objects.filter(account=other).first()
    assert finding is not None
    with pytest.raises(ReviewError, match="does not cover"):
        disposition_set(review=review, finding=finding, decision=FALSE_POSITIVE, actor=staff_user("preparer"), today=TODAY)


def test_sign_off_needs_a_decision_on_every_open_finding_and_a_comment(review: Review) -> None:
    first = undecided(review).first()
    assert first is not None
    disposition_set(review=review, finding=first, decision=FALSE_POSITIVE, actor=staff_user("preparer"), today=TODAY)
    left = undecided(review).count()
    with pytest.raises(ReviewError, match=f"{left} open findings still without a decision"):
        review_sign(review=review, actor=staff_user("signer"), comment="done", now=NOW)
    decide_all(review)
    with pytest.raises(ReviewError, match="needs a comment"):
        review_sign(review=review, actor=staff_user("signer"), comment="  ", now=NOW)
    assert not SignOff.objects.exists()


@pytest.mark.parametrize(("holds", "signs"), [("reviews.add_disposition", False), ("reviews.add_signoff", True)])
def test_signing_takes_the_sign_off_permission_not_the_decision_one(review: Review, holds: str, signs: bool) -> None:
    """Issue 30 point 10: every role holds both permissions, so a login given exactly one tells them apart: deciding
    findings does not let a login sign the review."""
    from django.contrib.auth.models import Permission

    decide_all(review)
    user = User.objects.create_user("decider", password="correct horse battery")
    for name in ("audits.view_finding", "reviews.view_review", holds):
        app, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    response = client_for(user).post(f"/reviews/{review.pk}/sign", {"comment": "November reviewed"})
    assert (response.status_code, SignOff.objects.filter(review=review).exists()) == ((302, True) if signs else (403, False))


def test_carry_over_proposes_the_latest_signed_decision_alone(review: Review, account: AwsAccount) -> None:
    """Issue 30 points 11 and 12: of a finding's earlier decisions, carry-over proposes the one of the latest signed
    review: not an older signed one, not one of a review still open (never signed), nor one of a review being
    corrected (its decisions may change), however late their periods."""
    from reviews.services import carried_decisions

    def decided(start: date, end: date, why: str, *, sign: bool) -> Review:
        earlier = review_open(period_start=start, period_end=end, accounts=[account], actor=staff_user("preparer"))
        decide_all(earlier, Decision(kind="remediation_planned", ticket=why, due_on=TODAY + timedelta(days=30)))  # stays open
        if sign:
            review_sign(review=earlier, actor=staff_user("signer"), comment="reviewed", now=NOW)
        return earlier

    decided(date(2026, 8, 1), date(2026, 8, 31), "august, signed", sign=True)
    decided(date(2026, 9, 1), date(2026, 9, 30), "september, signed", sign=True)
    decided(date(2026, 10, 1), date(2026, 10, 31), "october, never signed", sign=False)
    correcting = decided(date(2026, 10, 1), date(2026, 10, 31), "october, being corrected", sign=True)
    review_correct(review=correcting, actor=staff_user("admin"), reason="a decision was wrong")
    proposed = carried_decisions(review=review, today=TODAY)
    assert proposed and {c.previous.ticket for c in proposed} == {"september, signed"}


def test_the_snapshot_holds_root_events_up_to_the_second_of_sign_off(review: Review, account: AwsAccount) -> None:
    """Issue 30 point 13: the period ends at the sign-off, to the second: the root events of its last day are in the
    snapshot (the one at the very second too), one a second later is the next period's."""
    from cloudtrail.services import cloudtrail_import
    from demo.trail import log_file, sign_in

    times = {"early on the last day": NOW.replace(hour=0, minute=30), "a minute before": NOW - timedelta(minutes=1), "at the second": NOW}
    after = NOW + timedelta(seconds=1)
    records = [sign_in(t, event_id=label) for label, t in times.items()] + [sign_in(after, event_id="a second after")]
    cloudtrail_import(account=account, files=[("day.json", log_file(*records))], actor="admin", received_at=NOW - timedelta(hours=2))
    snapshot = signed(review).snapshot
    assert sorted(e["event_id"] for e in snapshot["root_events"]) == sorted(times)


# --- four-eyes ----------------------------------------------------------------------------------------


def test_four_eyes_is_on_unless_turned_off() -> None:
    from django.conf import settings

    assert settings.IAMWATCH_REVIEW_FOUR_EYES is True


def test_four_eyes_refuses_a_self_approval_and_accepts_a_second_reviewer(review: Review) -> None:
    decide_all(review, actor="helper")
    for preparer in ("preparer", "helper"):  # who opened it, and who recorded decisions
        with pytest.raises(ReviewError, match="four-eyes"):
            review_sign(review=review, actor=staff_user(preparer), comment="looks fine to me", now=NOW)
    second = staff_user("second")
    signoff = review_sign(review=review, actor=second, comment="checked", now=NOW)
    assert (signoff.signed_by, signoff.prepared_by, signoff.signed_by_user) == ("second", "preparer; decisions by helper", second)  # issue 23.6: who decided is named
    assert signoff.snapshot["four_eyes"] is True
    snap = signoff.snapshot
    assert snap["signed_by"] == {"user_id": second.pk, "name": "second"}
    assert snap["review"]["prepared_by"] == {"user_id": staff_user("preparer").pk, "name": "preparer"}
    assert snap["review"]["decided_by"] == [{"user_id": staff_user("helper").pk, "name": "helper"}]


def test_four_eyes_knows_a_preparer_who_renamed_themselves(review: Review) -> None:
    """Open and decide as admin1, rename to admin1-alt, sign: still the same person, refused."""
    decide_all(review, actor="preparer")
    preparer = staff_user("preparer")
    preparer.username = "preparer-alt"
    preparer.save()
    with pytest.raises(ReviewError, match="four-eyes"):
        review_sign(review=review, actor=preparer, comment="a fresh pair of eyes, honestly", now=NOW)


def test_with_four_eyes_off_the_preparer_may_sign(review: Review, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAMWATCH_REVIEW_FOUR_EYES = False
    decide_all(review, actor="preparer")
    assert review_sign(review=review, actor=staff_user("preparer"), comment="alone", now=NOW).snapshot["four_eyes"] is False


# --- what a sign-off freezes, and that it stays frozen ---------------------------------------------------


def test_a_sign_off_freezes_runs_reports_findings_decisions_thresholds_and_version(review: Review) -> None:
    signoff = signed(review)
    snap = signoff.snapshot
    run = review.accounts.get().runs.get()
    assert snap["runs"] == [
        {
            "run_id": run.pk,
            "account_id": "111122223333",
            "source": "import",
            "report_generated_at": "2026-11-01T00:00:00Z",
            "report_sha256": run.report.sha256,
        }  # type: ignore[union-attr]
    ]
    assert len(snap["findings"]) == 13 and all(f["disposition"]["disposition"] == "false_positive" for f in snap["findings"])
    assert snap["thresholds"] == {
        "root_recent_use_days": 30,
        "password_unused_days": 45,
        "access_key_unused_days": 45,
        "access_key_rotation_days": 90,
    }
    assert snap["iamwatch_version"] and snap["review"]["prepared_by"]["name"] == "preparer"
    canonical = json.dumps(snap, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert signoff.snapshot_sha256 == hashlib.sha256(canonical).hexdigest()


def test_a_sign_off_cannot_be_changed_or_deleted_through_the_orm(review: Review) -> None:
    signoff = signed(review)
    signoff.comment = "nothing to see"
    with pytest.raises(Exception, match="never edited"):
        signoff.save()
    with pytest.raises(Exception, match="never deleted"):
        signoff.delete()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        SignOff.objects.filter(pk=signoff.pk).update(comment="nothing to see")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        SignOff.objects.filter(pk=signoff.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Review.objects.filter(pk=review.pk).delete()  # the review a sign-off stands on is protected too
    signoff.refresh_from_db()
    assert signoff.comment == "November reviewed"


def test_the_database_refuses_to_change_or_delete_a_signed_reviews_decisions_until_a_correction(review: Review) -> None:
    from django.db import connection

    signed(review)
    for sql in ("UPDATE audits_disposition SET justification = 'rewritten'", "DELETE FROM audits_disposition"):
        with pytest.raises(DatabaseError, match="frozen"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert not Disposition.objects.filter(justification="rewritten").exists() and Disposition.objects.count() == 13
    review_correct(review=review, actor=staff_user("signer"), reason="a decision was wrong")
    assert Disposition.objects.filter(review=review).update(justification="corrected") == 13  # open again: allowed


def test_a_signed_reviews_decisions_cannot_change_and_it_cannot_be_signed_twice(review: Review) -> None:
    signed(review)
    finding = Finding.objects.filter(dispositions__review=review).first()
    assert finding is not None
    with pytest.raises(ReviewError, match="signed"):
        disposition_set(review=review, finding=finding, decision=FALSE_POSITIVE, actor=staff_user("preparer"), today=TODAY)
    with pytest.raises(ReviewError, match="already signed"):
        review_sign(review=review, actor=staff_user("signer"), comment="again", now=NOW)


def test_a_correction_is_a_new_sign_off_pointing_at_the_old_one(review: Review) -> None:
    first = signed(review)
    frozen = (first.snapshot_sha256, first.comment)
    with pytest.raises(ReviewError, match="needs a reason"):
        review_correct(review=review, actor=staff_user("signer"), reason="")
    review_correct(review=review, actor=staff_user("signer"), reason="networkAdmin is not a false positive")
    finding = Finding.objects.get(check_id="user.shared_account", principal="networkAdmin")
    disposition_set(
        review=review,
        finding=finding,
        decision=Decision(kind="remediation_planned", ticket="SEC-42", due_on=TODAY + timedelta(days=14)),
        actor=staff_user("signer"),
        today=TODAY,
    )
    second = review_sign(review=review, actor=staff_user("second signer"), comment="corrected", now=NOW + timedelta(hours=1))
    assert second.corrects == first
    first.refresh_from_db()
    assert (first.snapshot_sha256, first.comment) == frozen
    finding.refresh_from_db()
    assert finding.status == "open" and finding.accepted_until is None  # remediation planned: stays open
    assert ChangeRecord.objects.filter(action="review.corrected").exists()


# --- acceptances and their expiry ------------------------------------------------------------------------


def test_a_later_run_shows_an_accepted_finding_as_accepted_until_its_expiry_then_open(account: AwsAccount) -> None:
    with time_machine.travel(NOW, tick=False):
        review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=staff_user("preparer"))
        accepted = Finding.objects.get(check_id="user.console_without_mfa", principal="networkAdmin")
        disposition_set(
            review=review,
            finding=accepted,
            decision=Decision(
                kind="accepted_risk",
                justification="break-glass, in the safe",
                owner="CISO",
                expires_on=TODAY + timedelta(days=10),
            ),
            actor=staff_user("preparer"),
            today=TODAY,
        )
        decide_all(review, Decision(kind="remediation_planned", ticket="SEC-1", due_on=TODAY + timedelta(days=30)))
        review_sign(review=review, actor=staff_user("signer"), comment="ok", now=NOW)
    accepted.refresh_from_db()
    assert accepted.status == "accepted" and accepted.accepted_until == datetime(2026, 12, 9, tzinfo=UTC)
    assert Finding.objects.filter(status="open").count() == 12  # the rest: remediation planned, still open

    later = build_report(
        root_row(), user_row("networkAdmin", password_enabled="true", password_last_used="2026-12-01T00:00:00+00:00")
    )
    with time_machine.travel(datetime(2026, 12, 3, 1, 0, tzinfo=UTC), tick=False):
        report_import(account=account, content=later, generated_at=datetime(2026, 12, 3, tzinfo=UTC))
    accepted.refresh_from_db()
    assert accepted.status == "accepted" and accepted.last_seen == datetime(2026, 12, 3, tzinfo=UTC)

    with time_machine.travel(datetime(2026, 12, 8, 23, 0, tzinfo=UTC), tick=False):
        assert expire_acceptances() == 0  # still within the expiry date
    with time_machine.travel(datetime(2026, 12, 9, 0, 30, tzinfo=UTC), tick=False):
        assert expire_acceptances() == 1
    accepted.refresh_from_db()
    assert accepted.status == "open" and accepted.accepted_until is None
    assert list(FindingEvent.objects.filter(finding=accepted).values_list("kind", flat=True).order_by("pk"))[-2:] == [
        "accepted",
        "expired",
    ]
    assert ChangeRecord.objects.get(action="finding.acceptance_expired").actor == "scheduler"
    assert acceptances_expire(now=datetime(2026, 12, 10, tzinfo=UTC)) == 0


def test_an_accepted_finding_that_resolves_and_comes_back_before_expiry_is_still_accepted(account: AwsAccount) -> None:
    review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=staff_user("preparer"))
    decide_all(review, Decision(kind="accepted_risk", justification="known", owner="CISO", expires_on=TODAY + timedelta(days=60)))
    review_sign(review=review, actor=staff_user("signer"), comment="ok", now=NOW)
    back = build_report(
        root_row(), user_row("networkAdmin", password_enabled="true", password_last_used="2026-12-01T00:00:00+00:00")
    )
    with time_machine.travel(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), tick=False):
        report_import(account=account, content=build_report(root_row()), generated_at=datetime(2026, 12, 1, tzinfo=UTC))
        assert Finding.objects.get(check_id="user.console_without_mfa", principal="networkAdmin").status == "resolved"
        report_import(account=account, content=back, generated_at=datetime(2026, 12, 2, tzinfo=UTC))
    finding = Finding.objects.get(check_id="user.console_without_mfa", principal="networkAdmin")
    assert finding.status == "accepted"


# --- the evidence pack ------------------------------------------------------------------------------------


def unpack(data: bytes, where: Path) -> Path:
    with zipfile.ZipFile(BytesIO(data)) as pack:
        pack.extractall(where)
    (root,) = where.iterdir()
    return root


def sha256sum_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=root, capture_output=True, text=True, check=False)


def test_the_evidence_pack_verifies_offline_and_fails_after_one_changed_byte(review: Review, tmp_path: Path) -> None:
    signoff = signed(review)
    data = evidence_zip(review)
    assert evidence_zip(review) == data  # the same review, the same bytes
    root = unpack(data, tmp_path / "pack")
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    run = review.accounts.get().runs.get()
    assert names == sorted(
        [
            "MANIFEST.sha256",
            "README.txt",
            "dispositions.csv",
            "findings.csv",
            "review.html",
            "root_events.csv",
            "runs.csv",
            "signoffs.csv",
            f"snapshot-{signoff.pk}.json",
            f"reports/111122223333-run{run.pk}.csv",
            "VERIFY.md", "signoffs.jsonl", "trail.jsonl", "period.csv", "root_usage.csv", "access_changes.csv",
            "period_runs.csv", "alerts.csv", "evidence_conflicts.csv",
        ]
    )  # fmt: skip
    result = sha256sum_check(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == len(names) - 1
    assert hashlib.sha256((root / f"snapshot-{signoff.pk}.json").read_bytes()).hexdigest() == signoff.snapshot_sha256
    assert hashlib.sha256((root / f"reports/111122223333-run{run.pk}.csv").read_bytes()).hexdigest() == run.report.sha256  # type: ignore[union-attr]
    findings = (root / "findings.csv").read_text().splitlines()
    assert (
        findings[0]
        == "account_id,account_name,check_id,severity,status,principal,arn,detail,first_seen,last_seen,resolved_at,run_id,report_generated_at"
    )
    assert len(findings) == 14 and len((root / "dispositions.csv").read_text().splitlines()) == 14

    report = root / f"reports/111122223333-run{run.pk}.csv"
    body = bytearray(report.read_bytes())
    body[100] ^= 0x01
    report.write_bytes(bytes(body))
    result = sha256sum_check(root)
    assert result.returncode != 0 and f"reports/111122223333-run{run.pk}.csv: FAILED" in result.stdout


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(data.decode())))


def test_the_evidence_pack_shows_every_finding_and_decision_as_the_web_csv_does(
    account: AwsAccount, personas: dict[str, Client], tmp_path: Path
) -> None:
    """Open (remediation planned), accepted (risk), accepted (false positive), resolved: the pack says what the pages say."""
    reviewer = staff_user("preparer")
    with time_machine.travel(NOW, tick=False):
        review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=reviewer)
        risk = Finding.objects.get(check_id="user.console_without_mfa", principal="networkAdmin")
        disposition_set(
            review=review,
            finding=risk,
            decision=Decision(kind="accepted_risk", justification="in the safe", owner="CISO", expires_on=TODAY + timedelta(days=30)),
            actor=reviewer,
            today=TODAY,
        )
        fp = undecided(review).exclude(principal="networkAdmin").first()
        assert fp is not None
        disposition_set(review=review, finding=fp, decision=FALSE_POSITIVE, actor=reviewer, today=TODAY)
        decide_all(review, Decision(kind="remediation_planned", ticket="SEC-9", due_on=TODAY + timedelta(days=20)))
        # A later report before the sign-off: every user but networkAdmin has gone, so their findings resolve.
        later = build_report(root_row(), user_row("networkAdmin", password_enabled="true"))
        report_import(account=account, content=later, generated_at=NOW - timedelta(hours=1))
        decide_all(review, Decision(kind="remediation_planned", ticket="SEC-9", due_on=TODAY + timedelta(days=20)))  # new ones
        review_sign(review=review, actor=staff_user("signer"), comment="ok", now=NOW)

    root = unpack(evidence_zip(review), tmp_path / "pack")
    pack_findings = {(r["check_id"], r["principal"]): r for r in _csv_rows((root / "findings.csv").read_bytes())}
    pack_decisions = {(r["check_id"], r["principal"]): r for r in _csv_rows((root / "dispositions.csv").read_bytes())}
    web = personas["viewer"].get(f"/reviews/{review.pk}/?format=csv")
    assert web.status_code == 200
    web_rows = {(r["check_id"], r["principal"]): r for r in _csv_rows(b"".join(web.streaming_content))}  # type: ignore[attr-defined]
    everything = personas["viewer"].get("/findings.csv?status=all")
    all_rows = {(r["check_id"], r["principal"]): r for r in _csv_rows(b"".join(everything.streaming_content))}  # type: ignore[attr-defined]

    assert set(pack_findings) == set(web_rows) == set(pack_decisions)
    assert {r["status"] for r in pack_findings.values()} == {"open", "accepted", "resolved"}
    assert pack_findings[("user.console_without_mfa", "networkAdmin")]["status"] == "accepted"
    assert pack_findings[(fp.check_id, fp.principal)]["status"] in {"accepted", "resolved"}
    page = (root / "review.html").read_text()
    assert page.count("<tr><td>") == len(pack_findings) + 1  # a row per finding, and the sign-off
    assert "accepted_risk: in the safe; owner CISO" in page and "decided_at" not in page
    for key, row in pack_findings.items():
        assert row == {k: web_rows[key][k] for k in row}, key  # the pack's findings.csv = the review's web CSV
        assert row == all_rows[key], key  # = the findings page's CSV
        decision = pack_decisions[key]
        assert decision["decided_at"] == "2026-11-28T09:00:00Z"
        assert {k: v for k, v in decision.items() if k not in ("finding_id", "account_id")} == {
            k: web_rows[key][k] for k in decision if k not in ("finding_id", "account_id")
        }, key


def test_an_unsigned_review_has_no_evidence_pack(review: Review, personas: dict[str, Client]) -> None:
    response = personas["viewer"].get(f"/reviews/{review.pk}/evidence.zip")
    assert response.status_code == 409 and b"not signed off yet" in response.content


# --- pages ------------------------------------------------------------------------------------------------


def test_only_reviewers_open_decide_and_sign(review: Review, personas: dict[str, Client]) -> None:
    finding = undecided(review).first()
    assert finding is not None
    for role in ("viewer", "outsider"):
        client = personas[role]
        assert client.post("/reviews/new", {"period": "2026-10"}).status_code == 403
        assert (
            client.post(
                f"/reviews/{review.pk}/findings/{finding.pk}", {"kind": "false_positive", "justification": "x"}
            ).status_code
            == 403
        )
        assert client.post(f"/reviews/{review.pk}/sign", {"comment": "x"}).status_code == 403
        assert client.post(f"/reviews/{review.pk}/correct", {"reason": "x"}).status_code == 403
    assert Review.objects.count() == 1 and not Disposition.objects.exists() and not SignOff.objects.exists()


def test_a_reviewer_walks_the_review_and_signs_it_through_the_pages(account: AwsAccount, personas: dict[str, Client]) -> None:
    reviewer = personas["reviewer"]
    response = reviewer.post("/reviews/new", {"period": "2026-11"})
    review = Review.objects.get()
    assert response["Location"] == f"/reviews/{review.pk}/"
    assert (review.period_start, review.period_end, review.title) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        "IAM review November 2026",
    )
    page = reviewer.get(f"/reviews/{review.pk}/")
    assert page.context["current"] == account and len(page.context["rows"]) == 13
    second = client_for(member_of("reviewer", "second-reviewer"))  # four-eyes: the preparer does not sign
    refused = second.post(f"/reviews/{review.pk}/sign", {"comment": "done"}, follow=True)
    assert "Not signed: 13 open findings still without a decision" in refused.content.decode()
    bad = reviewer.post(
        f"/reviews/{review.pk}/findings/{page.context['rows'][0].finding.pk}",
        {"kind": "accepted_risk", "justification": "x"},
        follow=True,
    )
    assert "needs a justification and an owner" in bad.content.decode()
    for finding in (r.finding for r in page.context["rows"]):
        reviewer.post(f"/reviews/{review.pk}/findings/{finding.pk}", {"kind": "false_positive", "justification": "known"})
    own = reviewer.post(f"/reviews/{review.pk}/sign", {"comment": "all decided by me"}, follow=True)
    assert "four-eyes" in own.content.decode() and not SignOff.objects.exists()
    second.post(f"/reviews/{review.pk}/sign", {"comment": "all decided"})
    review.refresh_from_db()
    assert review.status == "signed" and SignOff.objects.get().signed_by == "second-reviewer"
    assert reviewer.get(f"/reviews/{review.pk}/evidence.zip")["Content-Type"] == "application/zip"


def test_the_dashboard_shows_when_the_next_review_is_due_and_flags_an_overdue_one(review: Review, alice: User) -> None:
    assert "No review signed yet" in client_for(alice).get("/").content.decode()
    with time_machine.travel(datetime(2026, 11, 5, 11, 0, tzinfo=UTC), tick=False):
        decide_all(review)
        review_sign(review=review, actor=staff_user("signer"), comment="ok", now=datetime(2026, 11, 5, 11, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=False):
        page = strip_tags(client_for(alice).get("/").content.decode())
        assert "Next review due 2026-12-05 10:00 UTC" in page and "overdue" not in page
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, tzinfo=UTC), tick=False):
        client = client_for(alice)
        assert "Review overdue: the next review was due 2026-12-05 10:00 UTC" in strip_tags(client.get("/").content.decode())
        assert "The next review is overdue: it was due 2026-12-05 10:00 UTC" in strip_tags(client.get("/reviews/").content.decode())


def test_the_calendar_lists_reviews_and_upcoming_meetings_each_linking_to_its_review(
    review: Review, alice_client: Client
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = alice_client.get("/reviews/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    by_summary = {str(e["summary"]): e for e in events}
    november = by_summary["IAM review November 2026"]
    assert str(november["url"]) == f"http://testserver/reviews/{review.pk}/"
    assert november.decoded("dtstart") == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    upcoming = [e for e in events if str(e["uid"]).startswith("meeting-")]
    assert len(upcoming) == 11  # twelve meetings ahead, one of them November's review
    assert str(by_summary["IAM review December 2026"]["url"]) == "http://testserver/reviews/?period=2026-12"


def test_the_audit_trail_page_lists_changes_and_its_csv_has_the_same_rows(review: Review, alice_client: Client) -> None:
    signed(review)
    page = alice_client.get("/trail/?action=review.")
    actions = [r.action for r in page.context["page"]]
    assert actions == ["review.signed", "review.opened"]
    rows = b"".join(alice_client.get("/trail/?action=review.&format=csv").streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert rows[0] == "at,actor,action,target,before,after" and len(rows) == 3
    assert ",signer,review.signed," in rows[1]
    decided = alice_client.get("/trail/?action=finding.disposition_set&actor=preparer")
    assert len(decided.context["page"].object_list) == 13


def test_a_sign_off_cannot_be_changed_through_the_admin_or_a_view(review: Review, personas: dict[str, Client]) -> None:
    signoff = signed(review)
    admin = client_for(User.objects.create_superuser("root-admin", password="correct horse battery"))
    assert admin.get(f"/admin/reviews/signoff/{signoff.pk}/change/").status_code == 200  # read-only view
    assert admin.post(f"/admin/reviews/signoff/{signoff.pk}/change/", {"comment": "rewritten"}).status_code == 403
    assert admin.post(f"/admin/reviews/signoff/{signoff.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.post(f"/admin/reviews/review/{review.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/reviews/signoff/add/").status_code == 403
    finding = Finding.objects.filter(dispositions__review=review).first()
    assert finding is not None
    reviewer = personas["reviewer"]
    response = reviewer.post(
        f"/reviews/{review.pk}/findings/{finding.pk}", {"kind": "false_positive", "justification": "changed"}, follow=True
    )
    assert "this review is signed" in response.content.decode()
    response = reviewer.post(f"/reviews/{review.pk}/sign", {"comment": "again"}, follow=True)
    assert "already signed" in response.content.decode()
    signoff.refresh_from_db()
    assert signoff.comment == "November reviewed" and SignOff.objects.count() == 1
    assert Disposition.objects.get(review=review, finding=finding).justification == "checked with the team"


def test_the_review_page_costs_the_same_queries_for_a_small_and_a_larger_fleet(alice_client: Client) -> None:
    from accounts.models import AwsAccount as Account
    from tests.audits.test_dashboard import load_fleet, queries

    load_fleet(2, days=2)
    small = review_open(
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=list(Account.objects.all()), actor=staff_user("p")
    )
    few = queries(alice_client, f"/reviews/{small.pk}/")
    load_fleet(6, days=2, first=2)
    large = review_open(
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=list(Account.objects.all()), actor=staff_user("p")
    )
    assert queries(alice_client, f"/reviews/{large.pk}/") == few <= 20  # with the earlier decisions to carry over, and the late evidence since each last sign-off


def test_a_findings_page_shows_its_acceptance_and_the_review_that_decided_it(review: Review, personas: dict[str, Client]) -> None:
    finding = Finding.objects.get(check_id="user.console_without_mfa", principal="networkAdmin")
    disposition_set(
        review=review,
        finding=finding,
        decision=Decision(kind="accepted_risk", justification="break-glass", owner="CISO", expires_on=TODAY + timedelta(days=20)),
        actor=staff_user("preparer"),
        today=TODAY,
    )
    decide_all(review)
    review_sign(review=review, actor=staff_user("signer"), comment="ok", now=NOW)
    page = personas["viewer"].get(f"/findings/{finding.pk}/").content.decode()
    assert "accepted until 2026-12-19 00:00 UTC, then open again" in strip_tags(page)
    assert f'href="/reviews/{review.pk}/"' in page and "accepted risk: break-glass; owner CISO; until 2026-12-18" in strip_tags(page)


def _row_html(page: str, finding_id: int) -> str:
    start = page.index(f'<tr id="finding-{finding_id}"')
    return page[start : page.index("</tr>", start)]


def test_a_decision_must_be_chosen_not_defaulted(review: Review, personas: dict[str, Client]) -> None:
    finding = undecided(review).first()
    assert finding is not None
    row = _row_html(personas["reviewer"].get(f"/reviews/{review.pk}/").content.decode(), finding.pk)
    assert row.count('<details class="kind">') == 3 and "<details class=\"kind\" open>" not in row  # nothing preselected
    response = personas["reviewer"].post(f"/reviews/{review.pk}/findings/{finding.pk}", {"kind": "", "justification": "x"})
    assert response.status_code == 400 and not Disposition.objects.exists()
    row = _row_html(response.content.decode(), finding.pk)
    assert "kind: This field is required." in row and 'value="x"' in row


def test_a_refused_decision_is_shown_beside_its_row_with_the_input_kept(review: Review, personas: dict[str, Client]) -> None:
    finding = undecided(review).first()
    assert finding is not None
    too_far = (TODAY + timedelta(days=120)).isoformat()
    with time_machine.travel(NOW, tick=False):
        response = personas["reviewer"].post(
            f"/reviews/{review.pk}/findings/{finding.pk}",
            {"kind": "accepted_risk", "accepted_risk-justification": "legacy app", "accepted_risk-owner": "CISO",
             "accepted_risk-expires_on": too_far},
        )  # fmt: skip
    assert response.status_code == 400 and not Disposition.objects.exists()
    page = response.content.decode()
    row = _row_html(page, finding.pk)
    assert f'id="error-{finding.pk}"' in row and "at most 90 days ahead" in row and "autofocus" in row
    assert page.count('role="alert"') == 1  # beside the row, not at the top of the page
    assert '<details class="kind" open><summary>Accept the risk' in row
    assert all(f'value="{v}"' in row for v in ("legacy app", "CISO", too_far))


def test_one_decision_for_the_ticked_findings_for_a_check_or_for_the_whole_account(
    review: Review, personas: dict[str, Client]
) -> None:
    reviewer = personas["reviewer"]
    url = f"/reviews/{review.pk}/decide"
    fix = {"account": "111122223333", "kind": "remediation_planned", "remediation_planned-ticket": "SEC-7",
           "remediation_planned-due_on": (TODAY + timedelta(days=14)).isoformat()}  # fmt: skip
    ids = list(undecided(review).values_list("pk", flat=True))
    other = AwsAccount.objects.create(account_id="999988887777", name="other")
    foreign = Finding.objects.create(
        account=other, check_id="user.console_without_mfa", severity="high", principal="x", detail="x",
        first_seen=NOW, last_seen=NOW, first_run=Finding.objects.get(pk=ids[0]).first_run,
        last_run=Finding.objects.get(pk=ids[0]).last_run,
    )  # fmt: skip
    finding_tally_refresh([other.pk])  # made by hand here, not by a run: counted as a run would
    with time_machine.travel(NOW, tick=False):
        nothing = reviewer.post(url, {**fix, "finding": []})
        assert nothing.status_code == 400 and "select at least one finding" in nothing.content.decode()
        mixed = reviewer.post(url, {**fix, "finding": [ids[0], foreign.pk]})
        assert mixed.status_code == 400 and "nothing was decided" in mixed.content.decode()
        assert not Disposition.objects.exists()  # all or none
        kept = mixed.content.decode()
        assert 'value="SEC-7"' in kept and f'value="{ids[0]}" form="bulk"' in kept  # the ticks and the input stay

        assert reviewer.post(url, {**fix, "finding": ids[:2]}).status_code == 302
        assert Disposition.objects.count() == 2
        check = Finding.objects.get(pk=ids[2]).check_id
        of_check = undecided(review).filter(check_id=check).count()
        reviewer.post(url, {**fix, "scope": "check", "check": check})
        assert Disposition.objects.count() == 2 + of_check
        reviewer.post(url, {**fix, "scope": "account"})
    assert not undecided(review).exists() and Disposition.objects.count() == len(ids)
    assert set(Disposition.objects.values_list("ticket", flat=True)) == {"SEC-7"}
    assert ChangeRecord.objects.filter(action="finding.disposition_set").count() == len(ids)  # one entry per finding


def test_a_new_review_carries_the_last_signed_decisions_and_lists_overdue_and_expired_ones_first(
    account: AwsAccount, personas: dict[str, Client]
) -> None:
    october = datetime(2026, 10, 28, 9, 0, tzinfo=UTC)
    with time_machine.travel(october, tick=False):
        previous = review_open(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), accounts=[account], actor=staff_user("preparer"))
        findings = list(undecided(previous))
        overdue, expired, *rest = findings
        prep = staff_user("preparer")
        disposition_set(review=previous, finding=overdue, decision=Decision(kind="remediation_planned", ticket="SEC-1",
                        due_on=date(2026, 11, 10)), actor=prep, today=october.date())  # fmt: skip
        disposition_set(review=previous, finding=expired, decision=Decision(kind="accepted_risk", justification="legacy",
                        owner="CISO", expires_on=date(2026, 11, 20)), actor=prep, today=october.date())  # fmt: skip
        for f in rest:
            disposition_set(review=previous, finding=f, decision=Decision(kind="remediation_planned", ticket=f"SEC-{f.pk}",
                            due_on=date(2026, 12, 31)), actor=prep, today=october.date())  # fmt: skip
        review_sign(review=previous, actor=staff_user("signer"), comment="October", now=october)
    acceptances_expire(now=NOW)  # the acceptance ran out on 11-20: open again
    with time_machine.travel(NOW, tick=False):
        review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=staff_user("preparer"))
        page = personas["reviewer"].get(f"/reviews/{review.pk}/")
        html = page.content.decode()
        assert [c.finding.pk for c in page.context["carry_problems"]] == sorted(
            [overdue.pk, expired.pk], key=lambda pk: next((f.check_id, f.principal) for f in findings if f.pk == pk)
        )
        assert "remediation overdue: ticket SEC-1 was due on 2026-11-10" in html
        assert "acceptance expired on 2026-11-20" in html
        assert {c.finding.pk for c in page.context["carryable"]} == {f.pk for f in rest}
        assert [r.finding.pk for r in page.context["rows"]][:2] == [c.finding.pk for c in page.context["carry_problems"]]
        assert 'value="SEC-1"' in _row_html(html, overdue.pk)  # the earlier decision filled in, to decide again

        refused = personas["reviewer"].post(f"/reviews/{review.pk}/carry", {"account": account.account_id, "finding": [overdue.pk, rest[0].pk]})
        assert refused.status_code == 400 and "remediation overdue" in refused.content.decode()
        assert not Disposition.objects.filter(review=review).exists()
        done = personas["reviewer"].post(f"/reviews/{review.pk}/carry", {"account": account.account_id, "finding": [f.pk for f in rest]})
        assert done.status_code == 302
    carried = Disposition.objects.filter(review=review)
    assert carried.count() == len(rest) and all(d.carried_from and d.carried_from.review == previous for d in carried)
    assert {d.ticket for d in carried} == {f"SEC-{f.pk}" for f in rest}
    assert ChangeRecord.objects.filter(action="finding.disposition_carried").count() == len(rest)
    assert set(undecided(review)) == {overdue, expired}
    page = personas["reviewer"].get(f"/reviews/{review.pk}/").content.decode()
    assert f"carried from review {previous.pk}" in _row_html(page, rest[0].pk)


def test_the_review_page_names_who_prepared_it_not_their_ids(review: Review, personas: dict[str, Client]) -> None:
    decide_all(review, actor="second-preparer")
    page = personas["viewer"].get(f"/reviews/{review.pk}/").content.decode()
    assert "<dt>Prepared by</dt><dd>preparer, second-preparer</dd>" in page
