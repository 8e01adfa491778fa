from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import AccountNotFound, account_get
from audits.report import ReportError
from audits.services import report_import


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--generated-at {value!r} is not an ISO 8601 time such as 2026-11-01T00:00:00+00:00") from None
    if parsed.tzinfo is None:
        raise CommandError(f"--generated-at {value!r} has no time zone; add +00:00 or Z")
    return parsed


class Command(BaseCommand):
    help = "Import a credential report downloaded from the console as an audit run, exactly as if fetched."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--account", required=True, metavar="ACCOUNT_ID")
        parser.add_argument("--generated-at", default=None, metavar="ISO8601", help="the report's generated time (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        generated_at = parse_time(options["generated_at"]) if options["generated_at"] else None
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            account = account_get(account_id=options["account"])
            run = report_import(account=account, content=content, generated_at=generated_at, requested_by="manage.py import")
        except (AccountNotFound, ReportError) as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        self.stdout.write(
            f"run {run.pk}: {run.principal_count} principals, {run.open_finding_count} open findings "
            f"({run.new_finding_count} new, {run.resolved_finding_count} resolved) as of {run.generated_at:%Y-%m-%dT%H:%M:%SZ}"
        )
        for warning in run.warnings:
            self.stderr.write(f"warning: {warning}")
