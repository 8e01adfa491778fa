"""Dates and times as every page shows them: in a <time> element (machine-readable, never wrapped), times in UTC
with the zone written out. `{% load timestamps %}`, then `{{ value|day }}` or `{{ value|moment }}`."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def day(value: date | None) -> str:
    """2026-11-28; a datetime shows its UTC day. Empty for no date, so that `|default:"—"` still applies."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), value.isoformat())


@register.filter
def instant(value: datetime | None) -> str:
    """A time for a link's query, exact to the microsecond (2026-11-28T09:00:00.123456Z): "since" is to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else ""


@register.filter
def moment(value: datetime | None, precision: str = "minutes") -> str:
    """2026-11-28 14:03 UTC (`|moment:"seconds"`: 14:03:09 UTC). Empty for no time."""
    if value is None or value == "":
        return ""
    at = value.astimezone(UTC)
    shown = at.strftime("%Y-%m-%d %H:%M:%S" if precision == "seconds" else "%Y-%m-%d %H:%M")
    return format_html('<time datetime="{}">{} UTC</time>', at.isoformat(), shown)
