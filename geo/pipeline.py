"""The whole job: article -> mentions -> places -> layers -> maps and GeoJSON files.

I/O happens here and in the readers; the steps in between are pure functions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from . import files, settings
from .corridors.build import LayerResult, build_layer
from .corridors.layers import Layer, list_layers, load_layer
from .corridors.relate import relate
from .export import concat, layer_bounds, layer_features, places_in, to_geojson
from .maps import assets
from .maps.draw import build_map
from .maps.legend import describe, embed_snippet
from .maps.page import render_html
from .osm.sources import check_sources
from .text.article import read_article
from .text.mention_frame import mention_frame
from .text.mentions import extract_mentions
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


def article_places(text: str, *, online: bool = False, overrides: dict | None = None) -> tuple[list, gpd.GeoDataFrame]:
    """Extract and resolve the place mentions of ``text``.

    Returns
    -------
    (mentions, places)
        The mentions (list of geo.text.mentions.Mention) and one GeoDataFrame row per
        resolved place (see :func:`geo.text.mention_frame.mention_frame`).
    """
    mentions = extract_mentions(text)
    resolved = resolve(mentions, text, online=online, overrides=overrides)
    return mentions, mention_frame(mentions, resolved)


def build_layers(layers: list[Layer], **source_options) -> list[LayerResult]:
    """Build each layer (see :func:`geo.corridors.build.build_layer` for the options).

    When a live fetch fails for want of a network, the remaining layers are built
    offline (cache, then schematic) instead of each waiting out its own retries.
    A query the server refuses concerns its layer alone: that layer is drawn
    schematically with the server's reason, the others are still fetched.

    Raises
    ------
    QueryError
        When a query was refused and no layer has any OSM data: there is
        nothing to draw but schematics, so the server's reason is the error.
    """
    results = []
    for layer in layers:
        result = build_layer(layer, **source_options)
        if result.network_failed and not source_options.get("offline"):
            source_options = {**source_options, "offline": True}
            result.warnings.append("the network is unavailable: the remaining layers come from the cache or are "
                                   "drawn schematically (rerun when online, or use --osm-dir / --snapshot)")
        results.append(result)
    refused = [r.query_error for r in results if r.query_error is not None]
    if refused and all(r.source == "schematic" for r in results):
        raise refused[0]
    return results


def build(
    article_path: str | Path | None = None,
    out_dir: str | Path = "output",
    *,
    layer_ids: list[str] | None = None,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    offline: bool = False,
    refresh: bool = False,
    online_geocoding: bool = False,
    tiles: str | None = None,
    embed: bool = False,
    self_contained: bool = False,
    png: bool = False,
) -> BuildReport:
    """Build one map per layer plus ``index.html`` with all layers, and GeoJSON beside each.

    All inputs are read and validated before anything is written. The files are
    written into a folder beside ``out_dir`` and swapped in together under a lock
    (:func:`geo.files.staged_dir`): ``out_dir`` holds this build's files or the
    previous ones, never a mix, whatever interrupts the build.

    Parameters
    ----------
    article_path : path, optional
        The article (text, Markdown or HTML). Without it, the corridor maps alone.
    out_dir : path
    layer_ids : list of str, optional
        Default: every layer in ``layers/``.
    osm_dir, snapshot_dir, offline, refresh :
        Data source options (see :func:`geo.osm.sources.get_layer_data`).
    online_geocoding : bool
        Ask Nominatim for names the offline gazetteer lacks.
    tiles : str, optional
        Base map (``light``, ``osm`` or ``none``).
    embed : bool
        Also write ``<name>.embed.html``: a responsive iframe snippet with a text alternative.
    self_contained : bool
        Inline every JavaScript and CSS asset (works offline and in CMSs that block third-party scripts).
    png : bool
        Also write ``<name>.png`` of each map (headless Chromium, see :mod:`geo.maps.png`).
    """
    if png:
        from .maps.png import chromium_path, render_pngs

        chromium_path()  # fail before any work when Chromium is missing
    start = time.perf_counter()
    settings.check_environment()
    text = read_article(article_path) if article_path is not None else None
    layers = [load_layer(i) for i in layer_ids] if layer_ids else list_layers()
    check_sources([layer.id for layer in layers], osm_dir, snapshot_dir)
    files.check_output_dir(out_dir)
    report = BuildReport()
    place_rows = None
    if text is not None:
        mentions, place_rows = article_places(text, online=online_geocoding)
        report.n_mentions, report.n_places = len(mentions), len(place_rows)
    results = build_layers(layers, osm_dir=osm_dir, snapshot_dir=snapshot_dir, offline=offline, refresh=refresh)
    if place_rows is not None:
        place_rows = relate(place_rows, results)
    note = "" if place_rows is None or len(place_rows) else "No places found in the article."
    for result in results:
        report.sources[result.layer.id] = result.source
        report.details[result.layer.id] = result.detail
        report.warnings.extend(result.warnings)
    folder = Path(out_dir)
    with files.staged_dir(folder) as stage:  # every file of this build, or none, replaces the folder's
        written = []
        for result in results:
            fmap = build_map([result], place_rows, title=result.layer.title, subtitle=result.layer.subtitle,
                             tiles=tiles, note=note)
            written += _write_map(stage, result.layer.id, fmap, layer_features(result, place_rows), report,
                                  [result], place_rows, embed=embed, self_contained=self_contained)
        title = "Corridors: " + ", ".join(r.layer.title for r in results)
        fmap = build_map(results, place_rows, title=title, subtitle="All layers; toggle them in the layer control",
                         tiles=tiles, note=note)
        index = concat([r.frame for r in results]
                       + ([places_in(place_rows, layer_bounds(results))] if place_rows is not None else []))
        written += _write_map(stage, "index", fmap, index, report, results, place_rows,
                              embed=embed, self_contained=self_contained)
        if png:
            written += render_pngs([f for f in written if f.suffix == ".html" and ".embed" not in f.name])
    report.files = [folder / path.name for path in written]
    report.seconds = time.perf_counter() - start
    return report


def _write_map(folder: Path, name: str, fmap, features: gpd.GeoDataFrame, report: BuildReport, results: list,
               place_rows, *, embed: bool = False, self_contained: bool = False) -> list[Path]:
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
        snippet = embed_snippet(html_path.name, title, describe(results, shown))
        report.embeds[name] = snippet
        written.append(files.write_text(folder / f"{name}.embed.html", snippet))
    return written
