"""What the root-activity checks share: the known networks, and the subjects the findings of single events had before
root sessions (cloudtrail.sessions) replaced them. Pure: no Django, no AWS, no clock."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime

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
