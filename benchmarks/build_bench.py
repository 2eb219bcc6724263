"""CPU seconds and peak memory of `corridormap build` and friends, as whole processes, side by side.

Run: .venv/bin/python benchmarks/build_bench.py [--shared ../shared] [--runs 5] [--repo DIR] [--live]

Every case runs ``--runs`` times in a fresh Python process (so imports, model and cache loading
count, as for a user); the table gives the median CPU seconds (user + system) and the median peak
resident memory of each process (``os.wait4``: the child's own ``getrusage``). Cases:

- bare spaCy pass: load the small English model with its default pipes and run it over the
  seed article, the reference the builds are compared with;
- warm seed build: ``build <seed article> --osm-dir ../shared/osm`` with warm caches (one
  untimed run of the same build first fills them);
- warm build, no article: the corridor maps alone, warm caches (one untimed run first);
- cold first build: ``build examples/corridors-2025.txt --offline`` (the README's first command: the
  example article, the bundled OSM snapshot, no network) with a fresh, empty ``CORRIDORMAP_CACHE``
  every run, as on a fresh machine;
- ``layers``, ``--version`` and ``--help``;
- notebook: two ``geo.build(...)`` calls in one process with the same inputs; the wall and CPU
  seconds of the second call.

``--repo DIR`` measures another checkout (e.g. main before a change). ``--live`` adds the old
in-process live path: a cold build whose Overpass requests a local replay of ../shared/osm answers
(tests/overpass_replay.py; no network latency) and a warm build from the cache it wrote.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Targets in CPU seconds, or (for the warm seed build) as a ratio to the bare spaCy pass; peak memory in MB.
TARGETS = {"warm build, no article": 1.0, "cold first build (example)": 8.0, "layers": 0.5, "--version": 0.5,
           "--help": 0.5}
RATIO_TARGETS = {"warm seed build": 1.5}
MEMORY_TARGETS = {"cold first build (example)": 600}

BARE_SPACY = """
import sys, spacy
sys.path.insert(0, ".")
from geo import settings
nlp = spacy.load(settings.spacy_model)
doc = nlp(open(sys.argv[1], encoding="utf-8").read())
print(len([e for e in doc.ents if e.label_ in ("GPE", "LOC", "FAC", "NORP")]))
"""

NOTEBOOK = """
import sys, time
sys.path.insert(0, ".")
import geo
article, osm, out = sys.argv[1:4]
geo.build(article, out, osm_dir=osm)
wall, cpu = time.perf_counter(), time.process_time()
geo.build(article, out, osm_dir=osm)
print(f"{time.perf_counter() - wall:.3f} {time.process_time() - cpu:.3f}")
"""


def run(cmd: list[str], env: dict, repo: Path) -> tuple[float, float, str]:
    """Run ``cmd`` to completion; return (CPU seconds, peak RSS in MB, stdout) of that process alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[2:])} failed: {err.read().decode()[-500:].strip()}")
        # ru_maxrss is in kilobytes on Linux
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def measure(name: str, cmd: list[str], env: dict, repo: Path, runs: int, fresh_cache: Path | None = None) -> dict:
    cpu, rss = [], []
    for i in range(runs):
        if fresh_cache is not None:
            env = dict(env, CORRIDORMAP_CACHE=str(fresh_cache / f"run{i}"))
        try:
            c, m, _ = run(cmd, env, repo)
        except RuntimeError as exc:
            return {"name": name, "error": str(exc).splitlines()[-1][:90]}
        cpu.append(c)
        rss.append(m)
    return {"name": name, "cpu": statistics.median(cpu), "rss": statistics.median(rss), "min": min(cpu), "max": max(cpu)}


def _verdict(row: dict, base: float) -> str:
    """The row's targets, each said met or NOT met."""
    said = []
    if row["name"] in TARGETS:
        target = TARGETS[row["name"]]
        said.append(f"<= {target} s: {'met' if row['cpu'] <= target else 'NOT met'}")
    if row["name"] in RATIO_TARGETS:
        target = RATIO_TARGETS[row["name"]]
        said.append(f"<= {target}x bare: {'met' if row['cpu'] / base <= target else 'NOT met'}")
    if row["name"] in MEMORY_TARGETS:
        target = MEMORY_TARGETS[row["name"]]
        said.append(f"< {target} MB: {'met' if row['rss'] < target else 'NOT met'}")
    return "; ".join(said)


def live_builds(article: Path, shared: Path, tmp: Path) -> list[tuple[str, float]]:
    """Cold (replayed Overpass) and warm (cache) builds in this process (wall seconds)."""
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
    parser.add_argument("--runs", type=int, default=5, help="processes per case (median reported; at least 5)")
    parser.add_argument("--repo", default=str(REPO), help="checkout to measure (default: this one)")
    parser.add_argument("--skip-cold", action="store_true", help="leave out the cold builds (slow)")
    parser.add_argument("--live", action="store_true", help="also time the replayed live path, in process")
    opts = parser.parse_args()
    repo = Path(opts.repo).resolve()
    shared = Path(opts.shared).resolve()
    article = shared / "articles" / "aliyev-moscow-2024.txt"
    osm_dir = shared / "osm"
    if not article.exists():
        sys.exit(f"{article} is absent: pass --shared DIR")
    py = [sys.executable]
    cli = [*py, "-m", "geo.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, CORRIDORMAP_CACHE=str(tmp / "cache"))
        out = str(tmp / "out")
        seed = [*cli, "build", str(article), "--osm-dir", str(osm_dir), "--out", out]
        bare = [*py, "-c", BARE_SPACY, str(article)]
        no_article = [*cli, "build", "--osm-dir", str(osm_dir), "--out", out]
        run(seed, env, repo)  # fill the caches (gazetteer, routes, pages): warm means the same build ran before
        run(no_article, env, repo)
        rows = [measure("bare spaCy pass (load + NER)", bare, env, repo, opts.runs)]
        rows.append(measure("warm seed build", seed, env, repo, opts.runs))
        rows.append(measure("warm build, no article", no_article, env, repo, opts.runs))
        if not opts.skip_cold:
            first = [*cli, "build", str(repo / "examples" / "corridors-2025.txt"), "--offline", "--out", str(tmp / "first")]
            rows.append(measure("cold first build (example)", first, env, repo, opts.runs, fresh_cache=tmp / "cold"))
        for args in (["layers"], ["--version"], ["--help"]):
            rows.append(measure(args[0], [*cli, *args], env, repo, opts.runs))
        notebook = []
        for _ in range(3):
            try:
                notebook.append(tuple(map(float, run([*py, "-c", NOTEBOOK, str(article), str(osm_dir), out],
                                                     env, repo)[2].split())))
            except RuntimeError as exc:
                notebook = [str(exc).splitlines()[-1][:90]]
                break
        print(f"measured: {repo} (median of {opts.runs} processes per case; CPU = user + system)")
        print(f"{'case':<32} {'CPU s':>7} {'(min-max)':>13} {'peak MB':>8} {'x bare':>7}  target")
        base = rows[0].get("cpu")
        for row in rows:
            if "error" in row:
                print(f"{row['name']:<32} {'n/a':>7}  {row['error']}")
                continue
            verdict = _verdict(row, base)
            print(f"{row['name']:<32} {row['cpu']:7.2f} {row['min']:6.2f}-{row['max']:<6.2f} {row['rss']:8.0f} "
                  f"{row['cpu'] / base:7.2f}  {verdict}")
        if notebook and isinstance(notebook[0], tuple):
            wall = statistics.median(w for w, _ in notebook)
            cpu = statistics.median(c for _, c in notebook)
            print(f"notebook: second geo.build() in one process: {wall:.3f} s wall, {cpu:.3f} s CPU (median of "
                  f"{len(notebook)}; target < 0.5 s: {'met' if wall < 0.5 else 'NOT met'})")
        else:
            print(f"notebook: n/a {notebook}")
        seed_row = rows[1]
        if "rss" in seed_row:
            print(f"peak memory of the warm seed build: {seed_row['rss']:.0f} MB (target < 500 MB: "
                  f"{'met' if seed_row['rss'] < 500 else 'NOT met'})")
        if opts.live:
            print()
            for name, seconds in live_builds(article, shared, tmp):
                print(f"{name:<44} {seconds:8.2f} s wall")
        print()
        print(f"{'output':<24} {'bytes':>10}")
        for path in sorted(Path(out).iterdir()):
            print(f"{path.name:<24} {path.stat().st_size:>10,}")


if __name__ == "__main__":
    main()
