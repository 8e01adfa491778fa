from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class IAMWatchAdminConfig(AdminConfig):
    """Django's admin with IAMWatch's site (see iamwatch.admin)."""

    default_site = "iamwatch.admin.IAMWatchAdminSite"
