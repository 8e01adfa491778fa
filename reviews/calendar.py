"""Private calendar links: a calendar app subscribes to the review meetings without a login.

The token is shown once and only its SHA-256 is stored; it reads the calendar and nothing else, as
its user (their role and account scope) for as long as that user may read IAMWatch.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction

from reviews.models import CalendarFeed
from staff.roles import READ_PERMISSION
from staff.trail import record_change


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_issue(*, user: Any, actor: str) -> str:
    """A new private link token for `user`; any earlier link of theirs stops working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        replaced = CalendarFeed.objects.filter(user=user).delete()[0] > 0
        CalendarFeed.objects.create(user=user, token_sha256=_digest(token))
        record_change(actor=actor, action="calendar_feed.issued", target=str(user), after={"replaced_earlier_link": replaced})
    return token


def calendar_feed_revoke(*, user: Any, actor: str) -> bool:
    """Stop `user`'s private link; False when they had none."""
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(user=user).delete()[0] > 0
        if revoked:
            record_change(actor=actor, action="calendar_feed.revoked", target=str(user))
    return revoked


def calendar_feed_user(token: str) -> Any | None:
    """The user whose link this is, while they are active and may read; None for any other token."""
    feed = CalendarFeed.objects.select_related("user").filter(token_sha256=_digest(token)).first()
    if feed is None or not feed.user.is_active or not feed.user.has_perm(READ_PERMISSION):
        return None
    return feed.user


def calendar_feed_exists(user: Any) -> bool:
    return CalendarFeed.objects.filter(user_id=user.pk).exists()
