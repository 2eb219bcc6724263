"""Benchmark the geoparser on the shared dev corpora (``<repo>/../shared/geoparse``).

    python benchmarks/geoparse_bench.py [--corpora gwn lgl] [--keep DIR] [--runs 3]

Prints recognition F1, Acc@161 over found and end to end (scored by the corpus's own
``score.py``), throughput after load (CPU seconds of this process) and load time, and side by
side a bare spaCy small-model NER pass (the model's default pipes; GPE/LOC/FAC/NORP spans, no
coordinates) over the same texts. Then, as whole processes (median CPU seconds of ``--runs``
runs each, ``os.wait4``), ``corridormap geoparse`` against the bare pass as a process of its own
(load the model, parse the corpus). Targets: in process within 1.1x of the bare pass, as a
whole process within 1.3x.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CORPORA = {"gwn": "gwn-dev.jsonl", "lgl": "lgl-dev.jsonl"}
TARGETS = {"gwn": (0.80, 0.90, 0.70), "lgl": (0.70, 0.80, 0.55)}
IN_PROCESS_RATIO = 1.1
PROCESS_RATIO = 1.3

BARE_PROCESS = """
import json, sys, spacy
sys.path.insert(0, ".")
from geo import settings
nlp = spacy.load(settings.spacy_model)
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
found = [[e.text for e in doc.ents if e.label_ in ("GPE", "LOC", "FAC", "NORP")] for doc in nlp.pipe(texts, batch_size=16)]
print(sum(map(len, found)))
"""


def shared_geoparse() -> Path:
    env = os.environ.get("CORRIDORMAP_SHARED")
    return (Path(env) if env else REPO / ".." / "shared").resolve() / "geoparse"


def load_scorer(folder: Path):
    spec = importlib.util.spec_from_file_location("geoparse_score", folder / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def bare_spacy(texts: list[str]):
    import spacy

    from geo import settings

    t0 = time.process_time()
    nlp = spacy.load(settings.spacy_model)
    load_s = time.process_time() - t0
    t0 = time.process_time()
    preds = []
    for doc in nlp.pipe(texts, batch_size=16):
        preds.append([{"start": e.start_char, "end": e.end_char, "name": e.text, "lat": None, "lon": None}
                      for e in doc.ents if e.label_ in ("GPE", "LOC", "FAC", "NORP")])
    return preds, load_s, time.process_time() - t0


def process_cpu(cmd: list[str], runs: int) -> float:
    """Median CPU seconds (user + system) of ``cmd`` run ``runs`` times as a fresh process from the repo."""
    cpu = []
    for _ in range(runs):
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-300:]}")
        cpu.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(cpu)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    ap.add_argument("--keep", type=Path, help="write predictions to this folder")
    ap.add_argument("--runs", type=int, default=3, help="whole-process runs per command (median)")
    args = ap.parse_args(argv)
    folder = shared_geoparse()
    if not folder.is_dir():
        print(f"shared corpora not found at {folder}: set CORRIDORMAP_SHARED", file=sys.stderr)
        return 2
    scorer = load_scorer(folder)

    from geo.text import gazetteer, mentions
    from geo.text.geoparse import geoparse_texts, toponyms

    cold = not gazetteer.cache_file().is_file()
    build_s = None
    if cold:  # first run on this machine: unpack (or build) the gazetteer cache, then time a normal load
        t0 = time.perf_counter()
        gazetteer.load()
        build_s = time.perf_counter() - t0
        gazetteer._load_folder.cache_clear()
    t0 = time.process_time()
    mentions.nlp()
    t_nlp = time.process_time() - t0
    gazetteer.load()
    mentions.ruler()
    load_s = time.process_time() - t0

    rows = []
    for name in args.corpora:
        gold = scorer.load(folder / CORPORA[name])
        texts = [d["text"] for d in gold]
        chars = sum(len(t) for t in texts)
        t0 = time.process_time()
        preds = [{"id": d["id"], "toponyms": toponyms(m, p)} for d, (m, p) in zip(gold, geoparse_texts(texts))]
        run_s = time.process_time() - t0
        res = scorer.score(gold, preds)
        bare, bare_load, bare_s = bare_spacy(texts)
        bres = scorer.score(gold, [{"id": d["id"], "toponyms": b} for d, b in zip(gold, bare)])
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            with (args.keep / f"{name}-pred.jsonl").open("w", encoding="utf-8") as f:
                for p in preds:
                    f.write(json.dumps(p) + "\n")
        rows.append((name, len(gold), chars, res, run_s, bres, bare_s, bare_load))

    if build_s is not None:
        print(f"gazetteer cache built in {build_s:.1f} s (once per machine, under settings.cache_dir)")
    print(f"load: spaCy {t_nlp:.2f} s + gazetteer/ruler {load_s - t_nlp:.2f} s = {load_s:.2f} s (target < 5 s)")
    hdr = f"{'corpus':8}{'system':12}{'P':>7}{'R':>7}{'F1':>7}{'Acc161 found':>14}{'Acc161 e2e':>12}{'docs/s':>9}{'chars/s':>10}{'time s':>8}"
    print(hdr)
    print("-" * len(hdr))
    ok_all = True
    for name, n, chars, res, run_s, bres, bare_s, bare_load in rows:
        r, f, e = res["recognition"], res["resolved_found"], res["end_to_end"]
        print(f"{name:8}{'corridormap':12}{r['precision']:7.3f}{r['recall']:7.3f}{r['f1']:7.3f}"
              f"{f.get('acc161', 0):14.3f}{e.get('acc161', 0):12.3f}{n / run_s:9.1f}{chars / run_s:10.0f}{run_s:8.2f}")
        br = bres["recognition"]
        print(f"{'':8}{'bare spaCy':12}{br['precision']:7.3f}{br['recall']:7.3f}{br['f1']:7.3f}"
              f"{'-':>14}{'-':>12}{n / bare_s:9.1f}{chars / bare_s:10.0f}{bare_s:8.2f}")
        tf, ta, te = TARGETS[name]
        ratio = run_s / bare_s
        met = r["f1"] >= tf and f.get("acc161", 0) >= ta and e.get("acc161", 0) >= te
        ok_all &= met and ratio <= IN_PROCESS_RATIO
        print(f"{'':8}targets F1>={tf} Acc161 found>={ta} e2e>={te}: {'met' if met else 'NOT met'}; "
              f"CPU vs bare spaCy in process {ratio:.2f}x (target <= {IN_PROCESS_RATIO}x)")
    ok_all &= load_s < 5
    print(f"\nwhole processes, median CPU s of {args.runs} runs:")
    print(f"{'corpus':8}{'corridormap geoparse':>22}{'bare spaCy pass':>17}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.corpora:
            corpus = str(folder / CORPORA[name])
            ours = process_cpu([sys.executable, "-m", "geo.cli", "geoparse", corpus, "--out", f"{tmp}/p.jsonl"],
                               args.runs)
            bare = process_cpu([sys.executable, "-c", BARE_PROCESS, corpus], args.runs)
            ok_all &= ours / bare <= PROCESS_RATIO
            print(f"{name:8}{ours:22.2f}{bare:17.2f}{ours / bare:8.2f}  (target <= {PROCESS_RATIO}x)")
    print(f"all targets met: {ok_all}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
