"""Benchmark archive geoparsing on Dask against the single-process path.

    python benchmarks/archive_bench.py [--docs 20000] [--shard-docs N] [--workers 1 2] [--no-single]

Replicates the shared dev corpora (``<repo>/../shared/geoparse/*.jsonl``, 236 documents) to
``--docs`` documents (unique ids) in JSON Lines shards, then prints side by side, for the
single-process path (``corridormap geoparse ALL.jsonl --out PRED.jsonl`` in a child process)
and for a local Dask cluster of each ``--workers`` size: wall time, documents per second
(overall, and after the first part, i.e. without cluster start and model loading), the time to
the first output part, CPU seconds (all worker processes) and documents per CPU second, and
peak memory (RSS) per worker process. Then the speed-up of the largest cluster over one worker,
and the time and cluster size for 10^7 articles, from the wall-clock rate and from the CPU time
(which the other work on a shared machine does not inflate).
The default is the issue's 20,000 documents; ``--docs 2000`` is a quick run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SPEEDUP = 1.7
ARCHIVE = 10**7


def shared_geoparse() -> Path:
    env = os.environ.get("CORRIDORMAP_SHARED")
    return (Path(env) if env else REPO / ".." / "shared").resolve() / "geoparse"


def replicate(n: int) -> list[dict]:
    """``n`` documents cycling through the dev corpora, with unique ids."""
    base = []
    for path in sorted(shared_geoparse().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            base.append({"id": doc["id"], "text": doc["text"], "title": doc.get("title"), "url": doc.get("url")})
    if not base:
        raise SystemExit(f"no corpora in {shared_geoparse()}: set CORRIDORMAP_SHARED")
    return [{**base[k % len(base)], "id": f"{base[k % len(base)]['id']}#{k // len(base)}"} for k in range(n)]


def write_shards(docs: list[dict], folder: Path, per_shard: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(0, len(docs), per_shard):
        path = folder / f"shard-{k // per_shard:05d}.jsonl"
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs[k:k + per_shard]),
                        encoding="utf-8")
        paths.append(path)
    return paths


def worker_usage() -> tuple[float, float]:
    """(peak resident memory in MB, CPU seconds) of this process (run on each worker)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def run_single(docs: list[dict], tmp: Path) -> dict:
    """Today's path, ``geoparse IN.jsonl --out PRED.jsonl``, in a child process (its own peak memory)."""
    src = tmp / "all.jsonl"
    src.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geo.cli", "geoparse", str(src), "--out", str(tmp / "pred.jsonl")],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"label": "single process", "wall": wall, "rate": len(docs) / wall, "steady": None,
            "first": wall, "peak": [usage.ru_maxrss / 1024], "cpu": usage.ru_utime + usage.ru_stime}


def run_cluster(n_workers: int, shards_dir: Path, out: Path, n_docs: int) -> dict:
    from distributed import Client, LocalCluster

    from geo.archive.parse import geoparse_archive

    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        started = time.perf_counter() - start
        report = geoparse_archive(shards_dir, out, scheduler=cluster.scheduler_address, progress=False)
        wall = time.perf_counter() - start
        usage = list(client.run(worker_usage).values())
    assert report.documents == n_docs and report.complete, report
    first_docs = min(r.documents for r in report.computed)
    after_first = report.seconds - report.first_part_seconds
    return {"label": f"Dask, {n_workers} worker{'s' * (n_workers > 1)}", "wall": wall, "rate": n_docs / wall,
            "steady": (n_docs - first_docs) / after_first if after_first > 0 else None,
            "first": started + report.first_part_seconds, "peak": sorted(u[0] for u in usage),
            "cpu": sum(u[1] for u in usage)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000, help="documents (default 20,000; e.g. 2000 for a quick run)")
    ap.add_argument("--shard-docs", type=int, default=None, help="documents per shard (default: docs / 40, 25..500)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local cluster sizes (default: 1 2)")
    ap.add_argument("--no-single", action="store_true", help="skip the single-process path")
    args = ap.parse_args(argv)
    per_shard = args.shard_docs or min(500, max(25, args.docs // 40))
    docs = replicate(args.docs)
    print(f"{len(docs):,} documents ({sum(len(d['text']) for d in docs) / 1e6:.1f} M characters) in shards of "
          f"{per_shard}; {os.cpu_count()} cores", flush=True)
    rows = []
    n_docs = len(docs)
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as tmp:
        tmp = Path(tmp)
        write_shards(docs, tmp / "shards", per_shard)
        if not args.no_single:
            rows.append(run_single(docs, tmp))
            print(f"  {rows[-1]['label']}: {rows[-1]['rate']:.1f} docs/s", flush=True)
        for n in args.workers:
            rows.append(run_cluster(n, tmp / "shards", tmp / f"out-{n}", len(docs)))
            print(f"  {rows[-1]['label']}: {rows[-1]['rate']:.1f} docs/s", flush=True)
    print()
    print(f"{'path':<18} {'wall s':>8} {'docs/s':>8} {'docs/s after 1st part':>22} {'1st part s':>11} "
          f"{'CPU s':>8} {'docs/CPU s':>10} {'peak MB per worker':>20}")
    for r in rows:
        steady = f"{r['steady']:.1f}" if r["steady"] else "—"
        print(f"{r['label']:<18} {r['wall']:>8.1f} {r['rate']:>8.1f} {steady:>22} {r['first']:>11.1f} "
              f"{r['cpu']:>8.0f} {n_docs / r['cpu']:>10.1f} {', '.join(f'{p:.0f}' for p in r['peak']):>20}")
    clusters = {int(r["label"].split(", ")[1].split()[0]): r for r in rows if r["label"].startswith("Dask")}
    if 1 in clusters and len(clusters) > 1:
        n = max(clusters)
        for key, what in (("rate", "overall"), ("steady", "after the first part")):
            if clusters[n][key] and clusters[1][key]:
                ratio = clusters[n][key] / clusters[1][key]
                print(f"speed-up {n} workers / 1 worker ({what}): {ratio:.2f}x (target >= {TARGET_SPEEDUP}x: "
                      f"{'met' if ratio >= TARGET_SPEEDUP else 'NOT met'})")
    if clusters:
        best = clusters[max(clusters)]
        per_worker = (best["steady"] or best["rate"]) / max(clusters)
        hours = ARCHIVE / per_worker / 3600
        print(f"10^7 articles at {per_worker:.1f} docs/s per worker (wall, this machine's load): {hours:,.0f} "
              f"worker-hours; {hours / max(clusters):,.0f} h on {max(clusters)} workers; "
              f"{-(-hours // 24):,.0f} workers for one day, {-(-hours // 1):,.0f} for one hour")
        core_hours = ARCHIVE * best["cpu"] / n_docs / 3600
        print(f"10^7 articles at {n_docs / best['cpu']:.1f} docs per CPU second (a worker with a core to itself): "
              f"{core_hours:,.0f} core-hours; {-(-core_hours // 24):,.0f} cores for one day, "
              f"{-(-core_hours // 1):,.0f} for one hour")
    return 0


if __name__ == "__main__":
    sys.exit(main())
