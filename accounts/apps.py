from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(**kwargs: Any) -> None:
    from accounts.roles import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "AWS accounts"

    def ready(self) -> None:
        # Permissions exist only after migrate: the role groups are set up then (not domain flow),
        # once the last app (audits, after accounts and django_celery_beat) has its permissions.
        from django.apps import apps

        post_migrate.connect(_sync_roles, sender=apps.get_app_config("audits"), dispatch_uid="iamwatch-roles")
