"""`make run`'s demo data: accounts with history, a people directory with leavers, a signed review; loading twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import AwsAccount
from audits.models import AuditRun, Finding
from people.models import Person
from reviews.models import SignOff


@pytest.mark.django_db
def test_the_demo_loads_a_fleet_a_directory_and_a_signed_review_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = StringIO()
    call_command("load_demo", days=4, stdout=out)
    assert AwsAccount.objects.count() == 4 and AuditRun.objects.count() == 16 + 1  # and one failed fetch
    assert Person.objects.filter(active=False).exists() and Person.objects.filter(active=True).exists()
    assert (
        Finding.objects.filter(check_id="user.owner_departed").exists()
        and Finding.objects.filter(check_id="user.no_owner").exists()
    )
    signoff = SignOff.objects.get()
    assert signoff.signed_by == "demo-lead" and len(signoff.snapshot["runs"]) == 4
    assert "Demo login: user 'demo'" in out.getvalue()
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
    call_command("load_demo", days=40, stdout=StringIO())
    now = timezone.now()
    signed = SignOff.objects.get()
    assert timedelta(days=29) < now - signed.signed_at < timedelta(days=32)
    assert Finding.objects.filter(first_seen__gt=signed.signed_at).exists()
    assert Finding.objects.filter(status="resolved", resolved_at__gt=signed.signed_at).exists()
    assert RootUsageEvent.objects.filter(used_at__gt=now - timedelta(days=7)).exists()
    latest = AuditRun.objects.filter(account__name="data-staging").order_by("-requested_at").first()
    assert latest is not None and latest.status == "failed" and "AccessDenied" in latest.error
    review = Review.objects.get(status="open")
    carried = carried_decisions(review=review, today=now.date())
    assert any(c.problem.startswith("remediation overdue") for c in carried)
    assert any(c.problem.startswith("acceptance expired") for c in carried)
    assert any(not c.problem for c in carried)
