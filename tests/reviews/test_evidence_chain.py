"""Tamper-evident evidence: the audit trail and the sign-offs are hash chains, and `verify_evidence` names the first
record that a raw SQL edit changed, removed or slipped in; the database refuses what it can (issue 23, point 5)."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accounts.models import AwsAccount
from reviews.evidence import evidence_zip
from reviews.models import Disposition, Review, SignOff
from reviews.services import review_correct, review_open, review_sign, signoff_content
from reviews.verify import evidence_verify
from staff.chain import GENESIS, first_break, link_sha256
from staff.models import ChangeRecord
from staff.trail import record_change, record_changes, trail_links
from tests.conftest import staff_user
from tests.reviews.test_reviews import NOW, decide_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_review(account: AwsAccount) -> Review:
    review = review_open(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), accounts=[account], actor=staff_user("preparer"))
    decide_all(review)
    review_sign(review=review, actor=staff_user("signer"), comment="November reviewed", now=NOW)
    record_change(actor="admin", action="account.changed", target="account sandbox", after={"name": "sandbox"})
    return review


@contextmanager
def unguarded(table: str) -> Iterator[None]:
    """The table's triggers out of the way, as someone with the database owner's rights could do."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks the test's own writes left pending, first
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for _, sql in triggers:
                cursor.execute(sql)
        else:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def raw(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def problems() -> list[str]:
    return evidence_verify().problems


def test_every_trail_record_links_to_the_one_before_it_from_the_first(signed_review: Review) -> None:
    records = list(ChangeRecord.objects.order_by("pk"))
    assert records[0].prev_sha256 == GENESIS
    assert all(b.prev_sha256 == a.sha256 for a, b in itertools.pairwise(records))
    record_changes("importer", [("person.added", f"person {n}", None, {"n": n, "on": date(2026, 1, n)}) for n in (1, 2, 3)])
    assert first_break(trail_links()) == "" and problems() == []


def test_a_record_hashes_the_same_before_and_after_the_database_keeps_it() -> None:
    record = record_change(actor="a", action="x.changed", target="t", after={1: (1, 2), "when": datetime(2026, 1, 1, tzinfo=UTC)})
    stored = ChangeRecord.objects.get(pk=record.pk)
    assert stored.after == {"1": [1, 2], "when": "2026-01-01T00:00:00Z"}
    assert first_break(trail_links()) == ""


def test_a_signed_review_cannot_be_set_open_in_the_database(signed_review: Review) -> None:
    for status in ("open", "bogus"):
        with pytest.raises(DatabaseError, match="only by a correction"), transaction.atomic():
            raw("UPDATE audits_review SET status = %s WHERE id = %s", [status, signed_review.pk])
    other = review_open(period_start=date(2026, 12, 1), period_end=date(2026, 12, 31), accounts=list(signed_review.accounts.all()), actor=staff_user("p"))
    with pytest.raises(DatabaseError, match="only by a sign-off"), transaction.atomic():
        raw("UPDATE audits_review SET status = 'signed' WHERE id = %s", [other.pk])
    assert Review.objects.get(pk=signed_review.pk).status == "signed" and problems() == []


def test_a_decision_forged_behind_a_status_flip_is_named(signed_review: Review) -> None:
    decision = Disposition.objects.filter(review=signed_review).order_by("pk").first()
    assert decision is not None
    raw("UPDATE audits_review SET status = 'correcting' WHERE id = %s", [signed_review.pk])
    assert problems() == [f"review {signed_review.pk} ({signed_review.title}): marked as being corrected, but the audit trail has no correction since sign-off {SignOff.objects.get().pk}"]
    raw("UPDATE audits_disposition SET justification = 'forged' WHERE id = %s", [decision.pk])
    raw("UPDATE audits_review SET status = 'signed' WHERE id = %s", [signed_review.pk])
    found = problems()
    assert len(found) == 1 and f"decision {decision.pk} on finding {decision.finding_id} differs" in found[0] and "justification" in found[0]
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_evidence", stderr=err)
    assert exit_.value.code == 1 and f"decision {decision.pk}" in err.getvalue().splitlines()[0]


def test_a_real_correction_is_not_a_forgery(signed_review: Review) -> None:
    review_correct(review=signed_review, actor=staff_user("signer"), reason="one decision was wrong")
    assert problems() == []


def test_the_old_escape_table_no_longer_lets_a_delete_through(signed_review: Review) -> None:
    raw("CREATE TABLE iamwatch_purge (x INTEGER)")
    for table, message in (("accounts_changerecord", "append-only"), ("audits_signoff", "immutable"), ("audits_disposition", "frozen")):
        with pytest.raises(DatabaseError, match=message), transaction.atomic():
            raw(f"DELETE FROM {table}")  # noqa: S608 - a fixed table name
    assert ChangeRecord.objects.exists() and SignOff.objects.exists()


def test_a_trail_record_rewritten_past_the_triggers_is_named(signed_review: Review) -> None:
    target = ChangeRecord.objects.filter(action="finding.disposition_set").order_by("pk")[1]
    with unguarded("accounts_changerecord"):
        raw("UPDATE accounts_changerecord SET actor = 'someone else' WHERE id = %s", [target.pk])
    assert problems()[0].startswith(f"audit trail record {target.pk} (finding.disposition_set by someone else")
    assert "no longer matches its SHA-256" in problems()[0]


def test_a_trail_record_deleted_past_the_triggers_is_named_by_the_one_after_it(signed_review: Review) -> None:
    gone, after = ChangeRecord.objects.order_by("pk")[2:4]
    with unguarded("accounts_changerecord"):
        raw("DELETE FROM accounts_changerecord WHERE id = %s", [gone.pk])
    assert problems()[0].startswith(f"audit trail record {after.pk} ") and "does not follow" in problems()[0]


def test_trail_records_cut_off_before_a_sign_off_are_seen_from_the_sign_off(signed_review: Review) -> None:
    signoff = SignOff.objects.get()
    with unguarded("accounts_changerecord"):
        raw("DELETE FROM accounts_changerecord WHERE id >= (SELECT id FROM accounts_changerecord WHERE sha256 = %s)", [signoff.trail_sha256])
    assert f"sign-off {signoff.pk} (review {signed_review.pk}): the audit trail record it was signed after" in " ".join(problems())


def test_a_record_slipped_into_the_trail_is_named(signed_review: Review) -> None:
    last = ChangeRecord.objects.order_by("-pk").first()
    assert last is not None
    raw(
        "INSERT INTO accounts_changerecord (at, actor, action, target, prev_sha256, sha256) VALUES (%s, 'x', 'y', 'z', %s, %s)",
        [datetime(2026, 1, 1, tzinfo=UTC), "f" * 64, "e" * 64],
    )
    inserted = ChangeRecord.objects.order_by("-pk").first()
    assert inserted is not None and problems()[0].startswith(f"audit trail record {inserted.pk} ")


def test_a_sign_off_rewritten_or_removed_past_the_triggers_is_named(signed_review: Review) -> None:
    signoff = SignOff.objects.get()
    with unguarded("audits_signoff"):
        raw("UPDATE audits_signoff SET comment = 'nothing found' WHERE id = %s", [signoff.pk])
    assert problems()[0].startswith(f"sign-off {signoff.pk} (review {signed_review.pk}, signed by signer") and "no longer matches" in problems()[0]
    content = {**signoff_content(SignOff.objects.get()), "comment": "nothing found"}
    with unguarded("audits_signoff"):  # the forger recomputes the link: the snapshot and the trail still disagree
        raw("UPDATE audits_signoff SET sha256 = %s, snapshot = '{}' WHERE id = %s", [link_sha256(content, signoff.prev_sha256), signoff.pk])
    assert any(p == f"sign-off {signoff.pk} (review {signed_review.pk}): its snapshot no longer matches its SHA-256" for p in problems())


def test_the_packs_chains_verify_with_the_commands_its_verify_md_gives(signed_review: Review, tmp_path: Path) -> None:
    from tests.reviews.test_reviews import unpack

    root = unpack(evidence_zip(signed_review), tmp_path / "pack")
    guide = (root / "VERIFY.md").read_text()
    script = guide[guide.index("python3 -c '") + len("python3 -c '") : guide.index("' trail.jsonl")]
    script = "\n".join(line.removeprefix("    ") for line in script.splitlines())
    signoff = SignOff.objects.get()
    for name in ("trail.jsonl", "signoffs.jsonl"):
        result = subprocess.run(["python3", "-c", script, name], cwd=root, capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout.startswith("OK"), result.stderr
    assert result.stdout.split()[-1] == signoff.sha256  # the sign-off chain's last link is the sign-off's own hash
    lines = (root / "trail.jsonl").read_bytes().splitlines()
    assert not any(b'"redacted"' in line for line in lines)  # every change of the period was about this review's account
    hashes = [hashlib.sha256(line).hexdigest() for line in lines]
    assert signoff.trail_sha256 in hashes  # the trail as it stood at signing is in the pack
    signed_line = json.loads(lines[hashes.index(signoff.trail_sha256) + 1])
    assert signed_line["action"] == "review.signed" and signed_line["after"]["snapshot_sha256"] == signoff.snapshot_sha256
    shell = subprocess.run(
        ["bash", "-c", "while IFS= read -r line; do printf '%s' \"$line\" | sha256sum | cut -d' ' -f1; done < trail.jsonl"],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shell.stdout.split() == hashes
    with (root / "trail.jsonl").open("r+b") as f:  # one changed byte in a record breaks the chain after it
        data = bytearray(f.read())
        data[data.index(b'"actor":"') + 9] ^= 0x01
        f.seek(0)
        f.write(data)
    result = subprocess.run(["python3", "-c", script, "trail.jsonl"], cwd=root, capture_output=True, text=True)
    assert result.returncode != 0 and "does not follow" in result.stderr


def test_changes_about_other_accounts_stay_out_of_the_pack_yet_the_chain_holds(signed_review: Review, tmp_path: Path) -> None:
    from tests.reviews.test_reviews import unpack

    record_change(actor="admin", action="account.added", target="account 444455556666", after={"name": "Hidden Payments"})
    review_correct(review=signed_review, actor=staff_user("signer"), reason="one decision was wrong")
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        review_sign(review=signed_review, actor=staff_user("second"), comment="corrected", now=NOW + timedelta(hours=1))
    root = unpack(evidence_zip(signed_review), tmp_path / "pack")
    trail = (root / "trail.jsonl").read_bytes()
    assert b"444455556666" not in trail and b"Hidden Payments" not in trail and trail.count(b'"redacted":true') >= 1
    guide = (root / "VERIFY.md").read_text()
    script = guide[guide.index("python3 -c '") + len("python3 -c '") : guide.index("' trail.jsonl")]
    script = "\n".join(line.removeprefix("    ") for line in script.splitlines())
    result = subprocess.run(["python3", "-c", script, "trail.jsonl"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
