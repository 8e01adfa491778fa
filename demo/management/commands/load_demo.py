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
from audits.models import AuditRun, RunSource, RunStatus
from audits.services import report_import
from cloudtrail.push import Message, store_pushed
from cloudtrail.records import pushed_record
from cloudtrail.services import cloudtrail_import
from demo.access import DemoPerson, demo_identity_center
from demo.simulator import daily_times, demo_directory, simulate_account, workforce
from demo.trail import api_call, log_file, pushed, sign_in
from identitycenter.services import identity_center_ingest
from people.directory import directory_import
from people.models import Person
from reviews.models import Review
from reviews.selectors import undecided
from reviews.services import Decision, acceptances_expire, disposition_set, review_open, review_sign
from staff.roles import ADMIN, REVIEWER, VIEWER

DEMO_ACCOUNTS = (
    # account id, name, environment, people, shared logins, root uses
    ("210987654321", "payments-prod", "prod", 40, 2, 1),
    ("310987654321", "web-prod", "prod", 30, 3, 4),
    ("410987654321", "data-staging", "staging", 20, 4, 2),
    ("510987654321", "sandbox", "sandbox", 12, 6, 6),
)


class Command(BaseCommand):
    help = "Load a demo organisation (accounts with months of daily reports) and print a demo login for each role."

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
        # The story of a meeting: last month's review was signed a month ago (at `cutoff`); since then findings
        # came and went, root signed in, one account's last run failed, and the new review carries decisions over.
        cutoff = max(times[0], end - timedelta(days=30))
        sims[1].root_uses.append(end - timedelta(days=2, hours=5))  # a fresh root sign-in in web-prod
        if not Person.objects.exists():
            result = directory_import(content=demo_directory(sims, at=end, seed=7), actor="manage.py load_demo")
            self.stdout.write(f"people directory: {result.summary()}")
        fresh = []
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
            # The demo's security list: `make run` delivers its alerts to nowhere (EMAIL_URL=dummymail://).
            AwsAccount.objects.filter(pk=account.pk).update(alert_email="security@example.com")
            fresh.append((account, sim))
        # Root's CloudTrail events are stored as they would have been: those before the sign-off before it (read then),
        # the others now; and one file from the S3 archive, imported now, holds a sign-in of the day before the
        # sign-off: late evidence, shown beside the signed review and first on the open one.
        stored_before = cutoff - timedelta(minutes=1)
        for account, sim in fresh:
            self._load(account, sim, [t for t in times if t <= cutoff])
            self._root_activity(account, [(t, r) for t, r in self._root_records(account, sim, end) if t < stored_before], stored_before)
        if fresh:
            self._signed_review(at=cutoff)
        for account, sim in fresh:
            self._load(account, sim, [t for t in times if t > cutoff])
            self.stdout.write(f"{account.name} ({account.account_id}): {days} daily reports loaded")
        for account, sim in fresh:
            self._root_activity(account, [(t, r) for t, r in self._root_records(account, sim, end) if t >= stored_before], None)
        if fresh:
            sandbox = AwsAccount.objects.get(account_id=DEMO_ACCOUNTS[3][0])
            late = sign_in(cutoff - timedelta(days=1, hours=2), ip="203.0.113.10", account=sandbox.account_id, event_id="demo-late-archive")
            cloudtrail_import(account=sandbox, files=[("s3-archive-root.json", log_file(late))], actor="demo-preparer")
            self._identity_center(first=cutoff + timedelta(days=1), second=end - timedelta(hours=1))
            acceptances_expire(now=timezone.now())
            self._failed_run(AwsAccount.objects.get(account_id=DEMO_ACCOUNTS[2][0]))
            self._push_path(AwsAccount.objects.get(account_id=DEMO_ACCOUNTS[0][0]), end)
            self._open_review()
        self._demo_logins(options["username"])

    @staticmethod
    def _push_path(account: AwsAccount, end: Any) -> None:
        """The account's root activity is pushed (README, Root use within minutes): its rule found enabled a month ago,
        and a root sign-in with MFA an hour before `end` came that way, 70 seconds after it happened."""
        since = end - timedelta(days=30)
        account.push_rule, account.push_rule_checked_at, account.push_rule_enabled_since = "ENABLED", since, since
        account.save(update_fields=["push_rule", "push_rule_checked_at", "push_rule_enabled_since"])
        at = end - timedelta(hours=1)
        body = pushed(sign_in(at, mfa="Yes", ip="203.0.113.10", account=account.account_id, event_id=f"demo-pushed-{account.account_id}"))
        store_pushed([(Message("demo-message-1", "", body), pushed_record("demo message", body))], received_at=at + timedelta(seconds=70))

    @staticmethod
    def _root_activity(account: AwsAccount, records: list[tuple[Any, dict[str, Any]]], received_at: Any) -> None:
        """Some of root's events, imported as one trail log file received at `received_at` (None: now)."""
        if records:
            files = [("demo-trail.json", log_file(*(r for _, r in records)))]
            cloudtrail_import(account=account, files=files, actor="demo", received_at=received_at)

    @staticmethod
    def _root_records(account: AwsAccount, sim: Any, end: Any) -> list[tuple[Any, dict[str, Any]]]:
        """Root's CloudTrail events of the last 90 days, each with its time: each root sign-in the reports saw (from
        the office, with MFA, except web-prod's fresh one: from elsewhere, without MFA), the calls made in those
        sessions, and in the sandbox a night of failed sign-ins."""
        office = "203.0.113.10"  # in the demo's IAMWATCH_KNOWN_NETWORKS (make run)
        records = []
        for n, used in enumerate(t for t in sim.root_uses if end - timedelta(days=90) <= t <= end):
            fresh = account.account_id == DEMO_ACCOUNTS[1][0] and used == max(sim.root_uses)
            ip = "198.51.100.23" if fresh else office
            records.append((used, sign_in(used, mfa="No" if fresh else "Yes", ip=ip, account=account.account_id, event_id=f"demo-{account.account_id}-{n}")))
            call = used + timedelta(minutes=4)
            records.append((call, api_call(call, "GetAccountSummary", ip=ip, mfa=not fresh, account=account.account_id, event_id=f"demo-{account.account_id}-{n}-call")))
        if account.account_id == DEMO_ACCOUNTS[3][0]:
            night = end - timedelta(days=5, hours=3)
            records += [
                (night + timedelta(minutes=7 * n), sign_in(night + timedelta(minutes=7 * n), success=False, mfa=None, ip="192.0.2.77", account=account.account_id, event_id=f"demo-night-{n}"))
                for n in range(6)
            ]
        return records

    @staticmethod
    def _identity_center(*, first: Any, second: Any) -> None:
        """Two reads of the organisation's Identity Center (held by the first account), after the signed review and
        an hour ago: the access paths of each account, and what was granted and taken away in between."""
        people = [DemoPerson(p.employee_id, p.email, p.active) for p in Person.objects.exclude(email="").order_by("employee_id")]
        if not any(not p.active for p in people):
            return
        holder = AwsAccount.objects.get(account_id=DEMO_ACCOUNTS[0][0])
        accounts = [(a, environment) for a, _, environment, *_ in DEMO_ACCOUNTS]
        for at, later in ((first, False), (second, True)):
            run = AuditRun.objects.create(
                account=holder, source=RunSource.IDENTITY_CENTER, status=RunStatus.RUNNING, requested_at=at, started_at=at,
                generated_at=at, requested_by="demo",
            )  # fmt: skip
            identity_center_ingest(run=run, directory=demo_identity_center(people, accounts, later=later))

    @staticmethod
    def _load(account: AwsAccount, sim: Any, times: list[Any]) -> None:
        for at in times:
            report_import(
                account=account, content=sim.report(at), generated_at=at, received_at=at, source=RunSource.DEMO, requested_by="demo"
            )

    def _signed_review(self, *, at: Any) -> None:
        """The review of `at`'s month, decided and signed at `at`: some remediation due before today (overdue now),
        some later (carried over), low risks accepted for 25 days (run out by now)."""
        if Review.objects.exists():
            return
        start = at.date().replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        preparer, lead = self._demo_reviewer("demo-preparer"), self._demo_reviewer("demo-lead")
        review = review_open(period_start=start, period_end=end, accounts=self._demo_accounts(), actor=preparer)
        today = at.date()
        for n, finding in enumerate(undecided(review), start=1):
            if finding.severity == "low":
                decision = Decision(
                    kind="accepted_risk", justification="low risk, looked at again next month", owner="Security lead",
                    expires_on=today + timedelta(days=25),
                )  # fmt: skip
            else:
                due = today + timedelta(days=20 if n % 6 == 0 else 60)  # one in six is overdue by today
                decision = Decision(kind="remediation_planned", ticket=f"SEC-{1000 + n}", due_on=due)
            disposition_set(review=review, finding=finding, decision=decision, actor=preparer, today=today)
        signoff = review_sign(
            review=review, actor=lead, comment="Demo review: remediation tickets filed, low risks accepted.", now=at
        )
        self.stdout.write(f"review of {start:%B %Y} signed off on {at:%Y-%m-%d} (snapshot SHA-256 {signoff.snapshot_sha256[:16]}...)")

    def _open_review(self) -> None:
        """This month's review, opened and not yet decided: the earlier decisions wait there to be carried over."""
        today = timezone.now().date()
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        review = review_open(
            period_start=start, period_end=end, accounts=self._demo_accounts(), actor=self._demo_reviewer("demo-preparer")
        )
        self.stdout.write(f"review of {start:%B %Y} opened (review {review.pk}): decisions of the last one wait to be carried over")

    @staticmethod
    def _failed_run(account: AwsAccount) -> None:
        """This morning's fetch of one account failed: the overview lists it first, its page says why."""
        now = timezone.now()
        AuditRun.objects.create(
            account=account, source=RunSource.FETCH, status=RunStatus.FAILED, requested_by="schedule",
            requested_at=now - timedelta(minutes=50), started_at=now - timedelta(minutes=50),
            finished_at=now - timedelta(minutes=49), attempts=1,
            error=f"sts:AssumeRole arn:aws:iam::{account.account_id}:role/IAMWatchAudit: AccessDenied: User is not "
            "authorized to perform sts:AssumeRole (the role's trust policy does not let IAMWatch in: check its "
            "principal and its sts:ExternalId condition)",
        )  # fmt: skip

    @staticmethod
    def _demo_accounts() -> list[AwsAccount]:
        return list(AwsAccount.objects.filter(account_id__in=[a[0] for a in DEMO_ACCOUNTS]))

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

    def _demo_logins(self, admin: str) -> None:
        """A login for each role, so that four-eyes (one reviewer prepares, another signs) and the auditor's view can
        be tried at once: the admin (a superuser), a second reviewer and an auditor (a viewer). New passwords on every
        load; demo logins only (make run also turns two-factor login off)."""
        logins = [
            (admin, ADMIN, "admin (superuser): prepares the review, manages logins"),
            (f"{admin}-reviewer", REVIEWER, "reviewer: signs off what another prepared"),
            (f"{admin}-auditor", VIEWER, "auditor (viewer): reads and downloads, changes nothing"),
        ]
        for username, role, what in logins:
            password = secrets.token_urlsafe(12)
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = role == ADMIN
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(self.style.SUCCESS(f"Demo login: user {username!r}, password {password!r}: {what}"))
        self.stdout.write("(demo passwords are new on every load)")
