from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import AwsAccount
from accounts.selectors import AccountNotFound, account_get
from audits.export import findings_csv
from audits.selectors import STATUS_FILTERS, FindingFilters, finding_search


class Command(BaseCommand):
    help = "Write the findings CSV (the same bytes as the web export) to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", default=None, metavar="ACCOUNT_ID")
        parser.add_argument("--status", default="open", choices=STATUS_FILTERS)
        parser.add_argument("--output", type=Path, default=None, metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            account = account_get(account_id=options["account"]) if options["account"] else None
        except AccountNotFound as exc:
            raise CommandError(str(exc)) from None
        # The same selector and order as the web export, so that the bytes are the same.
        lines = findings_csv(
            finding_search(
                FindingFilters(account=account.account_id if account else "", status=options["status"]),
                within=AwsAccount.objects.all(),  # the operator: every account
            )
        )
        output: Path | None = options["output"]
        if output is None:
            for line in lines:
                self.stdout.write(line.decode(), ending="")
            return
        try:
            with output.open("wb") as handle:
                handle.writelines(lines)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
