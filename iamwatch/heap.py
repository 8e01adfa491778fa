"""The web process's heap, settled once it has loaded: what every request then allocates is all the collector scans.

A page of the agenda at 2,000 accounts allocates tens of thousands of objects; each burst sets off the cyclic
garbage collector, whose oldest generation scans every object of the process, Django, every app module, their
templates and URL patterns included: a request that runs into such a collection takes a third longer (the
benchmark's max against its median). gc.freeze() moves what start-up loaded (never garbage) out of the collector's
sight, as Python's documentation suggests for servers (https://docs.python.org/3/library/gc.html#gc.freeze).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Load what the first request would (the URL patterns, hence every view module), then freeze the heap."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and every view module it names
    gc.collect()
    gc.freeze()
