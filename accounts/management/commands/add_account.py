from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.naming import NamingRuleError, Preset
from accounts.services import account_create


class Command(BaseCommand):
    help = "Register an AWS account to audit (a role to assume, never a long-lived secret)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", help="12-digit AWS account id")
        parser.add_argument("--name", required=True)
        parser.add_argument("--environment", default="", help="e.g. prod, staging, sandbox")
        parser.add_argument("--role-arn", default="", help="IAM role IAMWatch assumes in the account")
        parser.add_argument("--external-id", default="", help="ExternalId the role's trust policy requires")
        parser.add_argument("--root-email", default="")
        parser.add_argument(
            "--naming-standard", default=None, choices=[p.value for p in Preset if p is not Preset.CUSTOM], metavar="PRESET"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            account = account_create(
                account_id=options["account_id"],
                name=options["name"],
                environment=options["environment"],
                role_arn=options["role_arn"],
                external_id=options["external_id"],
                root_email=options["root_email"],
                naming_preset=options["naming_standard"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except NamingRuleError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"registered {account}")
