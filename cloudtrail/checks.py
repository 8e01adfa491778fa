"""The root-activity checks: CloudTrail root events in, findings out. Pure: no Django, no AWS, no clock.

Events are facts, not states: each finding names its subject (an event id, a UTC day, a day and an address), and
nothing later resolves it; a review decides it. The checks see every stored event of the days concerned, so a
day's failed sign-ins are counted over every file and fetch that brought one.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from audits.checks.base import Result
from audits.report import ROOT_USER

from .records import RootRecord

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def known_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """IAMWATCH_KNOWN_NETWORKS as networks; a bad CIDR raises ValueError naming it."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not a network (CIDR): {cidr.strip()!r}") from None
    return tuple(networks)


def day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def event_subjects(event_id: str, at: datetime, source_ip: str) -> tuple[str, str, str]:
    """The subjects of the findings one event can raise: its own (sign-ins, unknown networks), its UTC day (failed
    sign-ins), its day and address (calls). The evidence pack finds an event's findings by them."""
    return event_id, day(at), f"{day(at)} {source_ip}"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _mfa(record: RootRecord) -> str:
    return {True: "with MFA", False: "without MFA", None: "MFA not recorded"}[record.mfa_used]


def outside(address: str, networks: Sequence[Network]) -> bool:
    """An IP address in none of `networks`. A source that is no address (an AWS service acting, "AWS Internal")
    is not from a network at all, so never outside one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not any(ip.version == n.version and ip in n for n in networks)


def evaluate_events(records: Iterable[RootRecord], networks: Sequence[Network] = ()) -> list[Result]:
    """Every finding the root events raise. `networks` empty: root.unknown_network is off."""
    results: list[Result] = []
    failed: dict[str, list[RootRecord]] = defaultdict(list)  # UTC day
    calls: dict[tuple[str, str], list[RootRecord]] = defaultdict(list)  # UTC day, source address
    for r in sorted(records, key=lambda r: (r.at, r.event_id)):
        if r.is_sign_in and r.success:
            said = f"root signed in at {_when(r.at)} from {r.source_ip or 'an unknown address'} {_mfa(r)} ({r.user_agent or 'no user agent'})"
            results.append(Result("root.console_login", ROOT_USER, r.arn, said, subject=r.event_id))
            if r.mfa_used is not True:
                results.append(Result("root.login_without_mfa", ROOT_USER, r.arn, said, subject=r.event_id))
        elif r.is_sign_in:
            failed[day(r.at)].append(r)
        else:
            calls[(day(r.at), r.source_ip)].append(r)
        if networks and outside(r.source_ip, networks):
            what = "sign-in" if r.is_sign_in else f"call {r.action}"
            said = f"root {what} at {_when(r.at)} from {r.source_ip}, outside the known networks"
            results.append(Result("root.unknown_network", ROOT_USER, r.arn, said, subject=r.event_id))
    for when, attempts in sorted(failed.items()):
        addresses = ", ".join(sorted({a.source_ip for a in attempts}))
        said = f"{len(attempts)} failed root sign-in{'s' if len(attempts) > 1 else ''} on {when} from {addresses}"
        results.append(Result("root.failed_login", ROOT_USER, attempts[0].arn, said, subject=event_subjects("", attempts[0].at, "")[1]))
    for (when, address), made in sorted(calls.items()):
        names = ", ".join(sorted({c.action for c in made}))
        refused = sum(1 for c in made if not c.success)
        said = f"{len(made)} root call{'s' if len(made) > 1 else ''} on {when} from {address or 'an unknown address'}: {names}"
        if refused:
            said += f" ({refused} refused)"
        results.append(Result("root.api_activity", ROOT_USER, made[0].arn, said, subject=event_subjects("", made[0].at, address)[2]))
    return results
