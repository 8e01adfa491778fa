"""The three roles of DESIGN.md as Django groups, with exactly the permissions each role needs."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import Group, Permission
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import AwsAccount
from accounts.selectors import visible_accounts

VIEWER, REVIEWER, ADMIN = "viewer", "reviewer", "admin"

# Read everything and export (auditor).
_VIEW = [
    "accounts.view_awsaccount", "accounts.view_namingstandard", "accounts.view_namingexemption",
    "audits.view_auditrun", "audits.view_finding", "audits.view_findingevent", "audits.view_principalstate",
    "audits.view_rootusageevent", "audits.view_storedreport",
    "accounts.view_person", "accounts.view_ownerlink", "accounts.view_changerecord",
    "audits.view_review", "audits.view_disposition", "audits.view_signoff",
]  # fmt: skip
# Also run audits (and, with review sign-off, accept findings and sign reviews).
_REVIEW = [
    *_VIEW, "audits.add_auditrun",
    "audits.add_review", "audits.add_disposition", "audits.change_disposition", "audits.add_signoff",
]  # fmt: skip
# Also manage accounts, standards, exemptions, users and the schedule.
_ADMIN = [
    *_REVIEW,
    "accounts.add_awsaccount", "accounts.change_awsaccount", "accounts.delete_awsaccount",
    "accounts.add_namingstandard", "accounts.change_namingstandard", "accounts.delete_namingstandard",
    "accounts.add_namingexemption", "accounts.change_namingexemption", "accounts.delete_namingexemption",
    "accounts.add_person", "accounts.change_person",
    "accounts.add_ownerlink", "accounts.delete_ownerlink",
    "accounts.view_accountscope", "accounts.add_accountscope", "accounts.change_accountscope", "accounts.delete_accountscope",
    "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group",
    "django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask",
    "django_celery_beat.view_crontabschedule", "django_celery_beat.add_crontabschedule",
    "django_celery_beat.view_intervalschedule", "django_celery_beat.add_intervalschedule",
]  # fmt: skip
ROLE_PERMISSIONS: dict[str, list[str]] = {VIEWER: _VIEW, REVIEWER: _REVIEW, ADMIN: _ADMIN}
READ_PERMISSION = "audits.view_finding"  # what every page asks of its reader
RUN_PERMISSION = "audits.add_auditrun"
MANAGE_PERMISSION = "accounts.change_awsaccount"
# Every page: a logged-in user (middleware) who holds a role; anyone else gets 403 and no data.
reader_required = permission_required(READ_PERMISSION, raise_exception=True)


def actor_of(request: HttpRequest) -> str:
    """Who made a change through the web, as the audit trail names them."""
    return request.user.get_username()


def account_or_404(request: HttpRequest, account_id: str) -> AwsAccount:
    """The account with this id if the reader may see it; to a user scoped to other accounts it does not exist."""
    return get_object_or_404(visible_accounts(request.user).select_related("naming_standard"), account_id=account_id)


def roles_sync() -> None:
    """Create or correct the role groups (idempotent; runs after every migrate)."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
