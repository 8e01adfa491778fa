"""The fleet audit schedule may never fetch more often than AWS regenerates a report (every 4 hours)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from celery.schedules import crontab

FLEET_TASK = "audits.fetch_fleet"
PERIOD_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 1e-6}


def crontab_min_gap(*, minute: str, hour: str) -> timedelta:
    """The shortest gap between two firings of a crontab within a day (day-of-week limits only widen it)."""
    schedule = crontab(minute=minute, hour=hour)
    times = sorted(h * 60 + m for h in schedule.hour for m in schedule.minute)
    if len(times) == 1:
        return timedelta(days=1)
    gaps = [b - a for a, b in pairwise(times)] + [times[0] + 1440 - times[-1]]
    return timedelta(minutes=min(gaps))


def interval_gap(*, every: int, period: str) -> timedelta:
    return timedelta(seconds=every * PERIOD_SECONDS[period])


def too_frequent(gap: timedelta, *, min_hours: int) -> str | None:
    """An error message when `gap` is shorter than the minimum interval, else None."""
    if gap < timedelta(hours=min_hours):
        return (
            f"the fleet audit would run every {gap}; AWS regenerates a credential report at most every "
            f"{min_hours} hours, so runs more often than that add nothing"
        )
    return None
