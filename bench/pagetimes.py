"""The benchmarks' page timer: each page's server-side render time (median and max of 5, after one warm-up) and its
SQL queries, as one table; a streamed response (CSV) is read to its end."""

from __future__ import annotations

import os
import statistics
import time


def print_page_times(client, pages: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """`pages`: label -> URL, fetched with `client` (a logged-in django.test.Client). BENCH_SLOW_QUERIES=N also
    prints each page's N slowest queries (1: three), to see where its time goes; BENCH_PROFILE=<label> profiles that page's
    Python."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from iamwatch.heap import settle

    settle()  # as the web process does once it has loaded (iamwatch.wsgi)

    print(f"{'page':28} {'median ms':>10} {'max ms':>8} {'queries':>8}   [target <= 300 ms]")
    for label, url in pages.items():
        assert client.get(url).status_code == 200, url  # warm
        timings = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200 and body, url
        print(f"{label:28} {statistics.median(timings):10.0f} {max(timings):8.0f} {len(captured):8d}")
        if os.environ.get("BENCH_PROFILE") == label:  # where a page's Python time goes: the 25 functions that took the most time themselves
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(client.get, url)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        if os.environ.get("BENCH_SLOW_QUERIES"):
            for q in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[: max(3, int(os.environ["BENCH_SLOW_QUERIES"]))]:
                print(f"    {float(q['time']) * 1000:6.0f} ms  {q['sql'][:220]}")
