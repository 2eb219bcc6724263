"""The whole job: article -> mentions -> places -> layers -> maps and GeoJSON files.

I/O happens here and in the readers; the steps in between are pure functions.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from . import files, progress
from .corridors.build import LayerResult, build_layer
from .corridors.layers import Layer, list_layers, load_layer
from .corridors.relate import relate
from .errors import InputError
from .export import concat, layer_bounds, layer_features, places_in, to_geojson
from .maps import assets
from .maps.draw import build_map
from .maps.legend import describe, embed_snippet
from .maps.page import render_html
from .text.article import read_article
from .text.fixes import Fixes, read_fixes
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
    frame = mention_frame(mentions, resolved)
    if fixes and len(frame):
        frame["set_by_hand"] = [fixes.set_by_hand(texts) for texts in frame["texts"]]
    return mentions, frame


def resolve_mentions(text: str, *, online: bool = False, overrides: dict | None = None,
                     fixes: Fixes | None = None) -> tuple[list, list]:
    """(mentions, places): the article's mentions, corrections applied, and one Place (or None) each."""
    progress.step("finding the places the article names (loads the language model)")
    mentions = extract_mentions(text)
    if fixes:
        mentions = fixes.keep(mentions)
        overrides = {**fixes.pins, **(overrides or {})}
    from .text import gazetteer

    if not gazetteer.cache_file().is_file():
        progress.step("building the place-name gazetteer (first run only, about half a minute)")
    progress.step(f"resolving {len(mentions)} mentions")
    return mentions, resolve(mentions, text, online=online, overrides=overrides)


def check_sources(osm_dir=None, snapshot_dir=None) -> None:
    """Refuse a missing ``--osm-dir`` or ``--snapshot`` folder before any slow work.

    Raises
    ------
    InputError
    """
    for flag, folder in (("--osm-dir", osm_dir), ("--snapshot", snapshot_dir)):
        if folder is not None and not Path(folder).is_dir():
            what = "it is a file" if Path(folder).exists() else "it does not exist"
            raise InputError(f"{flag} {folder} is not a folder ({what}): give the folder that holds the OSM data")


def build_layers(layers: list[Layer], **source_options) -> list[LayerResult]:
    """Build each layer (see :func:`geo.corridors.build.build_layer` for the options).

    When a live fetch fails for want of a network, the remaining layers are built
    offline (cache, then schematic) instead of each waiting out its own retries.
    """
    results = []
    for layer in layers:
        progress.step(f"building layer {layer.id}")
        result = build_layer(layer, **source_options)
        if result.network_failed and not source_options.get("offline"):
            source_options = {**source_options, "offline": True}
            result.warnings.append("the network is unavailable: the remaining layers come from the cache or are "
                                   "drawn schematically (rerun when online, or use --osm-dir / --snapshot)")
        results.append(result)
    return results


def build(
    article_path: str | Path | None = None,
    out_dir: str | Path = "output",
    *,
    layer_ids: list[str] | None = None,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    offline: bool = False,
    online_geocoding: bool = False,
    tiles: str | None = None,
    embed: bool = False,
    self_contained: bool = False,
    png: bool = False,
    fixes: str | Path | Fixes | None = None,
) -> BuildReport:
    """Build one map per layer plus ``index.html`` with all layers, and GeoJSON beside each.

    All inputs are read and validated before anything is written; every file
    is written atomically.

    Parameters
    ----------
    article_path : path, optional
        The article (text, Markdown or HTML). Without it, the corridor maps alone.
    out_dir : path
    layer_ids : list of str, optional
        Default: every layer in ``layers/``.
    osm_dir, snapshot_dir, offline :
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
        Also write ``<name>.png`` of each map (headless Chromium, see :mod:`geo.maps.png`); when no
        tile loads, the image is drawn on the offline base map, with a warning.
    fixes : path or Fixes, optional
        Corrections file (see :mod:`geo.text.fixes`).
    """
    if png:
        from .maps import png as render

        render.chromium_path()  # fail before any work when Chromium is missing
    start = time.perf_counter()
    text = read_article(article_path) if article_path is not None else None
    layers = [load_layer(i) for i in layer_ids] if layer_ids else list_layers()
    check_sources(osm_dir, snapshot_dir)
    if fixes is not None and not isinstance(fixes, Fixes):
        fixes = read_fixes(fixes)
    folder = files.prepare_dir(out_dir)
    report = BuildReport()
    place_rows = None
    if text is not None:
        mentions, place_rows = article_places(text, online=online_geocoding, fixes=fixes)
        report.n_mentions, report.n_places = len(mentions), len(place_rows)
    results = build_layers(layers, osm_dir=osm_dir, snapshot_dir=snapshot_dir, offline=offline)
    if place_rows is not None:
        place_rows = relate(place_rows, results)
    note = "" if place_rows is None or len(place_rows) else "No places found in the article."
    progress.step("drawing the maps")
    maps: dict[str, tuple[list, str, str]] = {r.layer.id: ([r], r.layer.title, r.layer.subtitle) for r in results}
    maps["index"] = (results, "Corridors: " + ", ".join(r.layer.title for r in results),
                     "All layers; toggle them in the layer control")
    for result in results:
        report.sources[result.layer.id] = result.source
        report.details[result.layer.id] = result.detail
        report.warnings.extend(result.warnings)
    for name, (drawn, title, subtitle) in maps.items():
        fmap = build_map(drawn, place_rows, title=title, subtitle=subtitle, tiles=tiles, note=note)
        features = (layer_features(drawn[0], place_rows) if name != "index" else
                    concat([r.frame for r in drawn]
                           + ([places_in(place_rows, layer_bounds(drawn))] if place_rows is not None else [])))
        report.files += _write_map(folder, name, fmap, features, report, drawn, place_rows,
                                   embed=embed, self_contained=self_contained, subtitle=subtitle)
    if png:
        progress.step("taking PNG images with headless Chromium")
        with tempfile.TemporaryDirectory(prefix="corridormap-png-") as scratch:
            def offline_html(html_path: Path) -> Path:
                drawn, title, subtitle = maps[html_path.stem]
                fmap = build_map(drawn, place_rows, title=title, subtitle=subtitle, tiles="none", note=note)
                return files.write_text(Path(scratch) / html_path.name, render_html(fmap))

            report.files += render.render_pngs(
                [f for f in report.files if f.suffix == ".html" and ".embed" not in f.name],
                offline_html=offline_html, warn=report.warnings.append)
    report.seconds = time.perf_counter() - start
    return report


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
