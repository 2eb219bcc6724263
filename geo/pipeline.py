"""The whole job: article -> mentions -> places -> layers -> maps and GeoJSON files.

I/O happens here and in the readers; the steps in between are pure functions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd

from . import files, progress, settings
from .corridors.build import LayerResult, build_layer, build_layers, layer_cache_key, named_route_result
from .corridors.choose import choose_layers
from .core.layers import Layer, list_layers, load_layer, read_layer
from .corridors.relate import relate
from .errors import DataError, NetworkError, QueryError
from .export import concat, layer_features, to_geojson
from .maps.bounds import layer_bounds, places_in
from .maps import assets
from .maps.coverage import not_drawn
from .maps.draw import build_map
from .maps.naming import with_article_names
from .maps.legend import describe, embed_snippet
from .maps.page import render_html
from .osm.budget import budget_seconds, network_budget
from .osm.sources import check_sources
from .text.article import read_article
from .text.fixes import Fixes, read_fixes
from .text.mention_frame import mention_frame
from .text.mentions import Mention, extract_mentions
from .core.names import fold
from .text.resolve import resolve

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build wrote and where each layer's data came from."""

    files: list[Path] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    n_mentions: int = 0
    n_places: int = 0
    seconds: float = 0.0
    #: ``--embed``: map name -> iframe snippet (also written to ``<name>.embed.html``).
    embeds: dict[str, str] = field(default_factory=dict)
    #: Layer id -> why it was drawn ("named in the article", "chosen with --layer", ...).
    chosen: dict[str, str] = field(default_factory=dict)
    #: Map name -> the article's mentions it draws no marker for, by reason (:func:`geo.maps.coverage.not_drawn`).
    not_drawn: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def article_places(text: str, *, online: bool = False, overrides: dict | None = None,
                   fixes: Fixes | None = None) -> tuple[list, gpd.GeoDataFrame]:
    """Extract and resolve the place mentions of ``text``.

    Parameters
    ----------
    fixes : Fixes, optional
        Corrections (``--fixes``): dropped mentions go, pinned ones are placed as told and
        marked ``set_by_hand``.

    Returns
    -------
    (mentions, places)
        The mentions (list of geo.text.mentions.Mention) and one GeoDataFrame row per
        resolved place (see :func:`geo.text.mention_frame.mention_frame`).
    """
    mentions, resolved = resolve_mentions(text, online=online, overrides=overrides, fixes=fixes)
    return mentions, place_frame(mentions, resolved, fixes)


def place_frame(mentions: list, resolved: list, fixes: Fixes | None = None) -> gpd.GeoDataFrame:
    """:func:`geo.text.mention_frame.mention_frame`, with ``set_by_hand`` when corrections were applied."""
    frame = mention_frame(mentions, resolved)
    if fixes and len(frame):
        frame["set_by_hand"] = [fixes.set_by_hand(texts) for texts in frame["texts"]]
    return frame


def text_layers(layer_files: Sequence[str | Path]) -> list[Layer] | None:
    """The corridor vocabulary of a build's text work: the layer folder's layers and those given with
    ``--layer-file`` (which replace a folder layer of the same id); None when no file is given."""
    if not layer_files:
        return None
    extra = [read_layer(Path(p)) for p in layer_files]
    ids = {layer.id for layer in extra}
    return [layer for layer in list_layers() if layer.id not in ids] + extra


def resolve_mentions(text: str, *, online: bool = False, overrides: dict | None = None,
                     fixes: Fixes | None = None, layers: Sequence[Layer] | None = None) -> tuple[list, list]:
    """(mentions, places): the article's mentions, corrections applied, and one Place (or None) each.

    ``layers`` is the corridor vocabulary to find and place names with (default: the layer folder's).
    """
    progress.step("finding the places the article names (loads the language model)")
    mentions = extract_mentions(text, layers)
    if fixes:
        mentions = fixes.keep(mentions)
        overrides = {**fixes.pins, **(overrides or {})}
    from .text import gazetteer

    if not gazetteer.cache_file(layers).is_file():
        progress.step("building the place-name gazetteer (first run only, about half a minute)")
    progress.step(f"resolving {len(mentions)} mentions")
    return mentions, resolve(mentions, text, online=online, overrides=overrides, layers=layers)


#: Infrastructure names worth a search for an OSM route relation (a line, not a bridge or checkpoint).
_LINE_WORDS = ("railway", "railroad", "rail link", "line", "mainline", "main line", "magistral", "corridor", "route",
               "section")


def unlayered_infrastructure(mentions: list[Mention], resolved: list) -> list[str]:
    """Names of the infrastructure the article names that no layer describes, first spelling of each."""
    seen: dict[str, str] = {}
    for m, p in zip(mentions, resolved):
        if m.label == "INFRA" and not m.layer_id and (p is None or (p.feature_class == "INFRA" and not p.layer_id)):
            seen.setdefault(fold(m.text), m.text)
    return list(seen.values())


def fetch_unlayered(names: list[str], *, online: bool) -> tuple[list[LayerResult], dict[str, str], list[str]]:
    """Draw railways the article names without a layer from OSM route relations (online only).

    Returns
    -------
    (results, reasons, warnings)
        A layer per relation found; for each name not drawn, why; warnings for stderr.
    """
    from .osm.fetch import fetch_named_route

    results, reasons, warnings = [], {}, []
    for name in names:
        if not any(w in fold(name) for w in _LINE_WORDS):
            reasons[name] = "no layer file for it"
            continue
        if not online:
            reasons[name] = "no layer file for it; offline, so not fetched from OSM"
            warnings.append(f"the article names {name!r}, which has no layer: not drawn (offline, or built from "
                            "--osm-dir/--snapshot; build online to fetch its OSM route relation, or add a layer file)")
            continue
        try:
            found = fetch_named_route(name)
        except (NetworkError, QueryError, DataError) as exc:  # DataError: a malformed answer, not cached
            reasons[name] = "no layer file for it; the OSM fetch failed"
            warnings.append(f"the article names {name!r}, which has no layer, and its OSM fetch failed: {exc.message}")
            online = False
            continue
        if found is None:
            reasons[name] = "no layer file for it and no OSM route relation of that name"
            warnings.append(f"the article names {name!r}: no layer file and no OSM route relation of that name; not drawn")
            continue
        results.append(named_route_result(name, *found))
    return results, reasons, warnings


def border_talk(mentions: list[Mention], resolved: list) -> list[set[str]]:
    """For each sentence that says "border", the countries it names (ISO codes of country mentions)."""
    by_sentence: dict[str, set[str]] = {}
    for m, p in zip(mentions, resolved):
        if p is not None and p.feature_code in ("PCLI", "PCLH") and p.country and "border" in m.sentence.lower():
            by_sentence.setdefault(m.sentence, set()).add(p.country)
    return list(by_sentence.values())


def pick_layers(text: str | None, mentions: list[Mention], resolved: list, place_rows, *, layer_ids=None,
                layer_files=(), all_layers: bool = False) -> tuple[list[Layer], dict[str, str], list[str]]:
    """The layers to draw and why: by hand (``layer_ids``), all, or the ones the article is about.

    Returns
    -------
    (layers, reasons, warnings)
    """
    extra = [read_layer(Path(p)) for p in layer_files]
    reasons = {layer.id: "given with --layer-file" for layer in extra}
    if layer_ids:
        chosen = [load_layer(i) for i in layer_ids]
        return chosen + extra, {**{layer.id: "chosen with --layer" for layer in chosen}, **reasons}, []
    every = list_layers() + extra
    if all_layers or text is None:
        why = "--all-layers" if all_layers else "no article: every layer"
        return every, {layer.id: reasons.get(layer.id, why) for layer in every}, []
    picked = choose_layers(every, {m.layer_id for m in mentions if m.layer_id}, place_rows, border_talk(mentions, resolved))
    picked.update(reasons)
    if not picked:
        warning = ("the article names no corridor and no corridor has several of its places: drawing every layer "
                   "(choose with --layer ID)")
        return every, {layer.id: "the article is about no layer in particular" for layer in every}, [warning]
    return [layer for layer in every if layer.id in picked], picked, []


def build(
    article_path: str | Path | None = None,
    out_dir: str | Path = "output",
    *,
    layer_ids: list[str] | None = None,
    all_layers: bool = False,
    layer_files: list[str | Path] | None = None,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    offline: bool = False,
    refresh: bool = False,
    network_budget_s: float | None = None,
    online_geocoding: bool = False,
    tiles: str | None = None,
    embed: bool = False,
    self_contained: bool = False,
    png: bool = False,
    fixes: str | Path | Fixes | None = None,
) -> BuildReport:
    """Build one map per chosen layer plus ``index.html`` with all of them, and GeoJSON beside each.

    The article picks the layers: those it names (by title or alias, or a crossing's name) and
    those on which ``settings.layer_min_places`` of its places lie; every layer when it names
    none. A railway it names that has no layer is fetched from OSM by name when online. Every
    map lists the article's mentions it does not draw as a marker, and why.

    All inputs are read and validated before anything is written. The files are
    written into a folder beside ``out_dir`` and swapped in together under a lock
    (:func:`geo.files.staged_dir`): ``out_dir`` holds this build's files or the
    previous ones, never a mix, whatever interrupts the build.

    Parameters
    ----------
    article_path : path, optional
        The article (text, Markdown or HTML). Without it, the corridor maps alone (every layer).
    out_dir : path
    layer_ids : list of str, optional
        Draw these layers (ids in ``layers/``) whatever the article says.
    all_layers : bool
        Draw every layer.
    layer_files : list of path, optional
        Layer files outside ``layers/`` (same format), drawn in addition.
    osm_dir, snapshot_dir, offline, refresh :
        Data source options (see :func:`geo.osm.sources.get_layer_data`).
    network_budget_s : float, optional
        Network time of the whole build (default ``settings.network_budget_s``);
        when spent, the remaining layers come from the cache or the bundled snapshot, or are drawn schematically.
    online_geocoding : bool
        Ask Nominatim for names the offline gazetteer lacks.
    tiles : str, optional
        Base map (``light``, ``osm`` or ``none``).
    embed : bool
        Also write ``<name>.embed.html``: a responsive iframe snippet with a text alternative.
    self_contained : bool
        Inline every JavaScript and CSS asset (works offline and in CMSs that block third-party scripts).
    png : bool
        Also write ``<name>.png`` of each map (headless Chromium, see :mod:`geo.maps.png`); when no
        tile loads, the image is drawn on the offline base map, with a warning.
    fixes : path or Fixes, optional
        Corrections file (see :mod:`geo.text.fixes`).
    """
    if png:
        from .maps.png import chromium_path, render_pngs

        chromium_path()  # fail before any work when Chromium is missing
    start = time.perf_counter()
    settings.check_environment()
    text = read_article(article_path) if article_path is not None else None
    network_budget_s = budget_seconds(settings.network_budget_s if network_budget_s is None else network_budget_s)
    list_layers()  # every layer file is checked before the article is parsed
    check_sources([], osm_dir, snapshot_dir)
    files.check_output_dir(out_dir)
    if fixes is not None and not isinstance(fixes, Fixes):
        fixes = read_fixes(fixes)
    # The same inputs as this process's last build (a notebook cell run again) give the same files. Only
    # when nothing is fetched live (--osm-dir, --snapshot or --offline) and every layer's data is known.
    source_options = dict(osm_dir=osm_dir, snapshot_dir=snapshot_dir, offline=offline)
    memo_key = None
    if not (png or online_geocoding or fixes or refresh) and (osm_dir is not None or snapshot_dir is not None
                                                              or offline):
        candidates = ([load_layer(i) for i in layer_ids] if layer_ids else list_layers())
        candidates += [read_layer(Path(p)) for p in layer_files or ()]
        memo_key = _inputs_key(text, candidates, source_options, layer_ids, all_layers, tiles, embed, self_contained)
    if memo_key is not None and memo_key in _recent:
        return _replay(_recent[memo_key], out_dir, start)
    mentions: list[Mention] = []
    resolved: list = []
    place_rows = None
    if text is not None:
        mentions, resolved = resolve_mentions(text, online=online_geocoding, fixes=fixes,
                                              layers=text_layers(layer_files or ()))
        place_rows = place_frame(mentions, resolved, fixes)
    layers, chosen, warnings = pick_layers(text, mentions, resolved, place_rows, layer_ids=layer_ids,
                                           layer_files=layer_files or (), all_layers=all_layers)
    check_sources([layer.id for layer in layers], osm_dir, snapshot_dir)
    report = BuildReport(chosen=chosen, warnings=warnings)
    if text is not None:
        report.n_mentions, report.n_places = len(mentions), len(place_rows)
    with network_budget(network_budget_s):  # one budget for the layers and the routes named in the article
        results = build_layers(layers, osm_dir=osm_dir, snapshot_dir=snapshot_dir, offline=offline, refresh=refresh)
        live = not offline and osm_dir is None and snapshot_dir is None and not any(r.network_failed for r in results)
        routes, unlayered, route_warnings = fetch_unlayered(unlayered_infrastructure(mentions, resolved), online=live)
    report.warnings += route_warnings
    for r in routes:
        report.chosen[r.layer.id] = "named in the article; drawn from its OSM route relation"
    results += routes
    unresolved = [m.text for m, p in zip(mentions, resolved) if p is None]
    unresolved += [name for name in unlayered if name not in unresolved]
    if place_rows is not None:
        place_rows = with_article_names(relate(place_rows, results), results)
    note = "" if place_rows is None or len(place_rows) else "No places found in the article."
    progress.step("drawing the maps")
    maps: dict[str, tuple[list, str, str]] = {r.layer.id: ([r], r.layer.title, r.layer.subtitle) for r in results}
    maps["index"] = (results, "Corridors: " + ", ".join(r.layer.title for r in results),
                     "All layers; toggle them in the layer control")
    for result in results:
        report.sources[result.layer.id] = result.source
        report.details[result.layer.id] = result.detail
        report.warnings.extend(result.warnings)
    folder = Path(out_dir)
    with files.staged_dir(folder) as stage:  # every file of this build, or none, replaces the folder's
        written = []
        for name, (drawn, title, subtitle) in maps.items():
            missing = not_drawn(unresolved, place_rows, drawn, unlayered) if text is not None else {}
            report.not_drawn[name] = missing
            fmap = build_map(drawn, place_rows, title=title, subtitle=subtitle, tiles=tiles, note=note,
                             not_drawn=missing)
            features = (layer_features(drawn[0], place_rows) if name != "index" else
                        concat([r.frame for r in drawn]
                               + ([places_in(place_rows, layer_bounds(drawn))] if place_rows is not None else [])))
            written += _write_map(stage, name, fmap, features, report, drawn, place_rows,
                                  embed=embed, self_contained=self_contained, subtitle=subtitle)
        if png:
            progress.step("taking PNG images with headless Chromium")
            with tempfile.TemporaryDirectory(prefix="corridormap-png-") as scratch:
                def offline_html(html_path: Path) -> Path:
                    drawn, title, subtitle = maps[html_path.stem]
                    fmap = build_map(drawn, place_rows, title=title, subtitle=subtitle, tiles="none", note=note,
                                     not_drawn=report.not_drawn[html_path.stem])
                    return files.write_text(Path(scratch) / html_path.name, render_html(fmap))

                written += render_pngs([f for f in written if f.suffix == ".html" and ".embed" not in f.name],
                                       offline_html=offline_html, warn=report.warnings.append)
    report.files = [folder / path.name for path in written]
    report.seconds = time.perf_counter() - start
    if memo_key is not None:
        _recent.clear()
        _recent[memo_key] = (report, [(path.name, path.read_bytes()) for path in report.files])
    return report


#: The last build of this process: its inputs' key -> (report, the files it wrote), so that
#: building again with the same inputs (a notebook cell run twice) rewrites the same files.
_recent: dict[str, tuple[BuildReport, list[tuple[str, bytes]]]] = {}


def _inputs_key(text: str | None, layers: list[Layer], options: dict, *args) -> str | None:
    """A hash of everything a build's files depend on; None when a layer's data cannot be identified
    (or ``refresh`` asks for it afresh)."""
    if options.get("refresh"):
        return None
    layer_keys = [layer_cache_key(layer, **{k: v for k, v in options.items() if k != "refresh"}) for layer in layers]
    if None in layer_keys:
        return None
    current = {k: repr(v) for k, v in vars(settings).items() if k.islower() and not k.startswith("_")}
    spec = json.dumps([text, layer_keys, repr(args), current], sort_keys=True)
    return hashlib.sha256(spec.encode("utf-8")).hexdigest()


def _replay(recent: tuple[BuildReport, list[tuple[str, bytes]]], out_dir: str | Path, start: float) -> BuildReport:
    """Write a remembered build's files into ``out_dir``, all together (:func:`geo.files.staged_dir`)."""
    report, outputs = recent
    folder = Path(out_dir)
    with files.staged_dir(folder) as stage:
        for name, data in outputs:
            files.write_bytes(stage / name, data)
    return replace(report, files=[folder / name for name, _ in outputs], warnings=list(report.warnings),
                   seconds=time.perf_counter() - start)


def _write_map(folder: Path, name: str, fmap, features: gpd.GeoDataFrame, report: BuildReport, results: list,
               place_rows, *, embed: bool = False, self_contained: bool = False, subtitle: str = "") -> list[Path]:
    html = render_html(fmap)
    if self_contained:
        html, missing = assets.inline_assets(html)
        report.warnings += [f"{name}.html: no local copy of {url}; left as a link" for url in missing]
    html_path = files.write_text(folder / f"{name}.html", html)
    geojson_path = files.write_text(folder / f"{name}.geojson", to_geojson(features))
    written = [html_path, geojson_path]
    if embed:
        shown = None if place_rows is None else places_in(place_rows, layer_bounds(results))
        title = "Map: " + ", ".join(r.layer.title for r in results)
        snippet = embed_snippet(html_path.name, title, describe(results, shown), subtitle=subtitle)
        report.embeds[name] = snippet
        written.append(files.write_text(folder / f"{name}.embed.html", snippet))
    return written
