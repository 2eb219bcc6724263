"""The ``corridormap`` command line.

Every user-facing error is one line on stderr and exit code 2; no tracebacks
(``--debug`` shows them).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import progress, settings
from .errors import CorridorMapError

EXIT_USAGE = 2

EXAMPLES = """examples:
  corridormap build article.txt --osm-dir ../shared/osm --out output/
        maps for an article, from a local OSM extract; open output/index.html
  corridormap build article.txt --self-contained --out output/
        the same, as single HTML files that work offline and in strict CMSs
  cat article.html | corridormap build - --embed --png
        the article from standard input; iframe snippets and PNG images too
  corridormap mentions article.txt
        the places found, with low-confidence and ambiguous picks marked
  corridormap build article.txt --fixes fixes.toml
        with hand corrections (pin a mention to a GeoNames id or a point, or drop it)
"""

FIXES_HELP = """TOML corrections applied before drawing: [[fix]] entries with mention = "Georgia" and either
geonames_id = 614540, or lat = .. and lon = .., or drop = true"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corridormap",
        description="Turn news text about transport geopolitics into interactive, embeddable maps.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress messages on stderr (shown on a terminal, or with CORRIDORMAP_PROGRESS=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="build the corridor maps (HTML + GeoJSON), with the article's places",
                           epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("article", nargs="?",
                       help="article file (text, Markdown or HTML), '-' for standard input; omit for the corridors alone")
    build.add_argument("--out", default="output", help="output folder (default: output/)")
    build.add_argument("--layer", action="append", dest="layers", metavar="ID",
                       help="build this layer whatever the article names (repeatable; see `corridormap layers`); "
                            "default: the layers the article is about")
    build.add_argument("--all-layers", action="store_true", help="build every layer in layers/")
    build.add_argument("--layer-file", action="append", dest="layer_files", metavar="PATH", default=[],
                       help="also build the layer described by this TOML file (same format as layers/*.toml; repeatable)")
    _source_options(build)
    build.add_argument("--tiles", choices=["light", "osm", "none"], default=None,
                       help="base map: light (Esri light grey, default), osm (OpenStreetMap); 'none' draws Natural Earth country outlines with no tile server")
    build.add_argument("--online-geocoding", action="store_true",
                       help="ask Nominatim (1 request/s, cached) for names the offline gazetteer lacks")
    build.add_argument("--embed", action="store_true",
                       help="also print and write <map>.embed.html: a responsive iframe snippet with a text alternative")
    build.add_argument("--self-contained", action="store_true",
                       help="inline every JavaScript and CSS asset (works offline and in CMSs that block third-party scripts)")
    build.add_argument("--png", action="store_true",
                       help="also write a PNG image of each map (needs headless Chromium; without map tiles it "
                            "uses the offline base map)")
    build.add_argument("--fixes", metavar="PATH", help=FIXES_HELP)

    mentions = sub.add_parser("mentions", help="list the place mentions found in an article",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    mentions.add_argument("article", help="article file, or '-' for standard input")
    mentions.add_argument("--format", choices=["table", "json"], default="table")
    mentions.add_argument("--online-geocoding", action="store_true")
    mentions.add_argument("--fixes", metavar="PATH", help=FIXES_HELP)

    sub.add_parser("layers", help="list the layer definitions in layers/")

    snapshot = sub.add_parser("snapshot", help="save every layer's OSM data (GeoPackage + manifest) to rebuild maps later")
    snapshot.add_argument("--out", required=True, help="snapshot folder (replaced atomically)")
    snapshot.add_argument("--layer", action="append", dest="layers", metavar="ID", help="only this layer (repeatable)")
    snapshot.add_argument("--osm-dir", help="take the data from this local OSM extract")
    snapshot.add_argument("--offline", action="store_true", help="only from the cache of earlier live fetches")
    _overpass_option(snapshot)

    geoparse = sub.add_parser("geoparse", help="geoparse a JSON Lines file of {id, text} documents")
    geoparse.add_argument("input", help="JSON Lines, one {\"id\", \"text\"} object per line")
    geoparse.add_argument("--out", required=True, help="JSON Lines of {\"id\", \"toponyms\"} per document")
    return parser


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--osm-dir", help="read OSM data from this folder (GeoJSON, GeoPackage, .osm, .osm.pbf)")
    parser.add_argument("--snapshot", help="read OSM data from a snapshot folder written by `corridormap snapshot`")
    parser.add_argument("--offline", action="store_true",
                        help="never fetch live: use the cache, else draw schematically")
    parser.add_argument("--network-budget", type=float, metavar="SECONDS",
                        help="network time of the whole build (default 120, env CORRIDORMAP_NETWORK_BUDGET_S); "
                             "when spent, the remaining layers come from the cache or are drawn schematically")
    _overpass_option(parser)


def _overpass_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overpass-url", action="append", metavar="URL",
                        help="Overpass API to fetch live from, e.g. http://localhost:12345/api (repeatable or a comma "
                             "list: tried in order when one is overloaded or down; default: env "
                             "CORRIDORMAP_OVERPASS_URL, else osmnx's overpass_url)")


def _use_overpass(args) -> None:
    """Point live fetches at ``--overpass-url`` (else ``CORRIDORMAP_OVERPASS_URL``), osmnx included."""
    urls = args.overpass_url or settings.overpass_url
    if urls:
        from .osm.overpass_http import use_overpass

        use_overpass(urls)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s: %(message)s")
    progress.enable(not args.quiet and args.command in ("build", "mentions", "snapshot")
                    and (settings.progress_always or sys.stderr.isatty()))
    try:
        return COMMANDS[args.command](args)
    except CorridorMapError as exc:
        print(f"corridormap: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`corridormap mentions ... | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("corridormap: interrupted; files already written are complete, the rest were not written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            raise
        print(f"corridormap: internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)",
              file=sys.stderr)
        return 1


def cmd_build(args) -> int:
    from .maps.coverage import summary_lines
    from .pipeline import build

    _use_overpass(args)
    report = build(
        args.article, args.out, layer_ids=args.layers, all_layers=args.all_layers, layer_files=args.layer_files,
        osm_dir=args.osm_dir, snapshot_dir=args.snapshot, offline=args.offline, network_budget_s=args.network_budget,
        online_geocoding=args.online_geocoding, tiles=args.tiles,
        embed=args.embed, self_contained=args.self_contained, png=args.png, fixes=args.fixes,
    )
    for warning in report.warnings:
        print(f"corridormap: warning: {warning}", file=sys.stderr)
    if args.article is not None:
        print(f"{report.n_mentions} mentions of {report.n_places} places"
              + ("" if report.n_places else " (no places found)"))
    for layer_id, source in report.sources.items():
        why = report.chosen.get(layer_id)
        print(f"{layer_id}: {source} ({report.details[layer_id]})" + (f"; drawn because: {why}" if why else ""))
    if args.article is not None:
        print("not drawn as a point on the maps:" if report.not_drawn.get("index") else "every place is on the maps")
        for line in summary_lines(report.not_drawn.get("index", {})):
            print(f"  {line}")
        for name, lists in report.not_drawn.items():
            if name != "index" and lists.get("outside"):
                print(f"  {name}.html: outside its extent: {', '.join(lists['outside'])}")
    for path in report.files:
        print(f"wrote {path}")
    for name, snippet in report.embeds.items():
        print(f"\nembed snippet for {name}.html (the iframe loads {name}.html from the same folder):\n{snippet}", end="")
    print(f"done in {report.seconds:.1f} s")
    for line in closing_lines(report.files, args.self_contained):
        print(line)
    return 0


def closing_lines(written: list, self_contained: bool) -> list[str]:
    """What to open, and how to get an offline file."""
    index = next((p for p in written if p.name == "index.html"), None)
    if index is None:
        return []
    lines = [f"open {index} in a browser (one map per layer beside it)"]
    if self_contained:
        lines.append("these HTML files are self-contained: they work offline and in CMSs that block outside scripts")
    else:
        lines.append("these HTML files load Leaflet from a CDN; add --self-contained for files that work offline")
    return lines


def cmd_mentions(args) -> int:
    from .pipeline import resolve_mentions
    from .text.article import read_article
    from .text.fixes import read_fixes

    text = read_article(args.article)
    fixes = read_fixes(args.fixes) if args.fixes else None
    mentions, places = resolve_mentions(text, online=args.online_geocoding, fixes=fixes)
    rows = [mention_record(m, p, fixes) for m, p in zip(mentions, places)]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    header = f"{'mention':<28} {'span':>11}  {'resolved place':<26} {'cc':<3} {'lat':>8} {'lon':>9}  score  check"
    print(header)
    print("-" * len(header))
    for r in rows:
        lat = f"{r['lat']:8.3f}" if r["lat"] is not None else f"{'—':>8}"
        lon = f"{r['lon']:9.3f}" if r["lon"] is not None else f"{'—':>9}"
        score = f"{r['score']:.3f}" if r["score"] is not None else "—"
        print(f"{r['text'][:28]:<28} {r['start']:>5}-{r['end']:<5}  {(r['name'] or 'unresolved')[:26]:<26} "
              f"{(r['country'] or ''):<3} {lat} {lon}  {score:<5}  {', '.join(r['flags'])}")
    flagged = sum(bool(set(r["flags"]) & {"low confidence", "ambiguous"}) for r in rows)
    print(f"{len(rows)} mentions, {sum(r['lat'] is not None for r in rows)} resolved, {flagged} to check "
          "(low confidence or ambiguous: fix them with --fixes)")
    return 0


def pick_flags(place, fixes=None, text: str = "") -> list[str]:
    """Why a reader should check a pick: ``set by hand``, ``unresolved``, ``low confidence``, ``ambiguous``.

    Low confidence: score under :data:`geo.settings.low_confidence`. Ambiguous: another candidate
    scored within :data:`geo.settings.ambiguous_margin` of the pick.
    """
    if fixes and fixes.set_by_hand([text]):
        return ["set by hand"]
    if place is None:
        return ["unresolved"]
    flags = []
    if float(place.score) < settings.low_confidence:
        flags.append("low confidence")
    rivals = [c for c in (place.candidates or ()) if len(c) >= 5 and (c[0], c[1]) != (place.name, place.country)]
    if any(float(place.score) - float(c[4]) <= settings.ambiguous_margin for c in rivals):
        flags.append("ambiguous")
    return flags


def mention_record(mention, place, fixes=None) -> dict:
    """One mention as the JSON record of ``corridormap mentions --format json``."""
    return {
        "text": mention.text, "start": mention.start, "end": mention.end, "sentence": mention.sentence,
        "name": place.name if place else None, "country": place.country if place else None,
        "lat": round(place.lat, 5) if place else None, "lon": round(place.lon, 5) if place else None,
        "geonames_id": place.geonames_id if place else None,
        "score": round(float(place.score), 3) if place else None,
        "flags": pick_flags(place, fixes, mention.text),
    }


def version() -> str:
    """The installed package's version (the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("corridormap")
    except PackageNotFoundError:
        return "0.1.0 (source tree)"


def cmd_layers(args) -> int:
    from .corridors.layers import list_layers

    for layer in list_layers():
        count = f"{len(layer.stations)} stations" if layer.kind == "corridor" else f"{len(layer.crossings)} crossings"
        print(f"{layer.id:<14} {layer.kind:<9} {count:<13} {layer.title}")
        if layer.subtitle:
            print(f"{'':<38}{layer.subtitle}")
    print(f"(layer files in {settings.layers_dir})")
    return 0


def cmd_geoparse(args) -> int:
    from .text.geoparse import geoparse_jsonl

    count = geoparse_jsonl(args.input, args.out, progress=True)
    print(f"geoparsed {count} documents into {args.out}")
    return 0


def cmd_snapshot(args) -> int:
    from .corridors.layers import list_layers
    from .osm.snapshot import read_manifest
    from .osm.sources import snapshot_layers

    _use_overpass(args)
    layer_ids = args.layers or [layer.id for layer in list_layers()]
    folder = snapshot_layers(layer_ids, args.out, osm_dir=args.osm_dir, offline=args.offline)
    manifest = read_manifest(folder)
    print(f"wrote snapshot {folder} ({', '.join(layer_ids)})")
    print(f"rebuild with: corridormap build ARTICLE --snapshot {folder}")
    return 0 if manifest else 1


COMMANDS = {"snapshot": cmd_snapshot, "build": cmd_build, "mentions": cmd_mentions, "layers": cmd_layers, "geoparse": cmd_geoparse}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
