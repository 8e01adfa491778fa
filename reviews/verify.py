"""Verify the evidence as an auditor would: the audit trail's and the sign-offs' hash chains, every snapshot against its
SHA-256, and every signed review's decisions and status against what its latest sign-off froze.

Each problem names the first record that does not match; the database's triggers make raw SQL edits hard, and this
makes any that got past them visible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reviews.models import Disposition, Review, SignOff
from reviews.services import disposition_values, signoff_content
from staff.chain import Link, canonical_json, chain_time, first_break
from staff.models import ChangeRecord
from staff.trail import trail_links


@dataclass(frozen=True, slots=True)
class Verified:
    trail_records: int
    signoffs: int
    signed_reviews: int
    problems: list[str]


def signoff_links(signoffs: Iterator[SignOff] | None = None) -> Iterator[Link]:
    for s in signoffs if signoffs is not None else SignOff.objects.order_by("pk").iterator(chunk_size=200):
        label = f"sign-off {s.pk} (review {s.review_id}, signed by {s.signed_by} at {chain_time(s.signed_at)})"
        yield Link(label, signoff_content(s), s.prev_sha256, s.sha256)


def _signoff_problems(signoffs: list[SignOff]) -> Iterator[str]:
    signed_records: dict[int, dict[str, Any]] = {}
    for record in ChangeRecord.objects.filter(action__in=("review.signed", "review.corrected")).only("after"):
        after = record.after or {}
        if isinstance(after.get("signoff"), int):
            signed_records[after["signoff"]] = after
    heads = set(ChangeRecord.objects.filter(sha256__in={s.trail_sha256 for s in signoffs if s.trail_sha256}).values_list("sha256", flat=True))
    for s in signoffs:
        label = f"sign-off {s.pk} (review {s.review_id})"
        if hashlib.sha256(canonical_json(s.snapshot)).hexdigest() != s.snapshot_sha256:
            yield f"{label}: its snapshot no longer matches its SHA-256"
        if s.trail_sha256 and s.trail_sha256 not in heads:
            yield f"{label}: the audit trail record it was signed after ({s.trail_sha256[:12]}…) is gone"
        trail = signed_records.get(s.pk)
        if trail is None or trail.get("snapshot_sha256") != s.snapshot_sha256:
            yield f"{label}: the audit trail has no record of this sign-off with its snapshot's SHA-256"


def _review_problems(review: Review, latest: SignOff | None, corrections: set[int]) -> Iterator[str]:
    label = f"review {review.pk} ({review.title})"
    if latest is None:
        if review.status != Review.Status.OPEN:
            yield f"{label}: marked {review.status} but never signed"
        return
    if review.status == Review.Status.OPEN:
        yield f"{label}: signed (sign-off {latest.pk}) but marked open"
        return
    if review.status == Review.Status.CORRECTING:
        if review.pk not in corrections:
            yield f"{label}: marked as being corrected, but the audit trail has no correction since sign-off {latest.pk}"
        return
    frozen = {f["finding_id"]: f["disposition"] for f in latest.snapshot.get("findings", []) if f.get("disposition")}
    live = {d.finding_id: d for d in Disposition.objects.filter(review=review)}
    for finding_id in sorted(frozen.keys() | live.keys()):
        d = live.get(finding_id)
        if d is None:
            yield f"{label}: the decision on finding {finding_id} signed in sign-off {latest.pk} is gone"
            continue
        signed = frozen.get(finding_id)
        if signed is None:
            yield f"{label}: decision {d.pk} on finding {finding_id} is not in sign-off {latest.pk}"
            continue
        now = disposition_values(d)
        changed = sorted(k for k in signed if k in now and now[k] != signed[k])
        if changed:
            yield f"{label}: decision {d.pk} on finding {finding_id} differs from sign-off {latest.pk} in {', '.join(changed)}"


def evidence_verify() -> Verified:
    """Recompute both chains and every snapshot hash, and hold every signed review to its latest sign-off."""
    problems: list[str] = []
    broken = first_break(trail_links())
    if broken:
        problems.append(broken)
    signoffs = list(SignOff.objects.order_by("pk"))
    broken = first_break(signoff_links(iter(signoffs)))
    if broken:
        problems.append(broken)
    problems.extend(_signoff_problems(signoffs))
    latest: dict[int, SignOff] = {}
    for s in signoffs:
        latest[s.review_id] = s
    corrections = set()
    for record in ChangeRecord.objects.filter(action="review.correction_started").only("target", "at"):
        review_id = int(record.target.removeprefix("review "))
        if review_id in latest and record.at >= latest[review_id].signed_at:
            corrections.add(review_id)
    reviews = list(Review.objects.order_by("pk"))
    for review in reviews:
        problems.extend(_review_problems(review, latest.get(review.pk), corrections))
    return Verified(
        trail_records=ChangeRecord.objects.count(),
        signoffs=len(signoffs),
        signed_reviews=sum(1 for r in reviews if r.status == Review.Status.SIGNED),
        problems=problems,
    )
