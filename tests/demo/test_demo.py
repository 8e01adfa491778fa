"""`make run`'s demo data: accounts with history, a people directory with leavers, a signed review; loading twice adds nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import AwsAccount
from audits.models import REPORT_SOURCES, AuditRun, Finding
from cloudtrail.models import TrailFile
from people.models import Person
from reviews.models import SignOff


@pytest.mark.django_db
def test_the_demo_loads_a_fleet_a_directory_and_a_signed_review_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.IAMWATCH_KNOWN_NETWORKS = ["203.0.113.0/24"]  # as make run sets it
    out = StringIO()
    call_command("load_demo", days=4, stdout=out)
    # 4 daily reports per account and one failed fetch; root's CloudTrail events per account (read before the sign-off
    # and after it), and one file from the archive, imported after the sign-off
    assert AwsAccount.objects.count() == 4 and AuditRun.objects.filter(source__in=REPORT_SOURCES).count() == 16 + 1
    assert (
        AuditRun.objects.filter(source="cloudtrail").count() >= 4
        and TrailFile.objects.filter(name="s3-archive-root.json").count() == 1
    )
    assert AuditRun.objects.filter(source="sso", status="succeeded").count() == 2  # two reads of Identity Center
    assert Person.objects.filter(active=False).exists() and Person.objects.filter(active=True).exists()
    assert (
        Finding.objects.filter(check_id="user.owner_departed").exists()
        and Finding.objects.filter(check_id="user.no_owner").exists()
    )
    signoff = SignOff.objects.get()
    assert signoff.signed_by == "demo-lead" and len(signoff.snapshot["runs"]) == 4
    said = out.getvalue()
    for username, role in (("demo", "admin"), ("demo-reviewer", "reviewer"), ("demo-auditor", "viewer")):
        password = re.search(rf"Demo login: user '{username}', password '([^']+)'", said)
        assert password is not None, said
        user = User.objects.get(username=username)
        assert user.check_password(password.group(1)) and list(user.groups.values_list("name", flat=True)) == [role]
        assert user.is_superuser == (role == "admin")
    counts = (AuditRun.objects.count(), Person.objects.count(), SignOff.objects.count())
    call_command("load_demo", days=4, stdout=StringIO())
    assert (AuditRun.objects.count(), Person.objects.count(), SignOff.objects.count()) == counts


@pytest.mark.django_db
def test_the_demo_tells_the_story_of_a_meeting(settings) -> None:  # type: ignore[no-untyped-def]
    """Last month's review signed a month ago: new and resolved findings since, a fresh root sign-in, an account whose
    last run failed, and this month's review with decisions to carry over (some overdue or run out)."""
    from datetime import timedelta

    from django.utils import timezone

    from audits.models import RootUsageEvent
    from reviews.models import Review
    from reviews.services import carried_decisions

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.IAMWATCH_KNOWN_NETWORKS = ["203.0.113.0/24"]  # as make run sets it
    call_command("load_demo", days=40, stdout=StringIO())
    now = timezone.now()
    signed = SignOff.objects.get()
    assert timedelta(days=29) < now - signed.signed_at < timedelta(days=32)
    assert Finding.objects.filter(first_seen__gt=signed.signed_at).exists()
    assert Finding.objects.filter(status="resolved", resolved_at__gt=signed.signed_at).exists()
    assert RootUsageEvent.objects.filter(used_at__gt=now - timedelta(days=7)).exists()
    latest = AuditRun.objects.filter(account__name="data-staging", source__in=REPORT_SOURCES).order_by("-requested_at").first()
    assert latest is not None and latest.status == "failed" and "AccessDenied" in latest.error
    # Identity Center: every sso.* check has something to show, and access was granted and taken away since the review.
    from identitycenter.models import AccessPath

    assert set(Finding.objects.filter(check_id__startswith="sso.").values_list("check_id", flat=True)) == {
        "sso.user_departed", "sso.user_no_person", "sso.admin_direct_assignment", "sso.admin_in_production", "sso.group_empty_assignment",
        "sso.can_become_admin",  # the Developer set may pass a role to the functions it creates
    }  # fmt: skip
    assert AccessPath.objects.filter(valid_from__gt=signed.signed_at + timedelta(days=2)).exists()  # granted since
    assert AccessPath.objects.filter(valid_to__gt=signed.signed_at).exists()  # taken away since
    review = Review.objects.get(status="open")
    carried = carried_decisions(review=review, today=now.date())
    assert any(c.problem.startswith("remediation overdue") for c in carried)
    assert any(c.problem.startswith("acceptance expired") for c in carried)
    assert any(not c.problem for c in carried)
    # Root's CloudTrail events: each recent sign-in the reports saw is in CloudTrail too; web-prod's fresh one came
    # from outside the known networks without MFA; the sandbox had a night of failed sign-ins.
    from cloudtrail.models import RootEvent

    web = AwsAccount.objects.get(name="web-prod")
    fresh = RootEvent.objects.filter(account=web, name="ConsoleLogin").order_by("-at").first()
    assert fresh is not None and fresh.mfa_used is False and fresh.source_ip == "198.51.100.23"
    # payments-prod's root activity is pushed: its rule was found enabled, and a sign-in with MFA came that way.
    payments = AwsAccount.objects.get(name="payments-prod")
    pushed = RootEvent.objects.get(account=payments, origin=RootEvent.Origin.PUSH)
    assert pushed.mfa_used is True and pushed.recorded_at - pushed.at == timedelta(seconds=70)
    assert payments.push_rule == "ENABLED" and payments.push_path.messages == 1
    # One session, one finding: critical, saying why.
    (session,) = Finding.objects.filter(account=web, subject=fresh.event_id)
    assert (session.check_id, session.severity) == ("root.session", "critical")
    assert "no MFA" in session.detail and "outside the known networks (198.51.100.23)" in session.detail
    night = Finding.objects.get(account__name="sandbox", check_id="root.session", detail__contains="6 failed sign-ins, none succeeded")
    assert night.severity == "high"
    # The harmless sign-ins with MFA from the office are one medium finding each, not three findings
    assert not Finding.objects.filter(check_id__in=["root.console_login", "root.api_activity", "root.login_without_mfa"]).exists()
    recent = RootUsageEvent.objects.filter(used_at__gt=now - timedelta(days=80), credential="password")
    assert recent.exists() and all(
        RootEvent.objects.filter(account=u.account, name="ConsoleLogin", at=u.used_at).exists() for u in recent
    )
    # Evidence: what happened before the sign-off was stored before it, so the signed review's pack has it; the
    # archive file's sign-in of the day before came after it: late, beside the signed review and first on the open one.
    from reviews.frozen import frozen_review, late_for_open, late_for_signed

    assert RootEvent.objects.filter(at__lt=signed.signed_at).exclude(event_id="demo-late-archive").exists()
    assert (
        not RootEvent.objects.filter(at__lt=signed.signed_at - timedelta(minutes=1), recorded_at__gt=signed.signed_at)
        .exclude(event_id="demo-late-archive")
        .exists()
    )
    assert signed.snapshot["root_events"] and all(e["late"] is False for e in signed.snapshot["root_events"])
    frozen = frozen_review(signed.review)
    assert frozen is not None and [late.what[:20] for late in late_for_signed(signed.review, frozen)] == ["root console sign-in"]
    assert len(late_for_open(review, accounts=list(review.accounts.all()), now=now)) == 1
    out = StringIO()
    call_command("verify_evidence", stdout=out)
    assert out.getvalue().startswith("evidence verified")
