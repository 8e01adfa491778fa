"""The Celery application: broker and eager mode come from settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")

app = Celery("iamwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
