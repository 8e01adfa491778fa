"""The admin site: Django's, for superusers only (issue 24). Admins manage logins on the Users page, naming standards,
exemptions, people and owner links on their own pages; the admin site is the operator's: AWS accounts, the schedule,
lockouts and the raw records. A superuser limited to some accounts is kept out too (its lists span every account)."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from staff.roles import has_account_scope


class IAMWatchAdminSite(AdminSite):
    site_header = "IAMWatch administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser) and not has_account_scope(user)
