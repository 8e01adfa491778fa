"""WSGI entry point (gunicorn iamwatch.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamwatch.settings")

application = get_wsgi_application()

from iamwatch.heap import settle  # noqa: E402 - after Django is set up

settle()
