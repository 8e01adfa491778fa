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
    assert AwsAccount.objects.count() == 4 and AuditRun.objects.count() == 16
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
