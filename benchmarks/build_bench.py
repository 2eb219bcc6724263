"""Time `corridormap build` on the source article, per data source, and print output sizes.

Run: .venv/bin/python benchmarks/build_bench.py [--shared ../shared]

Each case runs in a fresh Python process (so model and gazetteer loading count, as for a user):
- osm-dir:   OSM data from the local extract in ../shared/osm;
- cache-cold: empty cache, then the cache is filled from the local extract (a stand-in for the
             first live fetch, which needs a network);
- cache-warm: the same cache read again;
- schematic: --offline with an empty cache.
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
        rows = [("osm-dir", run(["build", str(article), "--osm-dir", str(osm_dir), "--out", str(out)], env))]
        seed = [sys.executable, str(REPO / "benchmarks" / "seed_cache.py"), str(osm_dir)]
        if (REPO / "benchmarks" / "seed_cache.py").exists():
            start = time.perf_counter()
            subprocess.run(seed, cwd=REPO, env=env, check=True, capture_output=True)
            rows.append(("cache-cold (fill cache from extract)", time.perf_counter() - start))
            rows.append(("cache-warm", run(["build", str(article), "--offline", "--out", str(out)], env)))
        empty = dict(env, CORRIDORMAP_CACHE=str(Path(tmp) / "empty-cache"))
        rows.append(("schematic (--offline, empty cache)", run(["build", str(article), "--offline", "--out", str(out)], empty)))
        rows.append(("no article, osm-dir", run(["build", "--osm-dir", str(osm_dir), "--out", str(out)], env)))
        print(f"{'case':<40} {'seconds':>8}")
        for name, seconds in rows:
            print(f"{name:<40} {seconds:8.2f}")
        print()
        print(f"{'output':<24} {'bytes':>10}")
        for path in sorted(out.iterdir()):
            print(f"{path.name:<24} {path.stat().st_size:>10,}")


if __name__ == "__main__":
    main()
