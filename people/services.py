"""Writes for owner links (the people directory import is people.directory)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import AwsAccount
from people.models import OwnerLink, Person
from staff.trail import record_change


@transaction.atomic
def owner_link(*, account: AwsAccount, user_name: str, person: Person, reason: str, actor: str) -> OwnerLink:
    """Tie an IAM user to its owner by hand (it replaces any earlier link of that user)."""
    existing = (
        OwnerLink.objects.select_for_update()
        .filter(account=account, user_name__iexact=user_name)
        .select_related("person")
        .first()
    )
    before = {"person": str(existing.person), "reason": existing.reason} if existing else None
    if existing:
        existing.delete()
    link = OwnerLink(account=account, user_name=user_name, person=person, reason=reason.strip(), linked_by=actor)
    link.full_clean()
    link.save()
    record_change(
        actor=actor,
        action="owner_link.added",
        target=f"user {user_name} in account {account.account_id}",
        before=before,
        after={"person": str(person), "reason": link.reason},
    )
    return link


@transaction.atomic
def owner_unlink(*, link: OwnerLink, actor: str) -> None:
    record_change(
        actor=actor,
        action="owner_link.removed",
        target=f"user {link.user_name} in account {link.account.account_id}",
        before={"person": str(link.person), "reason": link.reason},
    )
    link.delete()
