"""Map output sizes against their budgets, and time to first render in headless Chromium.

Usage::

    python benchmarks/map_bench.py [--osm-dir ../shared/osm] [--article FILE] [--runs 3]

Builds the seed article's maps (every layer plus ``index.html``) from local OSM data,
with CDN links and ``--self-contained``, prints each file's size against the budget
for its variant (``index.html``: 300 KB with CDN links, 600 KB self-contained) and the
median time from navigation to a drawn map (all CDN assets served from local copies,
no tiles). Exits 1 when an ``index.html`` is over its budget.
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

#: Size budgets of the seed build's index.html, per variant.
BUDGETS = {"cdn": 300 * 1024, "self-contained": 600 * 1024}
SEED_ARTICLE = REPO.parent / "shared" / "articles" / "aliyev-moscow-2024.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm-dir", default=str(REPO.parent / "shared" / "osm"))
    parser.add_argument("--article", default=str(SEED_ARTICLE), help="article whose places are drawn too")
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
            print(f"\n{'variant':<15} {'map':<18} {'size':>10} {'budget':>9} {'share':>6}  "
                  f"{'first render (median of %d)' % args.runs}")
            for variant, path in rows:
                times = [session.render(path).seconds_to_map for _ in range(args.runs)]
                size, budget = path.stat().st_size, BUDGETS[variant]
                verdict = ""
                if path.name == "index.html":
                    verdict = "  OVER budget" if size > budget else "  within budget"
                    over = over or size > budget
                print(f"{variant:<15} {path.name:<18} {size / 1024:>7.0f} KB {budget / 1024:>6.0f} KB {size / budget:>6.0%}  "
                      f"{statistics.median(times) * 1000:>6.0f} ms{verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
