"""staff 0003 and reviews 0005: the trail and the sign-offs written before the chains are chained in the order they
were written, the triggers hold afterwards on both databases, and the result verifies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

BEFORE = [("staff", "0002_trail_no_delete_on_sqlite"), ("reviews", "0004_decisions_carried_over")]
AFTER = [("staff", "0003_trail_hash_chain"), ("reviews", "0005_signoff_hash_chain")]
T = datetime(2026, 10, 1, 12, 30, 15, 123456, tzinfo=UTC)


def test_the_trail_and_the_sign_offs_written_before_are_chained_and_verify(migrator: Any) -> None:
    old = migrator(BEFORE)
    Record = old.get_model("staff", "ChangeRecord")
    for n in range(3):
        Record.objects.create(actor="admin", action="account.added", target=f"account {n}", after={"n": n, "names": ["a", "b"]})
    review = old.get_model("reviews", "Review").objects.create(
        title="October", period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), status="signed", created_by="p"
    )
    snapshot = {"format": "iamwatch-signoff/4", "findings": []}
    import hashlib

    from staff.chain import canonical_json

    SignOff = old.get_model("reviews", "SignOff")
    first = SignOff.objects.create(review=review, signed_by="s", prepared_by="p", signed_at=T, comment="ok", snapshot=snapshot,
                                   snapshot_sha256=hashlib.sha256(canonical_json(snapshot)).hexdigest())  # fmt: skip
    Record.objects.create(actor="s", action="review.signed", target=f"review {review.pk}", after={"signoff": first.pk, "snapshot_sha256": first.snapshot_sha256})

    migrator(AFTER)
    from reviews.verify import evidence_verify
    from staff.models import ChangeRecord

    assert evidence_verify().problems == []
    assert ChangeRecord.objects.order_by("pk").first().prev_sha256 == "0" * 64
    for sql, message in (("UPDATE accounts_changerecord SET actor = 'x'", "append-only"), ("DELETE FROM accounts_changerecord", "append-only"),
                         ("UPDATE audits_signoff SET comment = 'x'", "immutable"), ("UPDATE audits_review SET status = 'open'", "only by a correction")):  # fmt: skip
        with pytest.raises(DatabaseError, match=message), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    from staff.trail import record_change

    record_change(actor="admin", action="account.changed", target="account 1", after={"at": T + timedelta(days=1)})
    assert evidence_verify().problems == []
