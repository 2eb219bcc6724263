"""Time `corridormap build` on the source article, per data source, and print output sizes.

Run: .venv/bin/python benchmarks/build_bench.py [--shared ../shared]

Each CLI case runs in a fresh Python process (so model and gazetteer loading count, as for a user):
- osm-dir: OSM data from the local extract in ../shared/osm;
- schematic: --offline with an empty cache;
- no article: the corridor maps alone, from the extract.

Then the live path, in one process (model already loaded): a cold build whose Overpass requests are
answered by a local replay of ../shared/osm (tests/overpass_replay.py; so network latency and Overpass
queueing, often tens of seconds per query, are NOT included), and a warm build from the cache it wrote.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "geo.cli", *args], cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build failed ({' '.join(args)}): {proc.stderr.strip()}")
    return elapsed


def live_builds(article: Path, shared: Path, tmp: Path) -> list[tuple[str, float]]:
    """Cold (replayed Overpass) and warm (cache) builds in this process."""
    import osmnx as ox
    import requests

    sys.path.insert(0, str(REPO))
    from geo import settings
    from geo.corridors.borders import shared_border
    from geo.pipeline import article_places, build
    from tests import overpass_replay as rp

    bam_ways, bam_rel = rp.bam_relation(shared)
    boundary = [rp.way_element(800_000 + i, part, {"boundary": "administrative", "admin_level": "2"})
                for i, part in enumerate(rp.cut_line(shared_border("RU", "AZ"), 20))]
    server = rp.FakeOverpass(ways=rp.caucasus_ways(shared) + bam_ways, relations=[bam_rel], boundary_ways=boundary)
    requests.Session.send = lambda session, request, **kw: server.send(session, request, **kw)
    settings.cache_dir = tmp / "live-cache"
    ox.settings.cache_folder = "./cache"  # osmnx default: corridormap keeps responses under its cache_dir
    ox.settings.overpass_rate_limit = False
    article_places(article.read_text(encoding="utf-8"))  # load the model and gazetteer first
    rows = []
    for name in ("live, cold cache (replayed Overpass)", "live, warm cache"):
        start = time.perf_counter()
        report = build(article, tmp / "live-out")
        rows.append((f"{name} [{', '.join(sorted(set(report.sources.values())))}]", time.perf_counter() - start))
    rows.append((f"  (Overpass queries sent: {len(server.queries)})", 0.0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    opts = parser.parse_args()
    shared = Path(opts.shared)
    article = shared / "articles" / "aliyev-moscow-2024.txt"
    osm_dir = shared / "osm"
    if not article.exists():
        sys.exit(f"{article} is absent: pass --shared DIR")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CORRIDORMAP_CACHE=str(Path(tmp) / "cache"))
        out = Path(tmp) / "out"
        rows = [("first run: mentions, builds gazetteer cache", run(["mentions", str(article)], env))]
        rows.append(("osm-dir", run(["build", str(article), "--osm-dir", str(osm_dir), "--out", str(out)], env)))
        rows.append(("schematic (--offline, no OSM cache)", run(["build", str(article), "--offline", "--out", str(out)], env)))
        rows.append(("no article, osm-dir", run(["build", "--osm-dir", str(osm_dir), "--out", str(out)], env)))
        rows += live_builds(article, shared, Path(tmp))
        print(f"{'case':<40} {'seconds':>8}")
        for name, seconds in rows:
            print(f"{name:<40} {seconds:8.2f}")
        print()
        print(f"{'output':<24} {'bytes':>10}")
        for path in sorted(out.iterdir()):
            print(f"{path.name:<24} {path.stat().st_size:>10,}")


if __name__ == "__main__":
    main()
