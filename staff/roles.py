"""The three roles of DESIGN.md as Django groups, with exactly the permissions each role needs, and the one way a
view declares who may open it (`policy`), checked before the request's method.

The policy is data on the view (`view.policy`): tests/test_permissions.py walks the URLconf and proves, for every
route, every role and both methods, that the answer is the one the policy declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase

VIEWER, REVIEWER, ADMIN = "viewer", "reviewer", "admin"

# Read everything and export (auditor).
_VIEW = [
    "accounts.view_awsaccount", "accounts.view_namingstandard", "accounts.view_namingexemption",
    "audits.view_auditrun", "audits.view_finding", "audits.view_findingevent", "audits.view_principalstate",
    "audits.view_rootusageevent", "audits.view_storedreport",
    "people.view_person", "people.view_ownerlink", "staff.view_changerecord", "identitycenter.view_ssoownerlink",
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
    "identitycenter.add_ssoownerlink", "identitycenter.change_ssoownerlink", "identitycenter.delete_ssoownerlink",
    "accounts.view_accountscope", "accounts.add_accountscope", "accounts.change_accountscope", "accounts.delete_accountscope",
    "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group",
    "axes.view_accessattempt", "axes.delete_accessattempt", "axes.view_accessfailurelog", "axes.delete_accessfailurelog",
    "axes.view_accesslog",
    "django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask",
    "django_celery_beat.view_crontabschedule", "django_celery_beat.add_crontabschedule",
    "django_celery_beat.view_intervalschedule", "django_celery_beat.add_intervalschedule",
]  # fmt: skip
ROLE_PERMISSIONS: dict[str, list[str]] = {VIEWER: _VIEW, REVIEWER: _REVIEW, ADMIN: _ADMIN}
READ_PERMISSION = "audits.view_finding"  # what every page asks of its reader
RUN_PERMISSION = "audits.add_auditrun"
MANAGE_PERMISSION = "accounts.change_awsaccount"
# A policy's "permissions" beyond Django's: LOGIN, any login without a role (one's own two-factor enrolment, logout);
# ANYONE, no login at all (the login page; a calendar link, whose view checks the token itself).
LOGIN = "(any login)"
ANYONE = "(anyone)"

# Naming standards with their exemptions and the people directory apply to every account: a login limited to some
# accounts may read them but not change them (policy(..., unscoped=ORGANISATION_WIDE)).
ORGANISATION_WIDE = ("POST",)

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])
SAFE_METHODS = ("GET", "HEAD")



@dataclass(frozen=True, slots=True)
class Policy:
    """`get`/`post`: the permission each method needs (None: the method is not allowed; LOGIN or ANYONE)."""

    get: str | None = None
    post: str | None = None
    unscoped: tuple[str, ...] = ()  # methods that need a login limited to no accounts (organisation-wide records)

    @property
    def public(self) -> bool:
        return ANYONE in (self.get, self.post)

    @property
    def methods(self) -> tuple[str, ...]:
        return (*(SAFE_METHODS if self.get else ()), *(("POST",) if self.post else ()))

    def permission_for(self, method: str) -> str | None:
        """The permission a request of this method needs; for a method the view does not take, the view's own, so
        that someone without it is refused (403) before learning which methods exist (405)."""
        needed = self.get if method in SAFE_METHODS else self.post if method == "POST" else None
        return needed or self.post or self.get

    def allows(self, user: Any, method: str) -> bool:
        """Whether `user` passes the permission check for a request of `method` (the method itself comes next)."""
        needed = self.permission_for(method)
        if needed == ANYONE:
            return True
        if not user.is_authenticated or (needed != LOGIN and not user.has_perm(needed)):
            return False
        return not (self._needs_unscoped(method) and has_account_scope(user))

    def _needs_unscoped(self, method: str) -> bool:
        return (method if method in self.methods else self.methods[0]) in self.unscoped


def has_account_scope(user: Any) -> bool:
    """Whether the login is limited to some AWS accounts (anonymous counts as limited to none).

    The scope is accounts.AccountScope, reached as `user.account_scope` (loaded with the user by accounts.backends);
    staff knows only that a login may have one, so that organisation-wide pages can refuse scoped logins.
    """
    if not user.is_authenticated:
        return True
    try:
        return user.account_scope is not None
    except ObjectDoesNotExist:
        return False


def policy(
    *, get: str | None = None, post: str | None = None, unscoped: tuple[str, ...] = ()
) -> Callable[[_View], _View]:
    """Declare and enforce who may open a view: the login (middleware), the permission and, for organisation-wide
    records, a login limited to no accounts (403), then the method (405)."""
    declared = Policy(get=get, post=post, unscoped=tuple("HEAD" if m == "GET" else m for m in unscoped) + unscoped)
    if not declared.methods:
        raise ValueError("a policy allows at least one method")
    if declared.public and {get, post} - {ANYONE, None}:
        raise ValueError("a public view is public for every method it takes")

    def decorate(view: _View) -> _View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            method = request.method or "GET"
            if not declared.allows(request.user, method):
                raise PermissionDenied
            if method not in declared.methods:
                return HttpResponseNotAllowed(declared.methods)
            return view(request, *args, **kwargs)

        guarded.policy = declared  # type: ignore[attr-defined]
        return login_not_required(guarded) if declared.public else guarded  # type: ignore[return-value]

    return decorate


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
