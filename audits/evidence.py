"""The auditors' evidence pack: one ZIP per signed review, every file listed with its SHA-256.

Unzip it and run `sha256sum -c MANIFEST.sha256`; every line must say OK. The raw credential reports'
SHA-256 also stand in runs.csv and in the sign-off snapshots, which are the exact bytes the sign-off
hashed (snapshot_sha256 in signoffs.csv).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from audits.export import FINDINGS_HEADER, csv_lines
from audits.models import AuditRun, Review, SignOff
from audits.reviews import canonical_json

DISPOSITIONS_HEADER = (
    "finding_id", "account_id", "check_id", "principal", "disposition", "justification", "owner", "expires_on",
    "ticket", "due_on", "decided_by",
)  # fmt: skip
SIGNOFFS_HEADER = ("signoff_id", "review_id", "signed_by", "prepared_by", "signed_at", "comment", "corrects", "snapshot_sha256")
RUNS_HEADER = ("run_id", "account_id", "source", "report_generated_at", "report_sha256", "report_file")
README = """IAMWatch evidence pack: review {review_id}, {title}

Verify every file (Linux, macOS with coreutils):
    sha256sum -c MANIFEST.sha256
Every line must end in OK. The credential reports under reports/ are the raw bytes AWS returned;
their SHA-256 also stand in runs.csv and in the sign-off snapshots (snapshot-*.json), whose own
SHA-256 is snapshot_sha256 in signoffs.csv. The latest sign-off is the one in effect; a correction
points at the sign-off it corrects.
"""


class EvidenceUnavailable(LookupError):
    pass


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(csv_lines(header, rows))


def evidence_files(review: Review) -> list[tuple[str, bytes]]:
    """The pack's files (path, bytes), manifest last; from the review's frozen sign-offs, not today's data."""
    signoffs = list(SignOff.objects.filter(review=review).order_by("signed_at", "pk"))
    if not signoffs:
        raise EvidenceUnavailable("this review is not signed off yet: there is no evidence to pack")
    latest = signoffs[-1].snapshot
    files: list[tuple[str, bytes]] = [
        ("README.txt", README.format(review_id=review.pk, title=review.title).encode()),
        ("findings.csv", _csv(FINDINGS_HEADER, (tuple(f[k] for k in FINDINGS_HEADER) for f in latest["findings"]))),
        (
            "dispositions.csv",
            _csv(
                DISPOSITIONS_HEADER,
                (
                    (*(f[k] for k in DISPOSITIONS_HEADER[:4]), *(d[k] for k in DISPOSITIONS_HEADER[4:]))
                    for f in latest["findings"]
                    if (d := f["disposition"]) is not None
                ),
            ),
        ),
        (
            "signoffs.csv",
            _csv(
                SIGNOFFS_HEADER,
                (
                    (s.pk, review.pk, s.signed_by, s.prepared_by, s.signed_at, s.comment, s.corrects_id, s.snapshot_sha256)
                    for s in signoffs
                ),
            ),
        ),
    ]
    files += [(f"snapshot-{s.pk}.json", canonical_json(s.snapshot)) for s in signoffs]
    runs = {r.pk: r for r in AuditRun.objects.filter(pk__in=[r["run_id"] for r in latest["runs"]]).select_related("report")}
    run_rows = []
    for entry in latest["runs"]:
        run = runs[entry["run_id"]]
        name = f"reports/{entry['account_id']}-run{run.pk}.csv"
        if run.report is not None:
            raw = gzip.decompress(bytes(run.report.compressed))
            if hashlib.sha256(raw).hexdigest() != entry["report_sha256"]:
                raise EvidenceUnavailable(f"the stored report of run {run.pk} no longer matches its SHA-256")
            files.append((name, raw))
        run_rows.append(
            (run.pk, entry["account_id"], entry["source"], entry["report_generated_at"], entry["report_sha256"], name)
        )
    files.append(("runs.csv", _csv(RUNS_HEADER, run_rows)))
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in files)
    files.append(("MANIFEST.sha256", manifest.encode()))
    return files


def evidence_zip(review: Review) -> bytes:
    """The pack as ZIP bytes; the same review gives the same bytes (entries dated at the latest sign-off)."""
    files = evidence_files(review)
    stamp: datetime = SignOff.objects.filter(review=review).order_by("-signed_at", "-pk").values_list("signed_at", flat=True)[0]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for path, data in files:
            info = zipfile.ZipInfo(f"iamwatch-review-{review.pk}/{path}", date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            pack.writestr(info, data)
    return out.getvalue()
