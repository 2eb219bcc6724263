"""CPU time per KB of article for recognition, resolution and quoting, from 10 KB to 5 MB.

    python benchmarks/linear_bench.py [--sizes 10 100 1000 5000] [--no-stops]
    python benchmarks/linear_bench.py --adversarial [--sizes 20 200 2000] [--only NAME ...]

The articles are synthetic news-like text: varied sentences about corridors, ports and
borders (written here, shuffled with a fixed seed) repeated up to each size. Each size
runs in its own process after a warm-up (spaCy model and gazetteer loaded), and prints
CPU seconds (``time.process_time``) for each step, CPU ms per KB and the peak memory
of the process. Flat ms/KB from the smallest to the largest size means linear time.
``--no-stops`` drops every full stop, so each paragraph is one long sentence.

``--adversarial`` times the text passes an article goes through before the language model
(decoding, Markdown or HTML to text, invisible characters, the named-infrastructure
pattern) on hostile inputs: long runs of one letter, of brackets, of markup openers
(:data:`ADVERSARIAL`). Each input and size runs in its own process; flat ms/KB from 20 KB
to 2 MB (within 2x) means linear time.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PLACES = ["Baku", "Moscow", "Derbent", "Astara", "Tehran", "Rasht", "Qazvin", "Makhachkala", "Astrakhan",
          "Bandar Abbas", "Alat", "Khachmaz", "Tynda", "Vanino", "Ust-Kut", "Tayshet", "Severobaykalsk",
          "Komsomolsk-on-Amur", "Georgia", "Armenia", "Kazakhstan", "Mumbai", "Helsinki", "St Petersburg",
          "Springfield", "Paris", "Yalama", "Samur", "Caspian Sea", "Dagestan", "Victoria", "Santiago"]
COUNTRIES = ["Russia", "Azerbaijan", "Iran", "India", "China", "Turkey", "Finland", "Kazakhstan"]
TEMPLATES = [
    "Trains from {a} to {b} now take {n} hours, officials in {c} said on {day}.",
    "The {corr} will link {a} with {b}, cutting freight times by {n} per cent.",
    "In {a}, {c} and {d} signed a memorandum on customs at the {b} crossing.",
    "Freight volumes through {a} rose to {n} million tonnes last year, according to the ministry.",
    "\"We expect the line from {a}, {c}, to reach {b} by {year},\" the minister told reporters.",
    "Critics in {c} say the {corr} depends on the {a}–{b} section, which is still under construction.",
    "A delegation from {d} visited {a} and {b} to inspect the new terminal.",
    "Prices for the route via {a} fell after {c} cut tariffs; shippers in {b} welcomed the move.",
    "The governor of {a} met investors from {d}, who plan a logistics hub near {b}.",
    "Analysts note that {a} lies {n} km from {b}, closer than any port in {c}.",
]
CORRIDORS = ["North-South corridor", "BAM", "INSTC", "Baikal-Amur Mainline", "Trans-Siberian"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def synthetic_article(kb: int, seed: int = 0, stops: bool = True) -> str:
    """About ``kb`` KB of news-like text with varied sentences in paragraphs of 3-6 sentences."""
    rng = random.Random(seed)
    target = kb * 1000
    paragraphs, size = [], 0
    while size < target:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            a, b = rng.sample(PLACES, 2)
            c, d = rng.sample(COUNTRIES, 2)
            sentences.append(rng.choice(TEMPLATES).format(
                a=a, b=b, c=c, d=d, n=rng.randint(2, 90), year=rng.randint(2025, 2035),
                day=rng.choice(DAYS), corr=rng.choice(CORRIDORS)))
        para = " ".join(sentences)
        if not stops:
            para = para.replace(".", "")
        paragraphs.append(para)
        size += len(para) + 2
    return "\n\n".join(paragraphs)[:target]


def run_one(kb: int, stops: bool) -> dict:
    """Recognise, resolve and quote one synthetic article (in this process); CPU s per step."""
    from geo.text.mention_frame import mention_frame
    from geo.text.mentions import extract_mentions
    from geo.text.resolve import resolve

    warm = synthetic_article(2, seed=1, stops=stops)
    mention_frame(extract_mentions(warm), resolve(extract_mentions(warm), warm))
    text = synthetic_article(kb, stops=stops)
    out = {"kb": kb}
    t0 = time.process_time()
    mentions = extract_mentions(text)
    t1 = time.process_time()
    places = resolve(mentions, text)
    t2 = time.process_time()
    frame = mention_frame(mentions, places)
    t3 = time.process_time()
    out.update(recognise=t1 - t0, resolve=t2 - t1, quote=t3 - t2, mentions=len(mentions), places=len(frame),
               peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


#: Hostile inputs: name -> (file suffix, the unit repeated up to the size).
ADVERSARIAL = {
    "letters A": (".txt", "A"), "BakuBaku": (".txt", "Baku"), "A-A-": (".txt", "A-"), "Baku Baku": (".txt", "Baku "),
    "md [": (".md", "["), "md _a": (".md", "_a "), "md **a": (".md", "**a "), "md [a](": (".md", "[a]("),
    "html <a": (".html", "<a "), "html <!--": (".html", "<!--"), "html <": (".html", "<"),
}


def run_adversarial(name: str, kb: int) -> dict:
    """CPU seconds of the text passes on ``kb`` KB of one hostile input (in this process)."""
    import tempfile

    from geo.text.article import read_article
    from geo.text.infrastructure import find_infrastructure
    from geo.text.invisible import visible

    suffix, unit = ADVERSARIAL[name]
    data = (unit * (kb * 1000 // len(unit) + 1))[: kb * 1000]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"article{suffix}"
        path.write_text(data, encoding="utf-8")
        t0 = time.process_time()
        try:
            text = read_article(path)
        except Exception:  # noqa: BLE001 - an empty article (all markup) is refused: time the rest on the raw text
            text = data
        t1 = time.process_time()
        clean = visible(text).text
        find_infrastructure(clean)
        t2 = time.process_time()
    return {"kb": kb, "read": t1 - t0, "scan": t2 - t1,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def adversarial(sizes: list[int], only: list[str] | None) -> None:
    """Print ms per KB of the text passes for each hostile input at each size."""
    print(f"{'input':<12} {'KB':>6} {'read s':>8} {'scan s':>8} {'ms/KB':>8} {'peak MB':>8}")
    for name in only or list(ADVERSARIAL):
        for kb in sizes:
            cmd = [sys.executable, __file__, "--adversarial-one", name, str(kb)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO).stdout)
            total = r["read"] + r["scan"]
            print(f"{name:<12} {kb:>6} {r['read']:>8.2f} {r['scan']:>8.2f} {1000 * total / kb:>8.3f} "
                  f"{r['peak_mb']:>8.0f}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[10, 100, 1000, 5000], help="article sizes in KB")
    ap.add_argument("--no-stops", action="store_true", help="no full stops: one sentence per paragraph")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size, print JSON
    ap.add_argument("--adversarial", action="store_true", help="hostile inputs through the text passes "
                    "(default sizes 20 200 2000 KB)")
    ap.add_argument("--only", nargs="+", choices=list(ADVERSARIAL), help="with --adversarial: these inputs only")
    ap.add_argument("--adversarial-one", nargs=2, help=argparse.SUPPRESS)  # internal: one input and size
    args = ap.parse_args(argv)
    if args.adversarial_one:
        name, kb = args.adversarial_one
        print(json.dumps(run_adversarial(name, int(kb))))
        return 0
    if args.adversarial:
        adversarial(args.sizes if argv and "--sizes" in argv or "--sizes" in sys.argv else [20, 200, 2000], args.only)
        return 0
    if args.one:
        print(json.dumps(run_one(args.one, not args.no_stops)))
        return 0
    print(f"{'KB':>6} {'mentions':>9} {'recognise s':>12} {'resolve s':>10} {'quote s':>8} "
          f"{'ms/KB rec':>10} {'ms/KB res':>10} {'ms/KB quo':>10} {'ms/KB all':>10} {'peak MB':>8}")
    for kb in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(kb)] + (["--no-stops"] if args.no_stops else [])
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO).stdout)
        total = r["recognise"] + r["resolve"] + r["quote"]
        print(f"{kb:>6} {r['mentions']:>9} {r['recognise']:>12.2f} {r['resolve']:>10.2f} {r['quote']:>8.2f} "
              f"{1000 * r['recognise'] / kb:>10.2f} {1000 * r['resolve'] / kb:>10.2f} {1000 * r['quote'] / kb:>10.2f} "
              f"{1000 * total / kb:>10.2f} {r['peak_mb']:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
