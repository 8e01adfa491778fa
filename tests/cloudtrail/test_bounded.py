"""CloudTrail input of any shape is refused in one line or stored within bounds (issue 28, points 1, 5 and 6): gzip
bombs, nesting, wrong types, impossible times, NUL, identifiers too long for the database, text too long to show."""

from __future__ import annotations

import gzip
import html
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils.html import strip_tags

from accounts.models import AwsAccount
from audits.models import AuditRun, Finding
from cloudtrail.models import RootEvent
from cloudtrail.records import MAX_FILE_BYTES, MAX_TEXT, TrailFileError, records_in, root_record
from cloudtrail.services import cloudtrail_import
from demo.trail import ACCOUNT, api_call, log_file, lookup_events, sign_in
from tests.conftest import ROOT, client_for, member_of

T = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def bomb(decompressed_mib: int) -> bytes:
    """A gzip file of zeros: a few hundred KB that would be `decompressed_mib` MiB."""
    return gzip.compress(b"\0" * (decompressed_mib * 2**20), compresslevel=9)


def with_fields(**fields: Any) -> dict[str, Any]:
    record = sign_in(T, event_id="e-1")
    record.update(fields)
    return record


def test_a_gzip_bomb_is_refused_in_one_line_once_the_cap_is_reached() -> None:
    small = bomb(300)  # about 300 KB on the wire
    assert len(small) < 400_000
    with pytest.raises(TrailFileError, match=r"^bomb.json.gz: larger than 32 MiB once decompressed: split it$"):
        records_in("bomb.json.gz", small)
    # Exactly the cap is read; one byte more is refused.
    at_cap = gzip.compress(b'{"Records": []}' + b" " * (MAX_FILE_BYTES - 15))
    assert records_in("full.json.gz", at_cap) == []
    with pytest.raises(TrailFileError, match="once decompressed"):
        records_in("over.json.gz", gzip.compress(b'{"Records": []}' + b" " * (MAX_FILE_BYTES - 14)))


def test_a_multi_member_gzip_is_read_whole_and_a_truncated_one_refused() -> None:
    first, second = log_file(sign_in(T, event_id="e-1"), gz=True), log_file(sign_in(T, event_id="e-2"), gz=True)
    with pytest.raises(TrailFileError, match="not JSON"):  # two documents back to back are not one JSON document
        records_in("two.json.gz", first + second)
    with pytest.raises(TrailFileError, match=r"^cut.json.gz: not a readable gzip file \(it ends before its end\)$"):
        records_in("cut.json.gz", first[: len(first) // 2])
    with pytest.raises(TrailFileError, match="not a readable gzip file"):
        records_in("bad.json.gz", b"\x1f\x8b" + b"\xff" * 64)
    assert [r["eventID"] for r in records_in("padded.json.gz", first + b"\0" * 512)] == ["e-1"]


MEMORY_PROBE = """
import re, sys, zlib
sys.path.insert(0, {root!r})
from cloudtrail.records import TrailFileError, records_in
packer, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(2**20)
member = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()  # 256 MiB of zeros, gzipped
content = member * (100 * 2**20 // len(member) + 1)  # 100 MiB compressed, 100 GiB once decompressed
del member
try:
    records_in("bomb.json.gz", content)
except TrailFileError as exc:
    # VmHWM: this process's peak RSS (getrusage's ru_maxrss would carry the forking test process's own over exec)
    print(len(content), re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1), exc)
"""


def test_parsing_a_100_mib_compressed_bomb_stays_under_200_mb() -> None:
    """Peak RSS of a process that holds the 100 MiB upload and parses it (Python included), against 200 MB."""
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE.format(root=str(ROOT))], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    size, peak_kib, said = done.stdout.split(" ", 2)
    assert int(size) >= 100 * 2**20
    assert int(peak_kib) * 1024 < 200 * 10**6, f"peak RSS {int(peak_kib) // 1024} MiB"
    assert said.strip() == "bomb.json.gz: larger than 32 MiB once decompressed: split it"


def deep(levels: int) -> dict[str, Any]:
    return with_fields(requestParameters=json.loads("[" * levels + "]" * levels))


MALFORMED: list[tuple[str, bytes, str]] = [
    ("nested.json", b'{"Records": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested.json: nested more than 32 levels deep"),
    ("deep.json", log_file(deep(40)), "deep.json: record 1 is nested more than 32 levels deep"),
    ("attributes.json", log_file(api_call(T, event_id="e-9") | {"userIdentity": {"type": "Root", "accountId": ACCOUNT, "sessionContext": {"attributes": ["mfaAuthenticated"]}}}), ""),
    ("year1.json", log_file(with_fields(eventTime="0001-01-01T00:00:00+14:00")), "year1.json: record 1 has an eventTime outside 2006-2100: '0001-01-01T00:00:00+14:00'"),
    ("year9999.json", log_file(with_fields(eventTime="9999-12-31T23:59:59-14:00")), "year9999.json: record 1 has an eventTime outside 2006-2100: '9999-12-31T23:59:59-14:00'"),
    ("id.json", log_file(with_fields(eventID="e" * 65)), "id.json: record 1 has a eventID longer than 64 characters: not a CloudTrail event"),
    ("name.json", log_file(with_fields(eventName="C" * 129)), "name.json: record 1 has a eventName longer than 128 characters: not a CloudTrail event"),
    ("ip.json", log_file(with_fields(sourceIPAddress="1" * 129)), "ip.json: record 1 has a sourceIPAddress longer than 128 characters: not a CloudTrail event"),
    ("notutf8.json", b'{"Records": ["\xff"]}', "notutf8.json: not JSON"),
    ("lookup.json", b'{"Events": [{"CloudTrailEvent": "' + b"[" * 50_000 + b'"}]}', "lookup.json: event 1's CloudTrailEvent is nested more than 32 levels deep"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "error"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_records_are_refused_in_one_line_by_the_command_and_nothing_is_stored(
    sandbox: AwsAccount, tmp_path: Path, name: str, content: bytes, error: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    if not error:  # a shape that reads as "not said" rather than crashing: stored, MFA unknown
        call_command("import_cloudtrail", str(path), "--account", ACCOUNT, stdout=io.StringIO())
        assert RootEvent.objects.get().mfa_used is None
        return
    with pytest.raises(CommandError) as refused:
        call_command("import_cloudtrail", str(path), "--account", ACCOUNT, stdout=io.StringIO())
    said = str(refused.value).replace(str(tmp_path) + "/", "")
    assert said.startswith(error) and said.endswith("; nothing stored") and "\n" not in said
    assert not RootEvent.objects.exists() and not AuditRun.objects.exists()


def test_nul_and_unpaired_surrogates_are_stripped_so_any_database_stores_the_record(sandbox: AwsAccount) -> None:
    record = with_fields(userAgent="Mozilla\u0000/5.0 \ud800", requestParameters={"k\u0000": ["v\u0000"]})
    cloudtrail_import(account=sandbox, files=[("nul.json", json.dumps({"Records": [record]}).encode())], actor="t")
    event = RootEvent.objects.get()
    assert event.user_agent == "Mozilla/5.0 ?"
    assert event.raw["requestParameters"] == {"k": ["v"]}


def test_a_huge_user_agent_is_kept_short_with_a_visible_marker_everywhere(sandbox: AwsAccount) -> None:
    agent = "Mozilla/5.0 " + "A" * (20 * 2**20)  # 40 MiB would pass the 32 MiB a file may hold
    reviewer = client_for(member_of("reviewer", "rita"))
    upload = SimpleUploadedFile("big.json.gz", log_file(with_fields(userAgent=agent), gz=True))
    response = reviewer.post(f"/accounts/{ACCOUNT}/cloudtrail", {"trail_files": [upload]}, follow=True)
    assert "1 root event (1 new) from 1 file" in strip_tags(response.content.decode())
    event = RootEvent.objects.get()
    marker = f"…[{len(agent) - MAX_TEXT:,}".replace(",", "")
    assert len(event.user_agent) < MAX_TEXT + 64 and event.user_agent.startswith("Mozilla/5.0 AAA") and marker in event.user_agent
    assert len(json.dumps(event.raw)) < 3 * MAX_TEXT + 4096
    for finding in Finding.objects.filter(account=sandbox):
        assert len(finding.detail) < 2 * MAX_TEXT
        assert len(reviewer.get(f"/findings/{finding.pk}/").content) < 200_000
    assert len(reviewer.get(f"/accounts/{ACCOUNT}/").content) < 500_000


def test_a_malformed_upload_on_the_page_is_one_line_and_never_a_500(sandbox: AwsAccount) -> None:
    reviewer = client_for(member_of("reviewer", "rita"))
    for name, content, error in [("bomb.json.gz", bomb(300), "bomb.json.gz: larger than 32 MiB once decompressed"), *MALFORMED]:
        response = reviewer.post(f"/accounts/{ACCOUNT}/cloudtrail", {"trail_files": [SimpleUploadedFile(name, content)]}, follow=True)
        assert response.status_code == 200, name
        if error:
            assert f"Not imported: {error}" in html.unescape(strip_tags(response.content.decode())), name
    assert RootEvent.objects.count() == 1  # the attributes-as-a-list record, read as "MFA not said"


def test_a_lookup_events_record_is_bounded_like_a_files() -> None:
    record = root_record("x", 1, records_in("l.json", lookup_events(with_fields(userAgent="u" * (MAX_TEXT + 10))))[0])
    assert record.user_agent.endswith("…[10 more characters cut]")


def test_the_command_refuses_a_file_larger_than_a_file_may_hold_without_reading_it(sandbox: AwsAccount, tmp_path: Path) -> None:
    path = tmp_path / "huge.json.gz"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used, never read
    with pytest.raises(CommandError, match=r"huge.json.gz: larger than 32 MiB: split it; nothing stored$"):
        call_command("import_cloudtrail", str(path), "--account", ACCOUNT, stdout=io.StringIO())
