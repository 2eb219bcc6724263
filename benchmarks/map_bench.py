"""Map output sizes and time to first render in headless Chromium.

Usage::

    python benchmarks/map_bench.py [--osm-dir ../shared/osm] [--article FILE] [--runs 3]

Builds every layer's map plus ``index.html`` from local OSM data (plain and
``--self-contained``), prints each file's size, and the median time from
navigation to a drawn map (all CDN assets served from local copies, no tiles).
Exits 1 when ``index.html`` exceeds the 2 MB budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo import pipeline  # noqa: E402
from geo.maps import png as render  # noqa: E402

BUDGET_BYTES = 2 * 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm-dir", default=str(REPO.parent / "shared" / "osm"))
    parser.add_argument("--article", default=None, help="article whose places are drawn too")
    parser.add_argument("--runs", type=int, default=3, help="renders per map (median reported)")
    args = parser.parse_args()
    over = False
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for variant, options in (("cdn", {}), ("self-contained", {"self_contained": True})):
            out = Path(tmp) / variant
            start = time.perf_counter()
            report = pipeline.build(args.article, out, osm_dir=args.osm_dir, **options)
            build_s = time.perf_counter() - start
            print(f"build ({variant}): {build_s:.1f} s")
            rows += [(variant, p) for p in report.files if p.suffix == ".html"]
        with render.browser_session(blank_tiles=True) as session:
            print(f"\n{'variant':<15} {'map':<18} {'size':>10}  {'first render (median of %d)' % args.runs}")
            for variant, path in rows:
                times = [session.render(path).seconds_to_map for _ in range(args.runs)]
                size = path.stat().st_size
                flag = ""
                if path.name == "index.html" and variant == "cdn":
                    over = size > BUDGET_BYTES
                    flag = "  OVER the 2 MB budget" if over else "  (budget 2 MB: ok)"
                print(f"{variant:<15} {path.name:<18} {size / 1024:>8.0f} KB  {statistics.median(times) * 1000:>6.0f} ms{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
