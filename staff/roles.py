"""The three roles of DESIGN.md as Django groups, with exactly the permissions each role needs."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import Group, Permission
from django.http import HttpRequest

VIEWER, REVIEWER, ADMIN = "viewer", "reviewer", "admin"

# Read everything and export (auditor).
_VIEW = [
    "accounts.view_awsaccount", "accounts.view_namingstandard", "accounts.view_namingexemption",
    "audits.view_auditrun", "audits.view_finding", "audits.view_findingevent", "audits.view_principalstate",
    "audits.view_rootusageevent", "audits.view_storedreport",
    "people.view_person", "people.view_ownerlink", "staff.view_changerecord",
    "reviews.view_review", "reviews.view_disposition", "reviews.view_signoff",
]  # fmt: skip
# Also run audits (and, with review sign-off, accept findings and sign reviews).
_REVIEW = [
    *_VIEW, "audits.add_auditrun",
    "reviews.add_review", "reviews.add_disposition", "reviews.change_disposition", "reviews.add_signoff",
]  # fmt: skip
# Also manage accounts, standards, exemptions, users and the schedule.
_ADMIN = [
    *_REVIEW,
    "accounts.add_awsaccount", "accounts.change_awsaccount", "accounts.delete_awsaccount",
    "accounts.add_namingstandard", "accounts.change_namingstandard", "accounts.delete_namingstandard",
    "accounts.add_namingexemption", "accounts.change_namingexemption", "accounts.delete_namingexemption",
    "people.add_person", "people.change_person",
    "people.add_ownerlink", "people.delete_ownerlink",
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
