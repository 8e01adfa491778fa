"""Root sessions: root's CloudTrail events grouped into what one person did in one sitting. Pure: no Django, no AWS.

A session begins with a sign-in, or with the first call or failed sign-in that belongs to none before it, and goes on
while root keeps acting: a call joins the session whose calls it shares a key with (a console session's calls are
signed with that session's temporary key), or the session under way when it comes less than IDLE after the last
event; failed sign-ins group together, and a sign-in that follows them within IDLE is the same person getting in.
The meeting decides each session once, as one finding whose severity says what it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from audits.checks.base import Result, Severity
from audits.report import ROOT_USER

from .checks import Network, outside
from .records import RootRecord

IDLE = timedelta(hours=1)  # a pause longer than this ends a session (unless the calls share the session's key)
CONSOLE_SESSION = timedelta(hours=12)  # the longest a console session's temporary key lasts
SESSION_CHECK = "root.session"
# A call by these names reads and changes nothing (ConsoleLogin aside, which is the sign-in itself).
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Search", "View", "BatchGet", "Check")


class Kind:
    CONSOLE = "console"  # a successful sign-in, and what root did until it stopped
    ACCESS_KEY = "access key"  # calls signed with a root access key (AKIA...): no sign-in at all
    CALLS = "calls"  # calls with no sign-in in the trail and no long-lived key (the sign-in was not read)
    FAILED = "failed"  # failed sign-ins only: nobody got in


@dataclass(frozen=True, slots=True)
class RootSession:
    """One session: its events in time order, and what the meeting needs to know of it."""

    events: tuple[RootRecord, ...]
    kind: str
    outside_addresses: tuple[str, ...]  # the addresses outside IAMWATCH_KNOWN_NETWORKS (none when that is unset)
    severity: Severity
    reasons: tuple[str, ...]  # why the severity, in words

    @property
    def sign_in(self) -> RootRecord | None:
        return next((e for e in self.events if e.is_sign_in and e.success), None)

    @property
    def start(self) -> datetime:
        """When: the sign-in, else the first event."""
        sign_in = self.sign_in
        return sign_in.at if sign_in is not None else self.events[0].at

    @property
    def end(self) -> datetime:
        return self.events[-1].at

    @property
    def subject(self) -> str:
        """What its finding is about: the sign-in's event id, else the first event's."""
        sign_in = self.sign_in
        return (sign_in or self.events[0]).event_id

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(e.event_id for e in self.events)

    @property
    def address(self) -> str:
        """Where from: the sign-in's address, else the first event's."""
        return (self.sign_in or self.events[0]).source_ip

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.source_ip for e in self.events if e.source_ip))

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted({e.region for e in self.events if e.region}))

    @property
    def mfa(self) -> bool | None:
        """The sign-in's MFA; for calls alone, whether the calls' session said it was MFA-authenticated."""
        sign_in = self.sign_in
        if sign_in is not None:
            return sign_in.mfa_used
        said = {e.mfa_used for e in self.events if not e.is_sign_in}
        return None if not said or None in said else all(said)

    @property
    def failed_attempts(self) -> int:
        return sum(1 for e in self.events if e.is_sign_in and not e.success)

    @property
    def calls(self) -> Counter[str]:
        return Counter(e.action for e in self.events if not e.is_sign_in)

    @property
    def call_count(self) -> int:
        return sum(1 for e in self.events if not e.is_sign_in)

    @property
    def call_list(self) -> list[tuple[str, int]]:
        """Each call by name with how often, by name."""
        return sorted(self.calls.items())

    @property
    def changes(self) -> tuple[str, ...]:
        """The calls that change something, by name."""
        return tuple(sorted(a for a in self.calls if not a.split(":", 1)[-1].startswith(READ_ONLY_PREFIXES)))

    @property
    def outside_known(self) -> bool:
        return bool(self.outside_addresses)

    @property
    def arn(self) -> str:
        return self.events[0].arn

    def summary(self) -> str:
        """The session in one line: when, where from, MFA, known network, failed attempts, what root did."""
        when = f"{self.start:%Y-%m-%d %H:%M} UTC"
        what = {
            Kind.CONSOLE: "console sign-in",
            Kind.ACCESS_KEY: f"calls with the root access key {self.events[0].access_key_id}",
            Kind.CALLS: "calls with no sign-in in the trail",
            Kind.FAILED: f"{self.failed_attempts} failed sign-in{'s' if self.failed_attempts != 1 else ''}, none succeeded",
        }[self.kind]
        where = ", ".join(self.addresses) or "an unknown address"
        parts = [f"{when} {what} from {where}"]
        if self.kind != Kind.FAILED:
            parts.append({True: "MFA", False: "no MFA", None: "MFA not recorded"}[self.mfa])
            if self.failed_attempts:
                parts.append(f"after {self.failed_attempts} failed attempt{'s' if self.failed_attempts != 1 else ''}")
        if self.outside_known:
            parts.append(f"outside the known networks ({', '.join(self.outside_addresses)})")
        calls = self.calls
        if calls:
            named = ", ".join(f"{a} x{n}" if n > 1 else a for a, n in sorted(calls.items()))
            parts.append(
                f"{sum(calls.values())} call{'s' if sum(calls.values()) != 1 else ''} in {', '.join(self.regions) or 'no region'}: {named}"
            )
        if self.end > self.start:
            parts.append(
                f"until {self.end:%H:%M} UTC" if self.end.date() == self.start.date() else f"until {self.end:%Y-%m-%d %H:%M} UTC"
            )
        return "; ".join(parts)

    def result(self) -> Result:
        """The session's one finding."""
        return Result(
            SESSION_CHECK,
            ROOT_USER,
            self.arn,
            f"{self.summary()} ({'; '.join(self.reasons)})",
            subject=self.subject,
            severity=self.severity.value,
        )


def root_sessions(records: Iterable[RootRecord], networks: Sequence[Network] = ()) -> list[RootSession]:
    """Root's events grouped into sessions, in time order. `networks` empty: no address counts as outside."""
    groups: list[list[RootRecord]] = []
    for r in sorted(records, key=lambda r: (r.at, not r.is_sign_in, r.event_id)):  # a sign-in before its own second's calls
        group = _group_for(r, groups)
        if group is None:
            groups.append([r])
        else:
            group.append(r)
    return sorted((_session(g, networks) for g in groups), key=lambda s: (s.start, s.subject))


def _group_for(r: RootRecord, groups: list[list[RootRecord]]) -> list[RootRecord] | None:
    """The session `r` belongs to, or None when it begins one."""
    if not groups:
        return None
    last = groups[-1]
    if not r.is_sign_in:
        # A call joins the console session (or the calls) under way, unless root's own access key signed it.
        if not _long_lived(r) and r.at - last[-1].at <= IDLE and _kind(last) in (Kind.CONSOLE, Kind.CALLS):
            return last
        # Else the session whose calls used its key, while that key lives; a session's temporary key is never older
        # than the last sign-in (a newer console session is the one the console's key belongs to).
        if r.access_key_id:
            for group in reversed(groups):
                if r.at - group[0].at > CONSOLE_SESSION:
                    break
                if any(e.access_key_id == r.access_key_id for e in group if not e.is_sign_in):
                    return group
                if _kind(group) == Kind.CONSOLE and not _long_lived(r):
                    break
        return None
    if r.at - last[-1].at > IDLE:
        return None
    # A failed sign-in joins other failures; a sign-in that follows them is the same person getting in.
    return last if all(e.is_sign_in and not e.success for e in last) else None


def _long_lived(r: RootRecord) -> bool:
    """Signed with an access key of root's own (AKIA...), not a session's temporary key (ASIA...)."""
    return r.access_key_id.startswith("AKIA")


def _kind(events: Sequence[RootRecord]) -> str:
    if any(e.is_sign_in and e.success for e in events):
        return Kind.CONSOLE
    calls = [e for e in events if not e.is_sign_in]
    if not calls:
        return Kind.FAILED
    return Kind.ACCESS_KEY if _long_lived(calls[0]) else Kind.CALLS


def _session(events: list[RootRecord], networks: Sequence[Network]) -> RootSession:
    kind = _kind(events)
    strange = tuple(dict.fromkeys(e.source_ip for e in events if networks and outside(e.source_ip, networks)))
    provisional = RootSession(tuple(events), kind, strange, Severity.MEDIUM, ())
    severity, reasons = _judged(provisional)
    return RootSession(tuple(events), kind, strange, severity, reasons)


def _judged(s: RootSession) -> tuple[Severity, tuple[str, ...]]:
    """How bad the session was, and why: critical for a way in nobody should have (no MFA, a root access key, an unknown
    network, getting in after failures), high for changes made or failures alone, medium for a sign-in with MFA from
    a known network that only looked."""
    critical: list[str] = []
    high: list[str] = []
    if s.kind == Kind.CONSOLE and s.mfa is not True:
        critical.append("signed in without MFA" if s.mfa is False else "MFA not recorded for the sign-in")
    if s.kind == Kind.ACCESS_KEY:
        critical.append("a root access key was used: root should have none")
    if s.kind == Kind.CALLS:
        high.append("root called AWS with no sign-in in the trail")
    if s.outside_known:
        (high if s.kind == Kind.FAILED else critical).append(
            f"from outside the known networks ({', '.join(s.outside_addresses)})"
        )
    if s.failed_attempts and s.kind == Kind.CONSOLE:
        critical.append(f"signed in after {s.failed_attempts} failed attempt{'s' if s.failed_attempts != 1 else ''}")
    if s.kind == Kind.FAILED:
        high.append(f"{s.failed_attempts} failed sign-in{'s' if s.failed_attempts != 1 else ''}: someone tried the root password")
    if s.changes:
        high.append(f"made changes: {', '.join(s.changes)}")
    refused = sum(1 for e in s.events if not e.is_sign_in and not e.success)
    if refused:
        high.append(f"{refused} call{'s' if refused != 1 else ''} refused")
    if critical:
        return Severity.CRITICAL, tuple(critical + high)
    if high:
        return Severity.HIGH, tuple(high)
    return Severity.MEDIUM, ("a sign-in with MFA from a known network that changed nothing: still needs its reason",)


def evaluate_events(records: Iterable[RootRecord], networks: Sequence[Network] = ()) -> list[Result]:
    """Every finding the root events raise: one per root session, as bad as what it was. Events are facts: nothing
    later resolves one; a review decides it. `networks` empty: no address counts as outside the known networks."""
    return [s.result() for s in root_sessions(records, networks)]
