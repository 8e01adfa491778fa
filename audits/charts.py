"""Server-side SVG geometry for the root-usage timeline (no JavaScript, no chart library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH, HEIGHT, LEFT, RIGHT, TOP = 720, 120, 30, 10, 20
# Lane heights (y) of the timeline, per credential.
LANES = {"password": 45, "access_key_1": 70, "access_key_2": 95}  # nosec B105


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    y: float
    label: str
    credential: str


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    marks: list[Mark]
    ticks: list[Tick]
    lanes: dict[str, int]
    start: datetime
    end: datetime


def root_usage_timeline(events: list[tuple[datetime, str]], *, end: datetime, days: int = 365) -> Timeline:
    """Place each (used_at, credential) of the last `days` days on a time axis, one lane per credential."""
    start = end - timedelta(days=days)
    span = (end - start).total_seconds()
    usable = WIDTH - LEFT - RIGHT

    def x(t: datetime) -> float:
        return round(LEFT + usable * (t - start).total_seconds() / span, 1)

    marks = [
        Mark(x(t), LANES.get(credential, 45), f"{credential.replace('_', ' ')} {t:%Y-%m-%d %H:%M} UTC", credential)
        for t, credential in events
        if start <= t <= end
    ]
    ticks = []
    month = datetime(start.year, start.month, 1, tzinfo=start.tzinfo)
    while month <= end:
        if month >= start:
            ticks.append(Tick(x(month), month.strftime("%b")))
        month = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=start.tzinfo)
    return Timeline(WIDTH, HEIGHT, marks, ticks, LANES, start, end)
