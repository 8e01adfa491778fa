"""The client's address behind the documented TLS proxy (django-axes reads it through AXES_CLIENT_IP_CALLABLE).

Each trusted proxy appends the address it saw to X-Forwarded-For; the entry the outermost trusted proxy appended, the
IAMWATCH_TRUSTED_PROXIES-th from the right, is the client. Whatever a client writes in the header itself lies further
left and is never believed; with no trusted proxy (the default) the header is ignored and REMOTE_ADDR is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.IAMWATCH_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote  # not through the proxies: the address it came from
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote
