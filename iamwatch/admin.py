"""The admin site: Django's, closed to users restricted to some accounts (its lists span every account)."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from staff.roles import has_account_scope


class IAMWatchAdminSite(AdminSite):
    site_header = "IAMWatch administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not has_account_scope(request.user)
