"""Benchmark the live path against a real Overpass API: per layer, the queries sent, elements returned, time.

Starts the real Overpass API 0.7.62 of ``../shared/overpass`` (env ``CORRIDORMAP_SHARED``) on a free
127.0.0.1 port (the tests' helper, ``tests/overpass_server.py``: one dispatcher per machine, behind a
lock), or uses a running server given with ``--overpass-url``. Every layer is fetched live with empty
caches (``geo.osm.fetch.fetch_layer``), each query timed as the client sees it (HTTP included).

Run: ``python benchmarks/overpass_live_bench.py [--overpass-url URL] [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import osmnx as ox  # noqa: E402

from geo import settings  # noqa: E402
from geo.errors import CorridorMapError  # noqa: E402
from geo.core.layers import list_layers  # noqa: E402
from geo.core.stations import layer_points  # noqa: E402
from geo.geodesy import geodesic_length_km, line_buffer_km  # noqa: E402
from geo.osm import fetch, overpass_http  # noqa: E402


def fetch_counted(layer) -> dict:
    """Fetch ``layer`` live once; the queries sent, elements returned and seconds spent in HTTP."""
    sent: list[tuple[float, int, int]] = []  # (seconds, elements, query characters)
    request = overpass_http.request

    def timed(query: str) -> dict:
        start = time.perf_counter()
        data = request(query)
        sent.append((time.perf_counter() - start, len(data["elements"]), len(query)))
        return data

    overpass_http.request = timed
    try:
        area = line_buffer_km(layer_points(layer), float(layer.osm.get("clip_buffer_km", 50)))
        start = time.perf_counter()
        lines, points, detail = fetch.fetch_layer(layer, area)
        total = time.perf_counter() - start
    finally:
        overpass_http.request = request
    return {
        "queries": len(sent), "elements": sum(n for _, n, _ in sent), "http_s": sum(s for s, _, _ in sent),
        "slowest_s": max((s for s, _, _ in sent), default=0.0), "query_chars": sum(c for _, _, c in sent),
        "total_s": total, "lines": len(lines), "points": len(points),
        "km": sum(geodesic_length_km(g) for g in lines.geometry), "detail": detail,
    }


def run(url: str, repeat: int) -> None:
    overpass_http.use_overpass([url])
    ox.settings.use_cache = False
    print(f"Overpass {url}; {repeat} run(s) per layer, no caches; times are medians")
    print(f"{'layer':<14}{'queries':>8}{'elements':>10}{'HTTP s':>9}{'slowest s':>11}{'total s':>9}"
          f"{'lines':>7}{'points':>7}{'km':>9}  query chars")
    for layer in list_layers():
        runs = []
        try:
            for _ in range(repeat):
                with tempfile.TemporaryDirectory() as cache:
                    settings.cache_dir = Path(cache)
                    runs.append(fetch_counted(layer))
        except CorridorMapError as exc:  # e.g. the test region holds no data for this layer
            print(f"{layer.id:<14}  not fetched: {exc.message}")
            continue
        r = runs[0]
        med = {k: statistics.median(x[k] for x in runs) for k in ("http_s", "slowest_s", "total_s")}
        print(f"{layer.id:<14}{r['queries']:>8}{r['elements']:>10}{med['http_s']:>9.2f}{med['slowest_s']:>11.2f}"
              f"{med['total_s']:>9.2f}{r['lines']:>7}{r['points']:>7}{r['km']:>9.0f}  {r['query_chars']}")
        print(f"{'':<14}{r['detail']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overpass-url", help="a running Overpass API (default: start ../shared/overpass)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.overpass_url:
        run(args.overpass_url, args.repeat)
        return 0
    from tests import overpass_server as local

    shared = Path(os.environ.get("CORRIDORMAP_SHARED", REPO.parent / "shared")) / "overpass"
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        server = local.start(shared, Path(work))
        print(f"started the real Overpass server (load {shared / 'region.osm.gz'} + dispatcher) in "
              f"{time.perf_counter() - start:.1f} s")
        try:
            run(server.url, args.repeat)
        finally:
            local.stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
