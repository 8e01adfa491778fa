from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import AwsAccount


class Command(BaseCommand):
    help = "Fetch the credential report of the given accounts (default: every active account) now, synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_ids", nargs="*", metavar="ACCOUNT_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] = options["account_ids"]
        accounts = AwsAccount.objects.filter(account_id__in=wanted) if wanted else AwsAccount.objects.filter(is_active=True)
        unknown = sorted(set(wanted) - set(accounts.values_list("account_id", flat=True)))
        if unknown:
            raise CommandError(f"no AWS account {', '.join(unknown)} is registered")
        raise CommandError(
            "fetching from AWS is not available in this version yet; import a downloaded report with import_credential_report"
        )
