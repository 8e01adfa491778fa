"""staff: the dashboard's own staff logins, and the trail of everything they change.

It owns the roles (Django groups with exactly the permissions of viewer, reviewer and admin, and the
decorators every page uses), two-factor login, the audit trail (ChangeRecord, written once, and the
append-only base that frozen sign-offs share), the admin's trail-recording and read-only bases, and the
CSV conventions every page's export follows, and the one way every view declares who may open it
(staff.roles.policy). It is the bottom layer: it imports no other IAMWatch app.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(**kwargs: Any) -> None:
    from staff.roles import roles_sync

    roles_sync()


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff logins and audit trail"

    def ready(self) -> None:
        # Permissions exist only after migrate: the role groups are set up then (not domain flow), once the
        # last app with models has its permissions (post_migrate is sent app by app, in INSTALLED_APPS order).
        from django.apps import apps

        from staff import passwords  # noqa: F401 - connects the login signal that notes a password change due

        last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
        post_migrate.connect(_sync_roles, sender=last, dispatch_uid="iamwatch-roles")
