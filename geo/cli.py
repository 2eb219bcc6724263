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
from pathlib import Path
from typing import TYPE_CHECKING

from . import files, progress, settings
from .errors import CorridorMapError, InputError

if TYPE_CHECKING:
    from .core.place import Place
    from .text.fixes import Fixes
    from .text.infra_places import Placement
    from .text.mentions import Mention

EXIT_USAGE = 2
#: ``geoparse`` of an archive finished, but some documents or shards were skipped (listed in errors.csv).
EXIT_PARTIAL = 3

#: Each command's examples, shown by ``corridormap COMMAND --help`` (and all of them by ``--help``).
EXAMPLES = {
    "build": """\
  corridormap build article.txt --out output/
        maps for an article; open output/index.html (offline: from the bundled OSM snapshot)
  corridormap build article.txt --osm-dir ../shared/osm --out output/
        the same, from a local OSM extract
  corridormap build article.txt --self-contained --out output/
        as single HTML files that work offline and in strict CMSs
  cat article.html | corridormap build - --embed --png
        the article from standard input; iframe snippets and PNG images too
  corridormap build article.txt --fixes fixes.toml
        with hand corrections (pin a mention to a GeoNames id or a point, or drop it)
""",
    "mentions": """\
  corridormap mentions article.txt
        the places found, with low-confidence and ambiguous picks marked
  corridormap mentions article.txt --format json
        the same as JSON records (span, sentence, place, score, flags)
  corridormap mentions article.txt --fixes fixes.toml
        with hand corrections applied
""",
    "layers": """\
  corridormap layers
        the layers, where their data comes from offline, and where layer files are read from
""",
    "snapshot": """\
  corridormap snapshot --out snap/ --osm-dir ../shared/osm
        save the layers' OSM data, to rebuild a map later with `build --snapshot snap/`
  corridormap snapshot --bundled --layer bam --osm-dir ../shared/osm --osm-date 2026-04
        rewrite the snapshot shipped in the package
""",
    "geoparse": """\
  corridormap geoparse corpus.jsonl --out toponyms.jsonl
        one JSON line of toponyms per document, in this process
  corridormap geoparse 'news/*.jsonl' --out parsed/ --workers 2
        an archive of shards on a local Dask cluster (reruns resume)
""",
    "gazetteer": """\
  corridormap gazetteer --countries RU,KZ,TM,AZ
        download the GeoNames dumps of these countries (every town, station, port, mine, district; CC BY 4.0)
        into the cache; the place finder uses them from then on
  corridormap gazetteer
        list the countries whose dump is cached
""",
    "atlas": """\
  corridormap atlas parsed/ --out atlas/
        aggregate a geoparsed archive and draw atlas/atlas.html
""",
}


def _examples(*commands: str) -> str:
    return "examples:\n" + "".join(EXAMPLES[c] for c in commands or EXAMPLES)


FIXES_HELP = """TOML corrections applied before drawing: [[fix]] entries with mention = "Georgia" and either
geonames_id = 614540, or lat = .. and lon = .., or drop = true"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corridormap",
        description="Turn news text about transport geopolitics into interactive, embeddable maps.",
        epilog=_examples("build", "mentions", "layers"), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version_line()}")
    _global_options(parser, False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _build_parser(sub)
    _other_parsers(sub)
    return parser


def _command(sub, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand with its own examples, accepting the global options after its name too."""
    child = sub.add_parser(name, epilog=_examples(name), formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
    _global_options(child, argparse.SUPPRESS)
    return child


def _build_parser(sub) -> None:
    """The ``build`` command's options."""
    build = _command(sub, "build", help="build the corridor maps (HTML + GeoJSON), with the article's places")
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



def _other_parsers(sub) -> None:
    """The options of ``mentions``, ``layers``, ``snapshot``, ``geoparse`` and ``atlas``."""
    mentions = _command(sub, "mentions", help="list the place mentions found in an article")
    mentions.add_argument("article", help="article file, or '-' for standard input")
    mentions.add_argument("--format", choices=["table", "json"], default="table")
    mentions.add_argument("--online-geocoding", action="store_true")
    mentions.add_argument("--fixes", metavar="PATH", help=FIXES_HELP)

    _command(sub, "layers", help="list the layers: the shipped ones and your own, and where their data comes from offline")

    snapshot = _command(sub, "snapshot", help="save the layers' OSM data (GeoPackage + manifest) to rebuild maps later; "
                              "layers with no data are left out with a warning unless named with --layer")
    snapshot.add_argument("--out", help="snapshot folder (replaced atomically)")
    snapshot.add_argument("--bundled", action="store_true",
                          help="rewrite the snapshot shipped in the package (geometry reduced for zoom 14; "
                               "layers without data are left out and listed)")
    snapshot.add_argument("--layer", action="append", dest="layers", metavar="ID", help="only this layer (repeatable)")
    snapshot.add_argument("--osm-dir", help="take the data from this local OSM extract")
    snapshot.add_argument("--osm-date", metavar="DATE",
                          help="date of the extract's OSM data (YYYY-MM-DD or YYYY-MM); needed with --bundled --osm-dir")
    snapshot.add_argument("--osm-date-note", default="", metavar="TEXT",
                          help="how that date is known (stored in the manifest)")
    snapshot.add_argument("--places", action="append", dest="places_dirs", metavar="DIR", default=[],
                          help="also store the named OSM station, port, crossing and settlement nodes of the "
                               "*.geojson files in DIR for the gazetteer (repeatable; needs --osm-date)")
    snapshot.add_argument("--offline", action="store_true", help="only from the cache of earlier live fetches")
    snapshot.add_argument("--refresh", action="store_true", help="fetch live data again even if the cache is fresh")
    _overpass_option(snapshot)

    geoparse = _command(sub, "geoparse", help="geoparse a JSON Lines file, or an archive of shards on Dask")
    geoparse.add_argument("input", nargs="+",
                          help="a JSON Lines file of {\"id\", \"text\"}; or a folder or glob of JSON Lines / Parquet "
                               "shards ({id, text, date?, url?, title?})")
    geoparse.add_argument("--out", required=True,
                          help="PRED.jsonl: one {\"id\", \"toponyms\"} line per document, in this process; "
                               "a folder: GeoParquet parts, one per shard, computed on Dask (reruns resume)")
    geoparse.add_argument("--workers", type=int, metavar="N",
                          help="local Dask cluster of N worker processes (default: one per core)")
    geoparse.add_argument("--scheduler", metavar="ADDRESS",
                          help="run on an existing Dask cluster (e.g. tcp://10.0.0.5:8786) instead of a local one")

    gaz = _command(sub, "gazetteer", help="download GeoNames country dumps (every populated place, station, port, "
                   "mine and district) for the place finder; list the cached ones")
    gaz.add_argument("--countries", metavar="CC,CC",
                     help="ISO 3166-1 alpha-2 codes, comma-separated (e.g. RU,KZ,TM); without it, list the cached dumps")
    gaz.add_argument("--network-budget", type=float, metavar="SECONDS",
                     help=f"network time of all the downloads (default: {settings.geonames_deadline_s:g} s per dump)")

    atlas = _command(sub, "atlas", help="aggregate geoparsed parts per place, corridor segment and month; draw the atlas")
    atlas.add_argument("parts", nargs="+", help="the folder written by `geoparse ... --out FOLDER` (or its parts)")
    atlas.add_argument("--out", required=True, help="folder for atlas.html and the aggregates (CSV and Parquet)")
    atlas.add_argument("--layer", action="append", dest="layers", metavar="ID", help="only this layer (repeatable)")
    atlas.add_argument("--osm-dir", help="route the corridors over this local OSM extract (default: schematic or cache)")
    atlas.add_argument("--snapshot", help="read OSM data from a snapshot folder written by `corridormap snapshot`")
    atlas.add_argument("--within-km", type=float, default=None,
                       help=f"a place counts for a corridor within this distance (default {settings.atlas_corridor_km:g})")
    atlas.add_argument("--tiles", choices=["light", "osm", "none"], default=None, help="base map (as for build)")


def _global_options(parser: argparse.ArgumentParser, default) -> None:
    """``--debug`` and ``--quiet``: on the main parser (``default`` False) and again on each subcommand
    (``default`` SUPPRESS, so an option given before the subcommand is not reset after it)."""
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks and debug logging")
    parser.add_argument("--quiet", action="store_true", default=default,
                        help="no progress messages on stderr (shown on a terminal, or with CORRIDORMAP_PROGRESS=1)")


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--osm-dir", help="read OSM data from this folder (GeoJSON, GeoPackage, .osm, .osm.pbf)")
    parser.add_argument("--snapshot", help="read OSM data from a snapshot folder written by `corridormap snapshot`")
    parser.add_argument("--offline", action="store_true",
                        help="never fetch live: use the cache, else the OSM snapshot bundled in the package "
                             f"({bundled_osm_date() or 'none'}), else draw schematically")
    parser.add_argument("--refresh", action="store_true",
                        help="fetch live OSM data again even if the cache is fresh (cached data expires after "
                             f"{settings.cache_max_age_days:g} days)")
    parser.add_argument("--network-budget", type=float, metavar="SECONDS",
                        help="network time of the whole build (default 120, env CORRIDORMAP_NETWORK_BUDGET_S); "
                             "when spent, the remaining layers come from the cache or the bundled snapshot, or are drawn schematically")
    _overpass_option(parser)


def _overpass_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overpass-url", action="append", metavar="URL",
                        help="Overpass API to fetch live from, e.g. http://localhost:12345/api (repeatable or a comma "
                             "list: tried in order when one is overloaded or down; default: env "
                             "CORRIDORMAP_OVERPASS_URL, else osmnx's overpass_url)")


def _source(args):
    """The data source the options name (:func:`geo.osm.source.data_source`); live fetches go to ``--overpass-url``
    (else ``CORRIDORMAP_OVERPASS_URL``, else osmnx's)."""
    from .osm.source import data_source

    return data_source(args.osm_dir, getattr(args, "snapshot", None), offline=args.offline, refresh=args.refresh,
                       endpoints=args.overpass_url or settings.overpass_url,
                       network_budget_s=getattr(args, "network_budget", None))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s: %(message)s")
    if not args.debug:  # Dask reports cluster start and stop at INFO and WARNING; the CLI reports failed shards itself
        logging.getLogger("distributed").setLevel(logging.ERROR)
    progress.enable(not args.quiet and args.command in ("build", "mentions", "snapshot", "gazetteer")
                    and (settings.progress_always or sys.stderr.isatty()))
    try:
        settings.check_environment()
        files.cache_root()  # private (0700) from the first command; a file there is an error
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
        print(f"corridormap: {interrupted_message(files.completed)}", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            raise
        print(f"corridormap: internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)",
              file=sys.stderr)
        return 1


def cmd_build(args: argparse.Namespace) -> int:
    """``corridormap build``: draw the maps of an article (or of the chosen layers); the exit status."""
    from .pipeline import build

    report = build(
        args.article, args.out, layer_ids=args.layers, all_layers=args.all_layers, layer_files=args.layer_files,
        source=_source(args), online_geocoding=args.online_geocoding, tiles=args.tiles,
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
        for line in report.not_drawn_lines:
            print(f"  {line}")
        for name, lists in report.not_drawn.items():
            if name != "index" and lists.get("outside"):
                print(f"  {name}.html: outside its extent: {', '.join(lists['outside'])}")
    for path in report.files:
        print(f"wrote {path}")
    for name, snippet in report.embeds.items():
        print(f"\nembed snippet for {name}.html (the iframe loads {name}.html from the same folder):\n{snippet}", end="")
    print(f"done in {report.seconds:.1f} s")
    for line in closing_lines(report.files, args.self_contained, offline=bool(getattr(args, "offline", False))):
        print(line)
    return 0


def closing_lines(written: list, self_contained: bool, offline: bool = False) -> list[str]:
    """What to open, and how to get an offline file (said first when the build itself ran offline)."""
    index = next((p for p in written if p.name == "index.html"), None)
    if index is None:
        return []
    lines = [f"open {index} in a browser (one map per layer beside it)"]
    if self_contained:
        lines.append("these HTML files are self-contained: they work offline and in CMSs that block outside scripts; "
                     "where map tiles do not load they show the Natural Earth base map")
    elif offline:
        lines.append("built offline, but these HTML files load Leaflet from a CDN: without a network they stay blank; "
                     "add --self-contained for files that open offline")
    else:
        lines.append("these HTML files load Leaflet from a CDN; add --self-contained for files that work offline")
    return lines


def cmd_mentions(args: argparse.Namespace) -> int:
    """``corridormap mentions``: list the places an article names and how each was resolved; the exit status."""
    from .pipeline import resolve_mentions
    from .text.article import read_article
    from .text.fixes import read_fixes

    text = read_article(args.article)
    fixes = read_fixes(args.fixes) if args.fixes else None
    mentions, places = resolve_mentions(text, online=args.online_geocoding, fixes=fixes)
    from .text.infra_places import placements

    placed = placements(mentions, places)
    rows = [mention_record(m, p, fixes, placed.get(k)) for k, (m, p) in enumerate(zip(mentions, places))]
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


def pick_flags(place: Place | None, fixes: Fixes | None = None, text: str = "") -> list[str]:
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


def mention_record(mention: Mention, place: Place | None, fixes: Fixes | None = None,
                   placement: Placement | None = None) -> dict:
    """One mention as the JSON record of ``corridormap mentions --format json``.

    Named infrastructure placed without a layer (``placement``, :class:`geo.text.infra_places.Placement`)
    also says how (``placed``: ``line``, ``point`` or ``named``) and from which places (``ends``: for a
    line or a point its resolved ends, for ``named`` the place its name names).
    """
    record = {
        "text": mention.text, "start": mention.start, "end": mention.end, "sentence": mention.sentence,
        "name": place.name if place else None, "country": place.country if place else None,
        "lat": round(place.lat, 5) if place else None, "lon": round(place.lon, 5) if place else None,
        "geonames_id": place.geonames_id if place else None,
        "score": round(float(place.score), 3) if place else None,
        "flags": pick_flags(place, fixes, mention.text),
    }
    if placement is not None:
        record["placed"] = placement.how.lower()
        record["ends"] = [{"text": text, "name": p.name, "country": p.country, "lat": round(p.lat, 5),
                           "lon": round(p.lon, 5)} for text, p in placement.ends]
    return record


def interrupted_message(completed: list) -> str:
    """What Ctrl-C left: nothing written (every output folder keeps its previous files), or which
    output folders were already swapped in whole (:data:`geo.files.completed`)."""
    if not completed:
        return "interrupted before any file was written; the output folder keeps its previous files"
    done = ", ".join(str(p) for p in dict.fromkeys(completed))
    return f"interrupted; the files in {done} are complete (written before the interruption), nothing else was written"


def version() -> str:
    """The package's version (``geo.__version__``, the one place it is set; the build reads it too)."""
    from . import __version__

    return __version__


def _bundled_manifest() -> dict:
    """The bundled snapshot's manifest, read without checks (empty when there is none)."""
    folder = settings.bundled_snapshot_dir
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8")) if folder else {}
    except (OSError, ValueError):
        return {}


def bundled_osm_date() -> str:
    """The OSM data date of the bundled snapshot ("" when none ships)."""
    manifest = _bundled_manifest()
    return str((manifest.get("osm_date") or {}).get("date") or manifest.get("osm_timestamp") or "")


def version_line() -> str:
    """``--version``: the version and the bundled OSM snapshot's date."""
    date = bundled_osm_date()
    return f"{version()} (bundled OSM snapshot: {'data as of ' + date if date else 'none'})"


def offline_source(layer_id: str, manifest: dict) -> str:
    """Where a layer's data comes from offline with no extract or cache: the bundled snapshot, or schematic."""
    entry = (manifest.get("layers") or {}).get(layer_id)
    if entry:
        return f"bundled OSM {entry.get('osm_timestamp') or bundled_osm_date() or 'undated'}"
    return "schematic"


def cmd_layers(args: argparse.Namespace) -> int:
    """``corridormap layers``: list the layer files; the exit status."""
    from .core.kinds import kind_of
    from .core.layers import layer_files, read_layer

    manifest = _bundled_manifest()
    user = Path(settings.user_layers_dir)
    rows = []
    for path in layer_files():
        layer = read_layer(path)
        count = kind_of(layer).size(layer)
        offline = offline_source(layer.id, manifest) + (" (your file)" if path.parent == user else "")
        rows.append((layer.id, layer.kind, count, offline, layer.title, layer.subtitle))
    header = ("id", "kind", "size", "offline data", "title")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row[:4], widths)) + "  " + row[4])
        if len(row) > 5 and row[5]:
            print(" " * (sum(widths) + 8) + row[5])
    print(f"(layer files in {settings.layers_dir}; your own in {user}"
          f"{'' if user.is_dir() else ', not created yet'}; offline data: the bundled OSM snapshot, else schematic)")
    return 0


def cmd_geoparse(args: argparse.Namespace) -> int:
    """``corridormap geoparse``: geoparse a JSON Lines file or an archive; the exit status."""
    from .archive.parse import geoparse_archive
    from .text.geoparse import geoparse_jsonl

    if args.out.endswith(".jsonl"):
        if len(args.input) != 1 or not args.input[0].endswith(".jsonl") or args.workers or args.scheduler:
            raise InputError("--out FILE.jsonl geoparses one JSON Lines file in this process; for a folder or glob "
                             "of shards (or --workers/--scheduler) give --out a folder")
        skipped: list[str] = []
        count = geoparse_jsonl(args.input[0], args.out, progress=True, errors=skipped)
        for message in skipped:
            print(f"corridormap: warning: {message}", file=sys.stderr)
        print(f"geoparsed {count} documents into {args.out}" + (f"; {len(skipped)} skipped" if skipped else ""))
        if skipped:
            print(f"corridormap: error: {len(skipped)} documents of {args.input[0]} were skipped (see above); the "
                  f"others are in {args.out}", file=sys.stderr)
            return EXIT_USAGE
        return 0
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: give at least 1")
    report = geoparse_archive(args.input, args.out, workers=args.workers, scheduler=args.scheduler,
                              echo=lambda line: print(line, flush=True))
    if report.skipped:
        print(f"{len(report.skipped)} of {report.shards} shards were finished by an earlier run (kept)")
    for shard, reason in report.failed.items():
        print(f"corridormap: warning: shard {shard} failed ({reason}); rerun to retry it", file=sys.stderr)
    print(f"{report.documents} documents, {report.toponyms} toponyms in {report.out_dir} "
          f"({len(report.computed)} shards geoparsed in {report.seconds:.1f} s)")
    if report.complete:
        return 0
    failed = f" and {len(report.failed)} shards failed" if report.failed else ""
    print(f"corridormap: warning: {report.errors} documents skipped{failed}: see {report.errors_path}", file=sys.stderr)
    return EXIT_PARTIAL


def cmd_atlas(args: argparse.Namespace) -> int:
    """``corridormap atlas``: draw an archive's atlas; the exit status."""
    from .archive.atlas import atlas

    result = atlas(args.parts, args.out, layer_ids=args.layers, osm_dir=args.osm_dir, snapshot_dir=args.snapshot,
                   within_km=args.within_km, tiles=args.tiles)
    for warning in result.warnings:
        print(f"corridormap: warning: {warning}", file=sys.stderr)
    print(f"{int(result.places['mentions'].sum())} mentions of {len(result.places)} places"
          + (f" over {result.place_months['month'].nunique()} months" if len(result.place_months) else " (undated)"))
    for path in result.files:
        print(f"wrote {path}")
    return 0


def cmd_gazetteer(args: argparse.Namespace) -> int:
    """``corridormap gazetteer``: fetch or list GeoNames dumps; the exit status."""
    import time

    from .osm.budget import budget_seconds
    from .text import geonames_dumps, geonames_fetch

    if not args.countries:
        cached = geonames_dumps.cached_countries()
        for country in cached:
            path = geonames_dumps.dump_path(country)
            print(f"{country}  {path}  {path.stat().st_size:,} bytes")
        print(f"{len(cached)} GeoNames country dumps cached in {geonames_dumps.dumps_dir()}"
              + ("" if cached else "; add some with --countries RU,KZ"))
        return 0
    deadline = None if args.network_budget is None else time.monotonic() + budget_seconds(args.network_budget)
    for fetched in geonames_fetch.fetch_gazetteer(args.countries, deadline):
        print(f"{fetched.country}: {fetched.rows:,} places, stations, ports, mines and districts "
              f"({fetched.bytes:,} bytes) cached in {fetched.path}")
    print("the place finder uses them from now on (GeoNames, CC BY 4.0: https://www.geonames.org/)")
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    """``corridormap snapshot``: write (and check) an OSM snapshot; the exit status."""
    from .core.layers import list_layers
    from .errors import InputError
    from .osm.bundle import check_bundled
    from .osm.snapshot import read_manifest
    from .osm.source import snapshot_layers

    if args.bundled == bool(args.out):
        raise InputError("snapshot: give either --out DIR or --bundled")
    if args.bundled and args.osm_dir and not args.osm_date:
        raise InputError("snapshot --bundled --osm-dir: give --osm-date, the date of the extract's OSM data "
                         "(the bundled snapshot is dated)")
    out = args.out
    if args.bundled:
        if settings.bundled_snapshot_dir is None:
            raise InputError("snapshot --bundled: CORRIDORMAP_BUNDLED_SNAPSHOT is empty; set it to the folder to write")
        out = settings.bundled_snapshot_dir
    source = _source(args)
    layer_ids = args.layers or [layer.id for layer in list_layers()]
    folder = snapshot_layers(
        layer_ids, out, source=source, zoom=settings.bundled_zoom if args.bundled else None, osm_date=args.osm_date,
        osm_date_note=args.osm_date_note, skip_missing=args.bundled or not args.layers,
        places_dirs=args.places_dirs,
    )
    manifest = read_manifest(folder)
    size_kb = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1024
    print(f"wrote snapshot {folder} ({', '.join(sorted(manifest['layers']))}; {size_kb:,.0f} kB)")
    if manifest.get("places"):
        print(f"with {manifest['places']['rows']:,} named OSM place nodes ({manifest['places']['bytes']:,} bytes)")
    for layer_id, why in manifest.get("left_out", {}).items():
        print(f"corridormap: warning: {layer_id} left out: {why}", file=sys.stderr)
    if args.bundled:
        for problem in check_bundled(folder):
            print(f"corridormap: error: {problem}", file=sys.stderr)
            return EXIT_USAGE
        print("builds use it when no extract, cache or live fetch has a layer's data")
    else:
        print(f"rebuild with: corridormap build ARTICLE --snapshot {folder}")
    return 0


COMMANDS = {"snapshot": cmd_snapshot, "build": cmd_build, "mentions": cmd_mentions, "layers": cmd_layers, "geoparse": cmd_geoparse,
            "atlas": cmd_atlas, "gazetteer": cmd_gazetteer}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
