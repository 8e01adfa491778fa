from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.models import AwsAccount
from accounts.services import account_create
from audits.models import RunSource
from audits.services import report_import
from demo.simulator import daily_times, demo_directory, simulate_account, workforce
from people.directory import directory_import
from people.models import Person
from reviews.models import Review
from reviews.selectors import undecided
from reviews.services import Decision, disposition_set, review_open, review_sign
from staff.roles import ADMIN, REVIEWER

DEMO_ACCOUNTS = (
    # account id, name, environment, people, shared logins, root uses
    ("210987654321", "payments-prod", "prod", 40, 2, 1),
    ("310987654321", "web-prod", "prod", 30, 3, 4),
    ("410987654321", "data-staging", "staging", 20, 4, 2),
    ("510987654321", "sandbox", "sandbox", 12, 6, 6),
)


class Command(BaseCommand):
    help = "Load a demo organisation (accounts with months of daily reports) and print a demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=120, help="daily reports per account (default 120)")
        parser.add_argument("--username", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        end = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
        times = daily_times(end=end, days=days)
        staff = workforce(size=80, seed=42)
        sims = [
            # Accounts share part of the workforce, so that "who has access where" spans accounts.
            simulate_account(
                account_id=account_id,
                users=people,
                start=times[0],
                end=end,
                seed=seed,
                shared=shared,
                root_uses=root_uses,
                names=staff[seed * 12 : seed * 12 + people // 2],
            )
            for seed, (account_id, _, _, people, shared, root_uses) in enumerate(DEMO_ACCOUNTS)
        ]
        if not Person.objects.exists():
            result = directory_import(content=demo_directory(sims, at=end, seed=7), actor="manage.py load_demo")
            self.stdout.write(f"people directory: {result.summary()}")
        for sim, (account_id, name, environment, *_) in zip(sims, DEMO_ACCOUNTS, strict=True):
            if AwsAccount.objects.filter(account_id=account_id).exists():
                self.stdout.write(f"{name} ({account_id}) is already loaded")
                continue
            account = account_create(
                account_id=account_id,
                name=name,
                environment=environment,
                naming_preset="initial_lastname",
                actor="manage.py load_demo",
            )
            for at in times:
                report_import(
                    account=account,
                    content=sim.report(at),
                    generated_at=at,
                    received_at=at,
                    source=RunSource.DEMO,
                    requested_by="demo",
                )
            self.stdout.write(f"{name} ({account_id}): {days} daily reports loaded")
        self._demo_review()
        self._demo_login(options["username"])

    def _demo_review(self) -> None:
        """Last month's review, decided and signed, so that the reviews, the trail and the evidence pack show."""
        if Review.objects.exists():
            return
        now = timezone.now()
        start = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
        end = now.date().replace(day=1) - timedelta(days=1)
        preparer, lead = self._demo_reviewer("demo-preparer"), self._demo_reviewer("demo-lead")
        review = review_open(
            period_start=start,
            period_end=end,
            accounts=list(AwsAccount.objects.filter(account_id__in=[a[0] for a in DEMO_ACCOUNTS])),
            actor=preparer,
        )
        for n, finding in enumerate(undecided(review), start=1):
            if finding.severity == "low":
                decision = Decision(
                    kind="accepted_risk",
                    justification="low risk, accepted until the next quarter",
                    owner="Security lead",
                    expires_on=now.date() + timedelta(days=60),
                )
            else:
                decision = Decision(kind="remediation_planned", ticket=f"SEC-{1000 + n}", due_on=now.date() + timedelta(days=30))
            disposition_set(review=review, finding=finding, decision=decision, actor=preparer, today=now.date())
        signoff = review_sign(
            review=review, actor=lead, comment="Demo review: remediation tickets filed, low risks accepted.", now=now
        )
        self.stdout.write(f"review of {start:%B %Y} signed off (snapshot SHA-256 {signoff.snapshot_sha256[:16]}...)")

    @staticmethod
    def _demo_reviewer(username: str) -> Any:
        """A reviewer of the demo's signed review (no password: nobody logs in as them). Two of them, since four-eyes
        lets only a reviewer who did not prepare a review sign it."""
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=REVIEWER))
        return user

    def _demo_login(self, username: str) -> None:
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=ADMIN))
        self.stdout.write(self.style.SUCCESS(f"Demo login: user {username!r}, password {password!r} (new on every load)"))
