"""Reads of root events for the pages, each limited to the accounts the reader may see."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from accounts.models import AwsAccount
from accounts.selectors import every_account, in_accounts
from audits.models import RootUsageEvent
from cloudtrail.checks import known_networks
from cloudtrail.models import PushPath, RootEvent, TrailRead, UnregisteredRootEvent
from cloudtrail.records import SIGN_IN, RootRecord
from cloudtrail.sessions import CONSOLE_SESSION as SESSION_KEY_LIFE
from cloudtrail.sessions import RootSession, root_sessions

KINDS = {"sign_in": "sign-in", "failed_sign_in": "failed sign-in", "call": "call"}


@dataclass(frozen=True, slots=True)
class RootEventFilters:
    account: str = ""
    kind: str = ""  # sign_in, failed_sign_in, call
    mfa: str = ""  # yes, no, unknown
    address: str = ""  # a prefix: 203.0.113. or 2001:db8:
    since: date | None = None
    until: date | None = None


def _day(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def root_event_search(filters: RootEventFilters, *, within: QuerySet[AwsAccount]) -> QuerySet[RootEvent]:
    """Root events of the visible accounts, newest first, filtered."""
    events = in_accounts(RootEvent.objects.all(), within).select_related("account", "file")
    if filters.account:
        events = events.filter(account__account_id=filters.account)
    if filters.kind == "sign_in":
        events = events.filter(name=SIGN_IN, success=True)
    elif filters.kind == "failed_sign_in":
        events = events.filter(name=SIGN_IN, success=False)
    elif filters.kind == "call":
        events = events.exclude(name=SIGN_IN)
    if filters.mfa:
        events = events.filter(mfa_used={"yes": True, "no": False, "unknown": None}[filters.mfa])
    if filters.address:
        events = events.filter(source_ip__startswith=filters.address)
    if filters.since:
        events = events.filter(at__gte=_day(filters.since))
    if filters.until:
        events = events.filter(at__lt=_day(filters.until) + timedelta(days=1))
    return events.order_by("-at", "-pk")


def account_root_events(*, account: AwsAccount) -> QuerySet[RootEvent]:
    return RootEvent.objects.filter(account=account).select_related("file").order_by("-at", "-pk")


# How far a CloudTrail event may be from the credential report's last-used time and still be that use: a sign-in
# is stamped to the second in both; an access key's last use is tracked by AWS within about four hours.
MATCH = {"password": timedelta(minutes=5), "access_key_1": timedelta(hours=4), "access_key_2": timedelta(hours=4)}


def _merged(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def trail_gaps(*, account: AwsAccount, uses: list[tuple[datetime, str]], events: Sequence[RootEvent | RootRecord]) -> list[str]:
    """For each root use the credential report saw ((time, credential)), "" when CloudTrail has it among `events`
    (the account's root events over the same time), else why not: a time CloudTrail was never read for is a gap in
    the evidence, not silence. One query."""
    if not uses:
        return []
    windows = _merged(list(TrailRead.objects.filter(account=account, problem="").values_list("start", "end")))
    return [_why_not_in_trail(t, credential, events, windows) for t, credential in uses]


def _explains(e: RootEvent | RootRecord, t: datetime, credential: str) -> bool:
    """Whether the CloudTrail event is the credential report's root use at `t` with `credential`: a password use is a
    successful sign-in within minutes of it; a key's, a call within hours (the report gives the key's use coarsely)."""
    sign_in = credential == "password"
    return abs(e.at - t) <= MATCH.get(credential, timedelta(hours=4)) and e.is_sign_in == sign_in and (e.success or not sign_in)


def session_of_report_use(*, account: AwsAccount, until: datetime) -> RootSession | None:
    """The root session CloudTrail has for the credential report's last root use up to `until` (the report's time), or
    None: no use, or CloudTrail has no session for it. The report's root.recent_use is that session's: deciding the
    session decides it (reviews.services.disposition_set)."""
    use = RootUsageEvent.objects.filter(account=account, used_at__lte=until).order_by("-used_at").first()
    if use is None:
        return None
    around = sessions_since(
        within=AwsAccount.objects.filter(pk=account.pk), since=use.used_at - SESSION_KEY_LIFE, until=use.used_at + SESSION_KEY_LIFE, late=False
    ).get(account.pk, [])
    return next((s for s in around if any(_explains(e, use.used_at, use.credential) for e in s.events)), None)


def _why_not_in_trail(t: datetime, credential: str, events: Sequence[RootEvent | RootRecord], windows: list[tuple[datetime, datetime]]) -> str:
    if any(_explains(e, t, credential) for e in events):
        return ""
    if any(start <= t <= end for start, end in windows):
        return "not in CloudTrail, though it was read for this time: look in the trail's log files"
    if not windows and not events:
        return "CloudTrail not read for this account (no LookupEvents run, no file imported)"
    if not windows:
        return "no LookupEvents read covers this time, and no imported file has it: import that day's files"
    if t < windows[0][0]:
        return "before the first 90 days CloudTrail was read for: import the trail's log files to see it"
    return "CloudTrail not read for this time (a region not read, a run that failed): no event is no evidence"


def report_uses_alone(
    *, uses: Mapping[int, datetime], sessions: Mapping[int, list[RootSession]]
) -> dict[int, tuple[datetime, str, str]]:
    """Of the credential report's last root use since the review of each account (`uses`, by account pk, as the agenda
    reads it), those no CloudTrail session of `sessions` explains: (time, credential, why CloudTrail has none), by
    account pk. A use a session explains is that session's (the agenda lists the session alone). No query when every
    use has its session; else two, for the few that have none."""
    unexplained = {
        pk: at for pk, at in uses.items()
        if not any(_explains(e, at, "password") or _explains(e, at, "access_key_1") for s in sessions.get(pk, []) for e in s.events)
    }  # fmt: skip
    if not unexplained:
        return {}
    credentials = dict(
        RootUsageEvent.objects.filter(account_id__in=list(unexplained), used_at__in=set(unexplained.values())).values_list("account_id", "credential")
    )
    windows: dict[int, list[tuple[datetime, datetime]]] = {}
    for pk, start, end in TrailRead.objects.filter(account_id__in=list(unexplained), problem="").values_list("account_id", "start", "end"):
        windows.setdefault(pk, []).append((start, end))
    alone = {}
    for pk, at in unexplained.items():
        credential = credentials.get(pk, "password")
        events = [e for s in sessions.get(pk, []) for e in s.events]
        why = _why_not_in_trail(at, credential, events, _merged(windows.get(pk, [])))
        if why:
            alone[pk] = (at, credential, why)
    return alone


def event_record(event: RootEvent, account_id: str) -> RootRecord:
    """A stored event (of the account `account_id`) as the checks read it."""
    return RootRecord(
        event_id=event.event_id, at=event.at, name=event.name, event_source=event.event_source, region=event.region,
        source_ip=event.source_ip, user_agent=event.user_agent, mfa_used=event.mfa_used, success=event.success,
        error=event.error, access_key_id=event.access_key_id, account_id=account_id,
        arn=str((event.raw.get("userIdentity") or {}).get("arn") or ""), raw=event.raw,
    )  # fmt: skip


_RECORD_FIELDS = (
    "account_id", "account__account_id", "event_id", "at", "name", "event_source", "region", "source_ip", "user_agent",
    "mfa_used", "success", "error", "access_key_id", "recorded_at",
)  # fmt: skip


def account_sessions(*, account: AwsAccount, events: Sequence[RootEvent], since: datetime) -> list[RootSession]:
    """The root sessions of `account` that went on at or after `since`, from its stored `events` (which reach back
    CONSOLE_SESSION before `since`), oldest first: for a page that lists the events too, without reading them twice."""
    records = [event_record(e, account.account_id) for e in events]
    return [s for s in root_sessions(records, known_networks(settings.IAMWATCH_KNOWN_NETWORKS)) if s.end >= since]


def sessions_since(
    *, within: QuerySet[AwsAccount], since: datetime, until: datetime | None = None, late: bool = True
) -> dict[int, list[RootSession]]:
    """Each account's root sessions (by account pk) that went on at or after `since` (and began before `until`), or
    with `late`, that hold an event stored since `since` (late evidence of an earlier time); oldest first. One query,
    the records without their raw JSON; the sessions as the findings group them (IAMWATCH_KNOWN_NETWORKS)."""
    window = Q(at__gte=since - SESSION_KEY_LIFE) | Q(recorded_at__gte=since) if late else Q(at__gte=since - SESSION_KEY_LIFE)
    events = in_accounts(RootEvent.objects.filter(window), within)
    if until is not None:
        events = events.filter(at__lt=until + SESSION_KEY_LIFE)
    records: dict[int, list[RootRecord]] = {}
    stored_since: set[str] = set()
    for pk, account_id, event_id, at, *rest, recorded_at in events.order_by().values_list(*_RECORD_FIELDS):
        name, source, region, ip, agent, mfa, success, error, key = rest
        records.setdefault(pk, []).append(
            RootRecord(event_id, at, name, source, region, ip, agent, mfa, success, error, key, account_id, "", {})
        )
        if late and recorded_at >= since:
            stored_since.add(event_id)
    networks = known_networks(settings.IAMWATCH_KNOWN_NETWORKS)
    found = {}
    for pk, account_records in records.items():
        kept = [
            s for s in root_sessions(account_records, networks)
            if (s.end >= since or stored_since.intersection(s.event_ids)) and (until is None or s.start < until)
        ]  # fmt: skip
        if kept:
            found[pk] = kept
    return found


# --- the push path (EventBridge -> SQS -> consume_root_events) ---------------------------------------------------------

# How long after a root event LookupEvents may store it before the push path counts as having missed it: EventBridge
# delivers within a minute or two; a fetch run that happens to read the event first is no miss.
PUSH_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class PushStatus:
    """One account's push path, for its page: the rule as the last connection test found it, the last message."""

    rule: str  # ENABLED, DISABLED, why it was not found, or "" (never tested)
    rule_checked_at: datetime | None
    path: PushPath | None
    missed: int  # root events LookupEvents found that the push path did not deliver

    @property
    def live(self) -> bool:
        return self.rule == "ENABLED" and self.path is not None

    @property
    def configured(self) -> bool:
        return bool(settings.IAMWATCH_ROOT_EVENTS_QUEUE_URL)


def _missed(prefix: str = "") -> Q:
    """A root event (`prefix`: the path from the query's model to it) LookupEvents stored that happened while its
    account's push path was in place (since its first pushed message, or since a connection test found its rule
    enabled) and that the path did not deliver within PUSH_GRACE."""
    return Q(**{f"{prefix}origin": RootEvent.Origin.LOOKUP, f"{prefix}recorded_at__gt": F(f"{prefix}at") + PUSH_GRACE}) & (
        Q(**{f"{prefix}at__gte": F(f"{'account__' if not prefix else ''}push_path__first_message_at")})
        | Q(**{f"{prefix}at__gte": F(f"{'account__' if not prefix else ''}push_rule_enabled_since")})
    )


def push_missed(*, within: QuerySet[AwsAccount], since: datetime | None = None) -> dict[int, int]:
    """Per account with a push path (a pushed message, or its rule found enabled): the root events LookupEvents stored
    (since `since`) that the path did not deliver (_missed). One query."""
    live = in_accounts(AwsAccount.objects.filter(Q(push_path__isnull=False) | Q(push_rule_enabled_since__isnull=False)), within, "pk")
    missed = RootEvent.objects.filter(_missed(), account__in=live)
    if since is not None:
        missed = missed.filter(recorded_at__gte=since)
    return dict(missed.values_list("account").annotate(n=Count("pk")).order_by())


def push_status(*, account: AwsAccount) -> PushStatus:
    """The account's push path and the root events it missed, in one query."""
    row = (
        AwsAccount.objects.filter(pk=account.pk)
        .select_related("push_path")
        .annotate(missed=Count("root_events", filter=_missed("root_events__")))
        .get()
    )
    try:
        path: PushPath | None = row.push_path
    except PushPath.DoesNotExist:
        path = None
    return PushStatus(rule=row.push_rule, rule_checked_at=row.push_rule_checked_at, path=path, missed=row.missed)


def unregistered_events(*, within: QuerySet[AwsAccount]) -> QuerySet[UnregisteredRootEvent]:
    """The pushed root events of accounts not registered, for readers who see every account (none for a scoped
    reader: an unregistered account is in nobody's scope)."""
    if not every_account(within):
        return UnregisteredRootEvent.objects.none()
    return UnregisteredRootEvent.objects.exclude(aws_account_id__in=AwsAccount.objects.values("account_id"))
