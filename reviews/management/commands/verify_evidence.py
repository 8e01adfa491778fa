"""`manage.py verify_evidence`: recompute the audit trail's and the sign-offs' hash chains and every snapshot's SHA-256,
and hold every signed review to what its latest sign-off froze. Exit 0 when all holds; 1, naming the first record that
does not match, when anything does not."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from reviews.verify import evidence_verify


class Command(BaseCommand):
    help = "Verify the audit trail's and the sign-offs' hash chains, every snapshot, and every signed review's decisions."

    def handle(self, *args: Any, **options: Any) -> None:
        verified = evidence_verify()
        if verified.problems:
            for problem in verified.problems:
                self.stderr.write(f"NOT VERIFIED: {problem}")
            raise SystemExit(1)
        self.stdout.write(
            f"evidence verified: {verified.trail_records} audit trail records and {verified.signoffs} sign-offs chained, "
            f"every snapshot matches its SHA-256, {verified.signed_reviews} signed reviews hold their signed decisions"
        )
