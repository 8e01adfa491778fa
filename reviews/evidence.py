"""The auditors' evidence pack: one ZIP per signed review, every file listed with its SHA-256.

Unzip it and run `sha256sum -c MANIFEST.sha256`; every line must say OK. The raw credential reports'
SHA-256 also stand in runs.csv and in the sign-off snapshots, which are the exact bytes the sign-off
hashed (snapshot_sha256 in signoffs.csv).
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from django.template.loader import render_to_string

from audits.export import FINDINGS_HEADER
from audits.models import AuditRun
from cloudtrail.export import ROOT_EVENTS_HEADER
from reviews.models import Review, SignOff
from reviews.services import canonical_json
from staff.export import csv_lines

DISPOSITIONS_HEADER = (
    "finding_id", "account_id", "check_id", "principal", "disposition", "justification", "owner", "expires_on",
    "ticket", "due_on", "decided_by", "decided_at",
)  # fmt: skip
SIGNOFFS_HEADER = ("signoff_id", "review_id", "signed_by", "prepared_by", "signed_at", "comment", "corrects", "snapshot_sha256")
RUNS_HEADER = ("run_id", "account_id", "source", "report_generated_at", "report_sha256", "report_file")
README = """IAMWatch evidence pack: review {review_id}, {title}

Verify every file (Linux, macOS with coreutils):
    sha256sum -c MANIFEST.sha256
Every line must end in OK. review.html is the review as a page to read or print. root_events.csv lists
root's CloudTrail events of the review's period, each with the findings (finding_ids, as in
dispositions.csv) whose decisions cover it. The credential reports under reports/ are the raw bytes AWS returned, byte
for byte: they are evidence, so their cells are NOT neutralised for spreadsheets (a user name may start
with = or @); open them in a text editor, or import them as text. The other CSV files here are
neutralised (a cell that could run as a formula starts with '). Their SHA-256 also stand in runs.csv and in the sign-off snapshots (snapshot-*.json), whose own
SHA-256 is snapshot_sha256 in signoffs.csv. The latest sign-off is the one in effect; a correction
points at the sign-off it corrects.
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
    yield entry(
        "root_events.csv",
        _csv(
            (*ROOT_EVENTS_HEADER, "finding_ids"),
            ((*(e[k] for k in ROOT_EVENTS_HEADER), " ".join(map(str, e["finding_ids"]))) for e in latest.get("root_events", [])),
        ),
    )
    yield "MANIFEST.sha256", "".join(manifest).encode()


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
