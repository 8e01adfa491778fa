from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class IAMWatchAdminConfig(AdminConfig):
    """Django's admin with IAMWatch's site (see iamwatch.admin); the project's own set-up of database connections
    (iamwatch.postgres) is connected here, the project's one AppConfig."""

    default_site = "iamwatch.admin.IAMWatchAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.db.backends.signals import connection_created

        from iamwatch.postgres import use_fast_timestamptz

        connection_created.connect(use_fast_timestamptz, dispatch_uid="iamwatch-fast-timestamptz")
