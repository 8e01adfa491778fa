from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import AwsAccount
from accounts.selectors import account_scope
from accounts.services import account_scope_clear, account_scope_set


class Command(BaseCommand):
    help = (
        "Restrict a user to some AWS accounts (every page then shows only those), lift the restriction "
        "(--clear), or show it (no option). Every change is in the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--account", action="append", default=[], metavar="ACCOUNT_ID", help="repeat for each account")
        parser.add_argument("--reason", default="", help="why this user sees only these accounts (required with --account)")
        parser.add_argument("--clear", action="store_true", help="lift the restriction: the user sees every account")

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        try:
            user = model._default_manager.get_by_natural_key(options["username"])
        except model.DoesNotExist:
            raise CommandError(f"no user {options['username']!r}") from None
        if options["clear"] and options["account"]:
            raise CommandError("give either --account or --clear, not both")
        actor = "manage.py scope_user"
        if options["clear"]:
            cleared = account_scope_clear(user=user, actor=actor)
            self.stdout.write(f"{user}: sees every account" + ("" if cleared else " (had no scope)"))
            return
        if options["account"]:
            wanted = set(options["account"])
            accounts = list(AwsAccount.objects.filter(account_id__in=wanted))
            unknown = sorted(wanted - {a.account_id for a in accounts})
            if unknown:
                raise CommandError(f"no registered AWS account {', '.join(unknown)}")
            try:
                account_scope_set(user=user, accounts=accounts, reason=options["reason"], actor=actor)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        scope = account_scope(user)
        if scope is None:
            self.stdout.write(f"{user}: no scope, sees every account")
        else:
            ids = ", ".join(sorted(scope.accounts.values_list("account_id", flat=True))) or "no account"
            self.stdout.write(f"{user}: only {ids} ({scope.reason})")
