"""Benchmark the network time bounds against servers that answer too slowly (on 127.0.0.1).

Servers (``tests/overpass_replay.slow_server``): ``trickle`` sends its headers, then one body byte
every ``--interval`` seconds; ``trickle-all`` trickles the status line and headers too; ``silent``
accepts and never answers. Printed, side by side per server:

- one request (``overpass_http.request``, no retries, no build budget): seconds until it gives up,
  with osmnx's ``requests_timeout`` at ``--timeout`` and ``settings.http_deadline_s`` at ``--deadline``;
- one build of every layer (``pipeline.build_layers``, default retries and backoff, empty caches)
  with ``--budget`` seconds of network time: seconds spent fetching, seconds in all, the sources,
  and how many warnings.

Run: ``python benchmarks/network_budget_bench.py [--budget 120] [--deadline 240] [--timeout 5]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import osmnx as ox  # noqa: E402

from geo import settings  # noqa: E402
from geo.core.layers import list_layers  # noqa: E402
from geo.errors import NetworkError  # noqa: E402
from geo.osm import fetch, overpass_http  # noqa: E402
from geo.osm.queries import ways_query  # noqa: E402
from geo.pipeline import build_layers  # noqa: E402
from tests.overpass_replay import parse_poly, slow_server  # noqa: E402

QUERY = ways_query('["railway"="rail"]', parse_poly("41.7 48.4 41.9 48.4 41.9 48.7 41.7 48.7 41.7 48.4"))


def one_request(url: str) -> float:
    """Seconds until one request to ``url`` gives up (no retries)."""
    settings.overpass_url, retries = [url], settings.http_max_retries
    settings.http_max_retries = 0
    start = time.monotonic()
    try:
        overpass_http.request(QUERY)
    except NetworkError:
        pass
    finally:
        settings.http_max_retries = retries
    return time.monotonic() - start


def one_build(url: str, budget: float) -> dict:
    """Build every layer with ``budget`` seconds of network time; fetch time, total time, sources, warnings."""
    settings.overpass_url = [url]
    spent: list[float] = []
    fetch_layer = fetch.fetch_layer

    def timed(layer, area=None):
        start = time.monotonic()
        try:
            return fetch_layer(layer, area)
        finally:
            spent.append(time.monotonic() - start)

    fetch.fetch_layer = timed
    start = time.monotonic()
    try:
        results = build_layers(list_layers(), network_budget_s=budget)
    finally:
        fetch.fetch_layer = fetch_layer
    return {"fetch_s": sum(spent), "fetches": len(spent), "total_s": time.monotonic() - start,
            "sources": ",".join(r.source for r in results), "warnings": sum(len(r.warnings) for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="network budget of the build (s)")
    parser.add_argument("--deadline", type=float, default=settings.http_deadline_s, help="deadline of one request (s)")
    parser.add_argument("--timeout", type=float, default=5.0, help="osmnx requests_timeout: each read (s)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between trickled bytes")
    parser.add_argument("--servers", default="trickle,trickle-all,silent")
    args = parser.parse_args()
    settings.cache_dir = Path(tempfile.mkdtemp(prefix="corridormap-bench-"))
    settings.http_deadline_s = args.deadline
    ox.settings.requests_timeout = args.timeout
    ox.settings.overpass_rate_limit = False
    ox.settings.cache_folder = str(settings.cache_dir / "overpass")
    print(f"requests_timeout {args.timeout:g} s, http_deadline_s {args.deadline:g} s, "
          f"budget {args.budget:g} s, retries {settings.http_max_retries}, backoff {settings.http_backoff_s:g} s")
    print(f"{'server':<12} {'request_s':>9} {'build_fetch_s':>13} {'fetches':>7} {'build_s':>8} {'warnings':>8}  sources")
    for mode in args.servers.split(","):
        with slow_server(mode, args.interval) as url:
            request_s = one_request(url)
            build = one_build(url, args.budget)
        print(f"{mode:<12} {request_s:>9.1f} {build['fetch_s']:>13.1f} {build['fetches']:>7} {build['total_s']:>8.1f} "
              f"{build['warnings']:>8}  {build['sources']}")


if __name__ == "__main__":
    main()
