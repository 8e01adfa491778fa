"""Root events as CSV rows: the Root activity page's download and the evidence pack's root_events.csv."""

from __future__ import annotations

from cloudtrail.models import RootEvent
from cloudtrail.sessions import RootSession

ROOT_EVENTS_HEADER = (
    "account_id", "account_name", "event_time", "event_name", "event_source", "region", "source_ip", "mfa_used",
    "success", "error", "user_agent", "access_key_id", "event_id", "source",
)  # fmt: skip


def yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: ""}[value]


def root_event_row(e: RootEvent) -> tuple[object, ...]:
    """One event's row; read the events with select_related("account", "file")."""
    return (
        e.account.account_id, e.account.name, e.at, e.name, e.event_source, e.region, e.source_ip, yes_no(e.mfa_used),
        yes_no(e.success), e.error, e.user_agent, e.access_key_id, e.event_id, e.source,
    )  # fmt: skip


ROOT_SESSIONS_HEADER = (
    "account_id", "account_name", "started_at", "ended_at", "kind", "addresses", "outside_known_networks", "mfa",
    "failed_attempts", "calls", "regions", "severity", "why", "event_ids",
)  # fmt: skip


def root_session_row(account_id: str, account_name: str, s: RootSession) -> tuple[object, ...]:
    return (
        account_id, account_name, s.start, s.end, s.kind, " ".join(s.addresses), " ".join(s.outside_addresses),
        "" if s.kind == "failed" else yes_no(s.mfa), s.failed_attempts, "; ".join(f"{a} x{n}" for a, n in s.call_list),
        " ".join(s.regions), s.severity.value, "; ".join(s.reasons), " ".join(s.event_ids),
    )  # fmt: skip
