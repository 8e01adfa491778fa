"""Server-side SVG geometry: the root-usage timeline and the trend charts (no JavaScript, no chart library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WIDTH, HEIGHT, LEFT, RIGHT, TOP = 720, 145, 30, 10, 20
# Lane heights (y) of the timeline: per credential as the report saw it, then CloudTrail's exact events.
LANES = {"password": 45, "access_key_1": 70, "access_key_2": 95, "cloudtrail": 120}  # nosec B105


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


def root_usage_timeline(
    events: list[tuple[datetime, str]], *, end: datetime, days: int = 365, trail: Sequence[tuple[datetime, str]] = ()
) -> Timeline:
    """Place each (used_at, credential) of the last `days` days on a time axis, one lane per credential, and each
    CloudTrail event (time, what to say of it) on the lane below."""
    start = end - timedelta(days=days)
    span = (end - start).total_seconds()
    usable = WIDTH - LEFT - RIGHT

    def x(t: datetime) -> float:
        return round(LEFT + usable * (t - start).total_seconds() / span, 1)

    marks = [
        Mark(x(t), LANES.get(credential, 45), f"{credential.replace('_', ' ')} {t:%Y-%m-%d %H:%M} UTC", credential)
        for t, credential in events
        if start <= t <= end
    ] + [Mark(x(t), LANES["cloudtrail"], said, "cloudtrail") for t, said in trail if start <= t <= end]
    ticks = []
    month = datetime(start.year, start.month, 1, tzinfo=start.tzinfo)
    while month <= end:
        if month >= start:
            ticks.append(Tick(x(month), month.strftime("%b")))
        month = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=start.tzinfo)
    return Timeline(WIDTH, HEIGHT, marks, ticks, LANES, start, end)


# --- trends: a year of months, from each month's trend point -------------------------------------------------


def last_months(end: date, count: int = 12) -> list[date]:
    """The first days of the `count` months up to `end`'s month, oldest first."""
    months = [end.replace(day=1)]
    while len(months) < count:
        first = months[-1]
        months.append(date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1))
    return months[::-1]


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    css: str
    points: str  # "x,y x,y ..." for an SVG polyline; months without a point are left out
    last: float | None


@dataclass(frozen=True, slots=True)
class TrendChart:
    width: int
    height: int
    top: float  # the value at the top of the chart
    unit: str
    ticks: list[Tick]
    series: list[Series]
    title: str


def trend_chart(
    months: list[date], series: list[tuple[str, str, list[float | None]]], *, title: str, unit: str = "", top: float | None = None
) -> TrendChart:
    """A line per series over `months` (values None where a month has no report)."""
    width, height, left, right, top_pad, bottom = 360, 140, 34, 8, 10, 22
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = top if top is not None else max(1.0, *values) if values else 1.0
    step = (width - left - right) / max(1, len(months) - 1)
    usable = height - top_pad - bottom

    def y(v: float) -> float:
        return round(top_pad + usable * (1 - v / top), 1)

    lines = []
    for label, css, vs in series:
        points = " ".join(f"{round(left + i * step, 1)},{y(v)}" for i, v in enumerate(vs) if v is not None)
        last = next((v for v in reversed(vs) if v is not None), None)
        lines.append(Series(label, css, points, last))
    # Every other month is labelled, counting back from the last one.
    ticks = [Tick(round(left + i * step, 1), m.strftime("%b")) for i, m in enumerate(months) if (len(months) - 1 - i) % 2 == 0]
    return TrendChart(width, height, top, unit, ticks, lines, title)


def sparkline(values: list[float | None], *, width: int = 72, height: int = 18) -> str:
    """Polyline points for a small line of `values` (None left out), scaled to its own maximum."""
    known = [v for v in values if v is not None]
    top = max(known, default=0) or 1
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{round(i * step, 1)},{round(1 + (height - 2) * (1 - v / top), 1)}" for i, v in enumerate(values) if v is not None
    )


SEVERITY_LINES = (("critical", "critical"), ("high", "high"), ("medium", "medium"), ("low", "low"))


def _share(summary: dict[str, int] | None, part: str, whole: str) -> float | None:
    """100 x (1 - part / whole): the share that is fine; None without a point or without a whole."""
    if not summary or not summary.get(whole):
        return None
    return round(100 * (1 - summary.get(part, 0) / summary[whole]), 1)


def summary_charts(by_month: dict[date, dict[str, int]], months: list[date]) -> list[TrendChart]:
    """The two trend charts of an account (or the fleet): open findings by severity; MFA coverage and naming compliance."""
    points = [by_month.get(m) for m in months]
    severities = [(label, css, [float(p.get(label, 0)) if p else None for p in points]) for label, css in SEVERITY_LINES]
    shares = [
        ("MFA on console users", "mfa", [_share(p, "without_mfa", "console_users") for p in points]),
        ("names fitting the standard", "naming", [_share(p, "naming_violations", "users") for p in points]),
    ]
    return [
        trend_chart(months, severities, title="Open findings by severity"),
        trend_chart(months, shares, title="MFA coverage and naming compliance", unit="%", top=100.0),
    ]


def worse_or_better(by_month: dict[date, dict[str, int]], months: list[date]) -> tuple[list[float | None], str]:
    """Open critical + high per month, and whether the last month is worse, better or the same as the one before."""
    values: list[float | None] = [
        float(p["critical"] + p["high"]) if (p := by_month.get(m)) else None for m in months
    ]
    known = [v for v in values if v is not None]
    if len(known) < 2 or known[-1] == known[-2]:
        return values, "same"
    return values, "worse" if known[-1] > known[-2] else "better"
