from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.aws import AwsAccessError, OrganizationReadError, account_session, organization_members
from accounts.models import AwsAccount
from accounts.selectors import AccountNotFound, account_get
from accounts.services import organization_sync


class Command(BaseCommand):
    help = "Discover member accounts through AWS Organizations (management or delegated-administrator account) and register or update them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--via",
            metavar="ACCOUNT_ID",
            default=None,
            help="a registered management account whose role to use (default: the default credential chain)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            via = (
                account_get(account_id=options["via"])
                if options["via"]
                else AwsAccount(account_id="000000000000", name="default chain")
            )
            client = account_session(via).client("organizations")
            members = organization_members(client)
        except (AccountNotFound, AwsAccessError) as exc:
            raise CommandError(str(exc)) from None
        except OrganizationReadError as exc:
            raise CommandError(str(exc)) from None
        try:
            result = organization_sync(members=members)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"{len(members)} member accounts: {len(result.created)} registered, {len(result.updated)} updated, "
            f"{len(result.deactivated)} made inactive, {result.unchanged} unchanged"
        )
