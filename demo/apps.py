"""demo: the demo organisation of `make run` (`load_demo`) and the credential-report simulator behind it and
the benchmarks. It sits above every app and nothing in the product imports it."""

from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo organisation"
