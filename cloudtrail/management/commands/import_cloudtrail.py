"""manage.py import_cloudtrail FILE... --account ACCOUNT_ID: CloudTrail files add the account's root events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import AwsAccount
from cloudtrail.records import MAX_FILE_BYTES, TrailFileError
from cloudtrail.services import cloudtrail_import


class Command(BaseCommand):
    help = (
        "Import CloudTrail log files (.json or .json.gz, as delivered to S3, the console's event-history JSON or "
        "`aws cloudtrail lookup-events` output): the account's root events, each once by eventID, and their findings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--account", required=True, metavar="ACCOUNT_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        account = AwsAccount.objects.filter(account_id=options["account"]).first()
        if account is None:
            raise CommandError(f"no account {options['account']}: register it with add_account first")
        files = []
        for name in options["files"]:
            try:
                if Path(name).stat().st_size > MAX_FILE_BYTES:  # compressed or not, more than a file may hold
                    raise CommandError(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB: split it; nothing stored")
                files.append((name, Path(name).read_bytes()))
            except OSError as exc:
                raise CommandError(f"{name}: cannot read ({exc.strerror})") from None
        try:
            result = cloudtrail_import(account=account, files=files, actor="manage.py import_cloudtrail")
        except TrailFileError as exc:
            raise CommandError(f"{exc}; nothing stored") from None
        self.stdout.write(result.summary())
