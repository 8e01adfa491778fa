"""The auditors' evidence pack: one ZIP per signed review, every file listed with its SHA-256.

Unzip it and run `sha256sum -c MANIFEST.sha256`; every line must say OK. The raw credential reports'
SHA-256 also stand in runs.csv and in the sign-off snapshots, which are the exact bytes the sign-off
hashed (snapshot_sha256 in signoffs.csv).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from django.template.loader import render_to_string

from accounts.models import AwsAccount
from audits.export import FINDINGS_HEADER
from audits.models import AuditRun
from cloudtrail.export import ROOT_EVENTS_HEADER, yes_no
from reviews.models import Review, SignOff
from reviews.verify import signoff_links
from staff.chain import Link, canonical_json, link_line
from staff.export import csv_lines
from staff.models import ChangeRecord
from staff.trail import trail_links

DISPOSITIONS_HEADER = (
    "finding_id", "account_id", "check_id", "principal", "disposition", "justification", "owner", "expires_on",
    "ticket", "due_on", "decided_by", "decided_at", "carried_from_review",
)  # fmt: skip
PERIOD_HEADER = ("account_id", "period_start", "period_end")
# The period's evidence (snapshot format 5), one CSV each, its columns those the snapshot keeps.
PERIOD_FILES = (
    ("root_usage", "root_usage.csv"), ("access_changes", "access_changes.csv"), ("period_runs", "period_runs.csv"),
    ("alerts", "alerts.csv"), ("evidence_conflicts", "evidence_conflicts.csv"),
)  # fmt: skip
SIGNOFFS_HEADER = ("signoff_id", "review_id", "signed_by", "prepared_by", "signed_at", "comment", "corrects", "snapshot_sha256")
RUNS_HEADER = ("run_id", "account_id", "source", "report_generated_at", "report_sha256", "report_file")
README = """IAMWatch evidence pack: review {review_id}, {title}

Verify every file (Linux, macOS with coreutils):
    sha256sum -c MANIFEST.sha256
Every line must end in OK; VERIFY.md says how to check the rest (the snapshots, the hash chains of the sign-offs and
of the audit trail, the period). review.html is the review as a page to read or print, drawn from the latest
sign-off's snapshot, as is every file here. The period runs, for each account, from the previous review's sign-off to
this one (period.csv); root_events.csv lists root's CloudTrail events of the period with their source, each with the
findings (finding_ids, as in dispositions.csv) whose decisions cover it. The credential reports under reports/ are
the raw bytes AWS returned, byte for byte: they are evidence, so their cells are NOT neutralised for spreadsheets (a
user name may start with = or @); open them in a text editor, or import them as text. The other CSV files here are
neutralised (a cell that could run as a formula starts with '). Their SHA-256 also stand in runs.csv and in the
sign-off snapshots (snapshot-*.json), whose own SHA-256 is snapshot_sha256 in signoffs.csv. The latest sign-off is the
one in effect; a correction points at the sign-off it corrects.
"""


NOT_SIGNED = "this review is not signed off yet: there is no evidence to pack"


class EvidenceUnavailable(LookupError):
    pass


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(csv_lines(header, rows))


def evidence_files(review: Review) -> Iterator[tuple[str, bytes]]:
    """The pack's files (path, bytes), manifest last, one at a time; from the frozen sign-offs, not today's data."""
    signoffs = list(SignOff.objects.filter(review=review).order_by("signed_at", "pk"))
    if not signoffs:
        raise EvidenceUnavailable(NOT_SIGNED)
    latest = signoffs[-1].snapshot
    manifest: list[str] = []

    def entry(path: str, data: bytes) -> tuple[str, bytes]:
        manifest.append(f"{hashlib.sha256(data).hexdigest()}  {path}\n")
        return path, data

    yield entry("README.txt", README.format(review_id=review.pk, title=review.title).encode())
    # The same review as a page to print or read: from the latest snapshot, like every file here.
    page = render_to_string("reviews/evidence_review.html", {"snapshot": latest, "signoffs": signoffs})
    yield entry("review.html", page.encode())
    yield entry("findings.csv", _csv(FINDINGS_HEADER, (tuple(f[k] for k in FINDINGS_HEADER) for f in latest["findings"])))
    yield entry(
        "dispositions.csv",
        _csv(
            DISPOSITIONS_HEADER,
            (
                # Sign-offs made before decided_at was kept (format 2) leave its cell empty.
                (*(f[k] for k in DISPOSITIONS_HEADER[:4]), *(d.get(k) for k in DISPOSITIONS_HEADER[4:]))
                for f in latest["findings"]
                if (d := f["disposition"]) is not None
            ),
        ),
    )
    yield entry(
        "signoffs.csv",
        _csv(
            SIGNOFFS_HEADER,
            (
                (s.pk, review.pk, s.signed_by, s.prepared_by, s.signed_at, s.comment, s.corrects_id, s.snapshot_sha256)
                for s in signoffs
            ),
        ),
    )
    for s in signoffs:
        yield entry(f"snapshot-{s.pk}.json", canonical_json(s.snapshot))
    yield entry("signoffs.jsonl", b"".join(link_line(c.content, c.prev_sha256) + b"\n" for c in signoff_links(iter(signoffs))))
    yield entry("trail.jsonl", b"".join(trail_lines(review, trail_links(trail_segment(signoffs)))))
    period = latest.get("period")
    if period is not None:
        yield entry("period.csv", _csv(PERIOD_HEADER, ((a, start, period["end"]) for a, start in period["starts"].items())))
    for key, name in PERIOD_FILES:
        rows = latest.get(key)
        if rows is not None:
            header = tuple(rows[0]) if rows else ()
            yield entry(name, _csv(header, (tuple(r.values()) for r in rows)))
    run_rows = []
    for item in latest["runs"]:  # one raw report in memory at a time
        run = AuditRun.objects.select_related("report").get(pk=item["run_id"])
        name = f"reports/{item['account_id']}-run{run.pk}.csv"
        if run.report is not None:
            raw = gzip.decompress(bytes(run.report.compressed))
            if hashlib.sha256(raw).hexdigest() != item["report_sha256"]:
                raise EvidenceUnavailable(f"the stored report of run {run.pk} no longer matches its SHA-256")
            yield entry(name, raw)
        run_rows.append((run.pk, item["account_id"], item["source"], item["report_generated_at"], item["report_sha256"], name))
    yield entry("runs.csv", _csv(RUNS_HEADER, run_rows))
    events = latest.get("root_events", [])
    yield entry(
        "root_events.csv",
        _csv(
            (*ROOT_EVENTS_HEADER, "recorded_at", "late", "finding_ids"),
            (
                (*(e.get(k, "") for k in ROOT_EVENTS_HEADER), e.get("recorded_at", ""), yes_no(e.get("late")), " ".join(map(str, e["finding_ids"])))
                for e in events
            ),
        ),
    )
    yield entry("VERIFY.md", render_to_string("reviews/evidence_verify.md", {"review": review, "signoffs": signoffs, "snapshot": latest}).encode())
    yield "MANIFEST.sha256", "".join(manifest).encode()


def trail_lines(review: Review, links: Iterator[Link]) -> Iterator[bytes]:
    """The trail's links as the pack's lines: in full when about this review or its accounts and no other account;
    otherwise only the two hashes ("redacted"), so that the chain still links without telling a reader of this review
    what happened in accounts it does not cover."""
    ours = [f"review {review.pk}", *review.accounts.values_list("account_id", flat=True)]
    others = [
        text
        for account_id, name in AwsAccount.objects.exclude(pk__in=review.accounts.all()).values_list("account_id", "name")
        for text in (account_id, name)
        if text
    ]
    mine = re.compile("|".join(re.escape(t) for t in ours))
    theirs = re.compile("|".join(re.escape(t) for t in others)) if others else None
    for link in links:
        text = canonical_json(link.content).decode()
        if mine.search(text) and not (theirs and theirs.search(text)):
            yield link_line(link.content, link.prev_sha256) + b"\n"
        else:
            yield canonical_json({"redacted": True, "prev_sha256": link.prev_sha256, "sha256": link.sha256}) + b"\n"


def trail_segment(signoffs: list[SignOff]) -> Iterator[ChangeRecord]:
    """The audit trail from the record after the previous review's sign-off up to this review's latest sign-off: the
    changes of the period, as a piece of the chain an auditor can check link by link."""
    first, last = signoffs[0], signoffs[-1]
    before = SignOff.objects.filter(pk__lt=first.pk).exclude(review=first.review).exclude(trail_sha256="").order_by("-pk").first()
    records = ChangeRecord.objects.order_by("pk")
    if before is not None:
        start = ChangeRecord.objects.filter(sha256=before.trail_sha256).values_list("pk", flat=True).first()
        if start is not None:
            records = records.filter(pk__gt=start)
    if last.trail_sha256:
        end = ChangeRecord.objects.filter(sha256=last.trail_sha256).values_list("pk", flat=True).first()
        if end is not None:
            # the records up to the head the sign-off holds, and its own "signed" record just after it
            signed = ChangeRecord.objects.filter(pk__gt=end, action__in=("review.signed", "review.corrected")).values_list("pk", flat=True).first()
            records = records.filter(pk__lte=signed or end)
    return records.iterator(chunk_size=2000)


def evidence_pack(review: Review) -> IO[bytes]:
    """The pack as a ZIP file, rewound (in memory while small, on disk beyond 32 MB); the same review gives the same bytes."""
    stamp = SignOff.objects.filter(review=review).order_by("-signed_at", "-pk").values_list("signed_at", flat=True).first()
    if stamp is None:
        raise EvidenceUnavailable(NOT_SIGNED)
    files = evidence_files(review)
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - handed to the response, which closes it
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for path, data in files:
            info = zipfile.ZipInfo(f"iamwatch-review-{review.pk}/{path}", date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            pack.writestr(info, data)
    out.seek(0)
    return out


def evidence_zip(review: Review) -> bytes:
    with evidence_pack(review) as pack:
        return pack.read()
