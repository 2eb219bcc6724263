"""The whole job: article -> mentions -> places -> layers -> maps and GeoJSON files.

I/O happens here and in the readers; the steps in between are pure functions.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import files, page_cache, progress, settings
from .core.layers import Layer, list_layers, load_layer, read_layer
from .core.names import fold
from .errors import DataError, NetworkError, QueryError
from .osm.budget import budget_seconds, network_budget, remaining, spending
from .osm.source import Live, Source, data_source
from .text.article import read_article
from .text.fixes import Fixes, read_fixes

# Finding places, drawing, layers and export are imported where they are used: a warm build whose pages are
# cached (geo.page_cache) writes them again without loading folium, geopandas or the routing code, and
# without an article, without the text room's models either.
if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from .corridors.build import LayerResult
    from .text.mentions import Mention

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
    #: The index map's :attr:`not_drawn`, one line per reason (:func:`geo.maps.coverage.summary_lines`).
    not_drawn_lines: list[str] = field(default_factory=list)


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
    from .text.mention_frame import mention_frame

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
    from .text.mentions import extract_mentions
    from .text.resolve import resolve

    progress.step("finding the places the article names (loads the language model)")
    mentions = extract_mentions(text, layers, keep_unknown=online)  # online: Nominatim may place the unknown ones
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


def fetch_unlayered(names: list[str], *, online: bool,
                    endpoints: tuple[str, ...] = ()) -> tuple[list[LayerResult], dict[str, str], list[str]]:
    """Draw railways the article names without a layer from OSM route relations (online only, from ``endpoints``).

    Returns
    -------
    (results, reasons, warnings)
        A layer per relation found; for each name not drawn, why; warnings for stderr.
    """
    from .corridors.build import named_route_result
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
            found = fetch_named_route(name, endpoints=endpoints)
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


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how: every option of :func:`build` but the article and the output folder.

    Attributes
    ----------
    layer_ids : list of str, optional
        Draw these layers (ids in ``layers/``) whatever the article says.
    all_layers : bool
        Draw every layer.
    layer_files : list of path
        Layer files outside ``layers/`` (same format), drawn in addition.
    source : Source, optional
        Where the layers' OSM data comes from (:mod:`geo.osm.source`; default :class:`geo.osm.source.Live`).
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

    layer_ids: list[str] | None = None
    all_layers: bool = False
    layer_files: tuple[str | Path, ...] = ()
    source: Source | None = None
    online_geocoding: bool = False
    tiles: str | None = None
    embed: bool = False
    self_contained: bool = False
    png: bool = False
    fixes: str | Path | Fixes | None = None

    @classmethod
    def of(cls, osm_dir: str | Path | None = None, snapshot_dir: str | Path | None = None, offline: bool = False,
           refresh: bool = False, network_budget_s: float | str | None = None, **options) -> BuildOptions:
        """Options from :func:`build`'s keywords: the data source ones (:func:`geo.osm.source.data_source`) or
        ``source``, and the rest as the attributes.

        Raises
        ------
        InputError
            When the network budget is not a number of seconds above 0.
        """
        budget = budget_seconds(settings.network_budget_s if network_budget_s is None else network_budget_s)
        options["layer_files"] = tuple(options.get("layer_files") or ())
        if options.get("source") is None:
            options["source"] = _SourceSpec(osm_dir, snapshot_dir, offline, refresh, budget)
        return cls(**options)


@dataclass(frozen=True)
class _SourceSpec:
    """The data source keywords of :func:`build`, made a :class:`Source` after the layer files are checked
    (so a broken layer file is reported before conflicting source options)."""

    osm_dir: str | Path | None
    snapshot_dir: str | Path | None
    offline: bool
    refresh: bool
    network_budget_s: float

    def make(self) -> Source:
        """The source (:func:`geo.osm.source.data_source`)."""
        return data_source(self.osm_dir, self.snapshot_dir, offline=self.offline, refresh=self.refresh,
                           network_budget_s=self.network_budget_s)


def build(article_path: str | Path | None = None, out_dir: str | Path = "output", *,
          options: BuildOptions | None = None, **keywords) -> BuildReport:
    """Build one map per chosen layer plus ``index.html`` with all of them, and GeoJSON beside each.

    The article picks the layers: those it names (by title or alias, or a crossing's name) and
    those on which ``settings.layer_min_places`` of its places lie; every layer when it names
    none. A railway it names that has no layer is fetched from OSM by name when online. Every
    map lists the article's mentions it does not draw as a marker, and why.

    All inputs are read and validated before anything is written. The files are
    written into a folder beside ``out_dir`` and swapped in together under a lock
    (:func:`geo.files.staged_dir`): ``out_dir`` holds this build's files or the
    previous ones, never a mix, whatever interrupts the build.

    The steps: read, find, resolve, choose, build layers, relate, draw, write.

    Parameters
    ----------
    article_path : path, optional
        The article (text, Markdown or HTML). Without it, the corridor maps alone (every layer).
    out_dir : path
    options : BuildOptions, optional
        Every other option; or give them as keywords: the attributes of :class:`BuildOptions`, and instead
        of ``source`` the data source options ``osm_dir``, ``snapshot_dir``, ``offline``, ``refresh`` and
        ``network_budget_s`` (:func:`geo.osm.source.data_source`; the budget is the network time of the whole
        build, default ``settings.network_budget_s``).
    """
    start = time.perf_counter()
    options = options or BuildOptions.of(**keywords)
    if options.png:
        from .maps.png import chromium_path

        chromium_path()  # fail before any work when Chromium is missing
    settings.check_environment()
    text = read_article(article_path) if article_path is not None else None  # read
    list_layers()  # every layer file is checked before the article is parsed
    spec = options.source
    source = spec.make() if isinstance(spec, _SourceSpec) else spec or Live()
    options = replace(options, source=source)
    source.check([])
    files.check_output_dir(out_dir)
    if options.fixes is not None and not isinstance(options.fixes, Fixes):
        options = replace(options, fixes=read_fixes(options.fixes))
    replay_key = replays.key(text, options)
    if replay_key is not None and replays.has(replay_key):
        return replays.replay(replay_key, out_dir, start)
    report = _build(text, options, out_dir, article_path)
    report.seconds = time.perf_counter() - start
    if replay_key is not None:
        replays.keep(replay_key, report)
    return report


def _build(text: str | None, options: BuildOptions, out_dir: str | Path, article_path=None) -> BuildReport:
    """The steps after the inputs are read and checked: find, resolve, choose, build layers, relate, draw, write.

    One network budget covers them all (the GeoNames dumps an article needs and the layers' OSM data)."""
    with network_budget(getattr(options.source, "network_budget_s", None)):
        return _build_steps(text, options, out_dir, article_path)


def _build_steps(text: str | None, options: BuildOptions, out_dir: str | Path, article_path=None) -> BuildReport:
    mentions, resolved, notes = _find_places(text, options)
    if notes and _unreachable(notes):  # no network: the layers come offline at once
        options = replace(options, source=_ready(options)[0].without_network())
    pages_key = _pages_key(text, article_path, options, mentions, resolved)
    cached = page_cache.read(pages_key) if pages_key is not None else None
    kept = _report_from(cached.report) if cached is not None else None
    if cached is not None and kept is not None:  # the same inputs drew these pages before: write them again
        return _write_outputs(Path(out_dir), kept, cached.files)
    place_rows = place_frame(mentions, resolved, _ready(options)[1]) if text is not None else None
    report = _draw_and_write(text, options, out_dir, article_path, (mentions, resolved, place_rows), notes)
    if pages_key is not None:
        page_cache.write(pages_key, report.files, _report_record(report))
    return report


def _draw_and_write(text: str | None, options: BuildOptions, out_dir: str | Path, article_path,
                    found: tuple[list[Mention], list, gpd.GeoDataFrame | None], notes: list[str]) -> BuildReport:
    """The steps after the article's places are found: choose, build layers, relate, draw, write."""
    from .corridors.choose import pick_layers
    from .corridors.relate import relate
    from .maps.naming import with_article_names

    mentions, resolved, place_rows = found
    layers, chosen, warnings = pick_layers(text, mentions, resolved, place_rows, layer_ids=options.layer_ids,
                                           layer_files=options.layer_files, all_layers=options.all_layers)
    source, _ = _ready(options)
    source.check([layer.id for layer in layers])
    report = BuildReport(chosen=chosen, warnings=notes + warnings)
    if text is not None and place_rows is not None:  # an article always has its place rows
        report.n_mentions, report.n_places = len(mentions), len(place_rows)
    results, unlayered = _build_all_layers(layers, source, mentions, resolved, report)
    unresolved = [m.text for m, p in zip(mentions, resolved) if p is None]
    unresolved += [name for name in unlayered if name not in unresolved]
    if place_rows is not None:
        place_rows = with_article_names(relate(place_rows, results), results)
    for result in results:
        report.sources[result.layer.id] = result.source
        report.details[result.layer.id] = result.detail
        report.warnings.extend(result.warnings)
    drawing = _Drawing(_maps(results), place_rows, "" if place_rows is None or len(place_rows) else
                       "No places found in the article.", options.tiles)
    inputs = _manifest_inputs(article_path, text, results, options)
    _write_all(Path(out_dir), drawing, report, options, (unresolved, unlayered) if text is not None else None, inputs)
    return report


def _unreachable(notes: list[str]) -> bool:
    """Whether the notes of :func:`_find_places` say the network is unreachable."""
    from .text.geonames_fetch import UNREACHABLE_NOTE

    return any(note.startswith(UNREACHABLE_NOTE) for note in notes)


def _find_and_resolve(text: str | None,
                      options: BuildOptions) -> tuple[list[Mention], list, gpd.GeoDataFrame | None, list[str]]:
    """The article's mentions, their places, one row per place (none without an article), and what was fetched
    (:func:`_find_places`)."""
    mentions, resolved, notes = _find_places(text, options)
    place_rows = place_frame(mentions, resolved, _ready(options)[1]) if text is not None else None
    return mentions, resolved, place_rows, notes


def _find_places(text: str | None, options: BuildOptions) -> tuple[list[Mention], list, list[str]]:
    """The article's mentions, their places (none without an article), and what was fetched.

    Online (and unless ``settings.geonames_auto_fetch`` is off), the GeoNames dumps of the countries the
    article names that are not cached yet are fetched once, within the build's network budget, and the
    article is read again with them (:func:`geo.text.geonames_fetch.fetch_article_dumps`).
    """
    if text is None:
        return [], [], []
    from .text.geonames_fetch import fetch_article_dumps

    source, fixes = _ready(options)
    layers = text_layers(options.layer_files)
    mentions, resolved = resolve_mentions(text, online=options.online_geocoding, fixes=fixes, layers=layers)
    notes: list[str] = []
    if source.live and settings.geonames_auto_fetch:
        with spending():
            fetched, notes = fetch_article_dumps(resolved, time.monotonic() + remaining())
        if fetched:
            mentions, resolved = resolve_mentions(text, online=options.online_geocoding, fixes=fixes,
                                                  layers=layers)
    return mentions, resolved, notes


def _ready(options: BuildOptions) -> tuple[Source, Fixes | None]:
    """The source and the corrections of options :func:`build` made ready (a :class:`Source`, read fixes).

    Raises
    ------
    TypeError
        When the options were not made ready: a bug, not a user's mistake.
    """
    source, fixes = options.source, options.fixes
    if not isinstance(source, Source) or not (fixes is None or isinstance(fixes, Fixes)):
        raise TypeError(f"build options not made ready by build(): source {source!r}, fixes {fixes!r}")
    return source, fixes


def _build_all_layers(layers: list[Layer], source: Source, mentions: list[Mention], resolved: list,
                      report: BuildReport) -> tuple[list[LayerResult], dict[str, str]]:
    """The chosen layers and the railways the article names without one (online); the names not drawn, and why."""
    from .corridors.article_infra import LAYER_ID as ARTICLE_LAYER
    from .corridors.article_infra import with_article_infrastructure
    from .corridors.build import build_layers
    from .text.infrastructure import unlayered_infrastructure

    with network_budget(getattr(source, "network_budget_s", None)):  # one budget for the layers and the named routes
        results = build_layers(layers, source)
        live = source.live and not any(r.network_failed for r in results)
        endpoints = source.endpoints if isinstance(source, Live) else ()
        routes, unlayered, route_warnings = fetch_unlayered(unlayered_infrastructure(mentions, resolved), online=live,
                                                            endpoints=endpoints)
    report.warnings += route_warnings
    for r in routes:
        report.chosen[r.layer.id] = "named in the article; drawn from its OSM route relation"
    results, unlayered, report.warnings = with_article_infrastructure(mentions, resolved, results + routes, unlayered,
                                                                      report.warnings)
    if results and results[-1].layer.id == ARTICLE_LAYER:
        report.chosen[ARTICLE_LAYER] = "named in the article; drawn between the places it names as its ends"
    return results, unlayered


def _maps(results: list[LayerResult]) -> dict[str, tuple[list, str, str]]:
    """Map name -> (its layers, title, subtitle): one per layer, and ``index`` with all of them."""
    maps: dict[str, tuple[list, str, str]] = {r.layer.id: ([r], r.layer.title, r.layer.subtitle) for r in results}
    maps["index"] = (results, "Corridors: " + ", ".join(r.layer.title for r in results),
                     "All layers; toggle them in the layer control")
    return maps


@dataclass
class _Drawing:
    """What every map of a build is drawn from."""

    maps: dict[str, tuple[list, str, str]]
    place_rows: gpd.GeoDataFrame | None
    note: str
    tiles: str | None
    not_drawn: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def draw(self, name: str, tiles: str | None = None) -> folium.Map:
        """The folium map ``name`` (on ``tiles``, default the build's)."""
        from .maps.draw import build_map

        drawn, title, subtitle = self.maps[name]
        return build_map(drawn, self.place_rows, title=title, subtitle=subtitle, tiles=tiles or self.tiles,
                         note=self.note, not_drawn=self.not_drawn[name])


def _write_all(folder: Path, drawing: _Drawing, report: BuildReport, options: BuildOptions,
               missing: tuple[list[str], dict[str, str]] | None, inputs: dict) -> None:
    """Draw and write every map with its GeoJSON (and embeds, PNGs), all into ``folder`` together, with the
    build's manifest (:data:`geo.files.MANIFEST`: its files and ``inputs``).

    ``missing``: the names not resolved, and the infrastructure without a layer with why it is not drawn
    (None without an article). The maps an earlier build wrote into ``folder`` and this one does not are removed.
    """
    from .export import concat, layer_features
    from .maps.bounds import layer_bounds, places_in
    from .maps.coverage import not_drawn, summary_lines

    progress.step("drawing the maps")
    place_rows = drawing.place_rows
    removed: list[str] = []  # an earlier build's files this one does not write
    with files.staged_dir(folder, manifest=files.MANIFEST, removed=removed) as stage:  # all of this build, or none
        written = []
        for name, (drawn, _title, subtitle) in drawing.maps.items():
            drawing.not_drawn[name] = not_drawn(missing[0], place_rows, drawn, missing[1]) if missing else {}
            report.not_drawn[name] = drawing.not_drawn[name]
            features = (layer_features(drawn[0], place_rows) if name != "index" else
                        concat([r.frame for r in drawn]
                               + ([places_in(place_rows, layer_bounds(drawn))] if place_rows is not None else [])))
            written += _write_map(stage, name, drawing.draw(name), features, report, drawn, place_rows,
                                  embed=options.embed, self_contained=options.self_contained, subtitle=subtitle)
        if options.png:
            written += _write_pngs(written, drawing, report)
        written.append(files.write_manifest(stage, written, inputs))
    report.not_drawn_lines = summary_lines(report.not_drawn.get("index", {}))
    report.warnings += _removed_note(folder, removed)
    report.files = [folder / path.name for path in written]


_REMOVED = "removed from "


def _removed_note(folder: Path, removed: list[str]) -> list[str]:
    """The line saying which files of an earlier build in ``folder`` this build removed (none: no line)."""
    if not removed:
        return []
    shown = ", ".join(removed[:8]) + (f" and {len(removed) - 8} more" if len(removed) > 8 else "")
    return [f"{_REMOVED}{folder} {len(removed)} file{'s' if len(removed) > 1 else ''} an earlier build wrote and "
            f"this one does not: {shown} (the folder holds one build; see {files.MANIFEST})"]


def _manifest_inputs(article_path, text: str | None, results: list, options: BuildOptions) -> dict:
    """What a build was made from, for its manifest (:func:`geo.files.write_manifest`)."""
    article = None
    if text is not None:
        article = {"path": str(article_path), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    source = options.source
    fixes = options.fixes
    return {"article": article,
            "layers": [{"id": r.layer.id, "source": r.source} for r in results],
            "layer_files": [str(p) for p in options.layer_files],
            "fixes": getattr(fixes, "source", None) or None,
            "data_source": type(source).__name__ if source is not None else None,
            "offline": source is None or not source.live,
            "tiles": options.tiles, "embed": options.embed, "self_contained": options.self_contained,
            "png": options.png}


def _write_pngs(written: list[Path], drawing: _Drawing, report: BuildReport) -> list[Path]:
    """A PNG of each written map; a map whose tiles do not load is drawn again on the offline base map."""
    from .maps.png import render_pngs

    progress.step("taking PNG images with headless Chromium")
    with tempfile.TemporaryDirectory(prefix="corridormap-png-") as scratch:
        return render_pngs([f for f in written if f.suffix == ".html" and ".embed" not in f.name],
                           offline_html=functools.partial(_offline_html, drawing, Path(scratch)),
                           warn=report.warnings.append)


def _offline_html(drawing: _Drawing, scratch: Path, html_path: Path) -> Path:
    """The map of ``html_path`` drawn on the offline base map (``tiles="none"``), written into ``scratch``."""
    from .maps.page import render_html

    return files.write_text(scratch / html_path.name, render_html(drawing.draw(html_path.stem, tiles="none")))


class ReplayCache:
    """The last build of this process, keyed by its inputs: building again with the same inputs (a notebook
    cell run twice) rewrites the same files without redoing the work.

    The key covers the article text, each candidate layer's file content, its data source fingerprint
    (:meth:`geo.osm.source.Source.fingerprint`), the cached GeoNames dumps and the options that change the output. No key (no replay)
    when anything is fetched live, refreshed, geocoded online, corrected or photographed, or when a
    layer's data cannot be identified.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[BuildReport, list[tuple[str, bytes]]]] = {}

    def key(self, text: str | None, options: BuildOptions) -> str | None:
        """The inputs' key, or None when the build cannot be replayed."""
        parts = _input_parts(text, options)
        if parts is None:
            return None
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()

    def has(self, key: str) -> bool:
        """Whether the last build had these inputs."""
        return key in self._kept

    def keep(self, key: str, report: BuildReport) -> None:
        """Remember ``report`` and its files (only the last build is kept)."""
        self._kept.clear()
        self._kept[key] = (report, [(path.name, path.read_bytes()) for path in report.files])

    def replay(self, key: str, out_dir: str | Path, start: float) -> BuildReport:
        """Write the remembered build's files into ``out_dir``, all together (:func:`geo.files.staged_dir`)."""
        report, outputs = self._kept[key]
        return replace(_write_outputs(Path(out_dir), report, outputs), seconds=time.perf_counter() - start)

    def clear(self) -> None:
        """Forget the last build."""
        self._kept.clear()


#: This process's replay cache (:class:`ReplayCache`).
replays = ReplayCache()


def _input_parts(text: str | None, options: BuildOptions) -> list | None:
    """What a build's files depend on before the article is read for places: the article text, each candidate
    layer's file content and data source fingerprint (:meth:`geo.osm.source.Source.fingerprint`), the cached
    GeoNames dumps and the options that change the output. None when nothing may be reused: anything fetched
    live, refreshed, geocoded online, corrected or photographed, or a layer's data that cannot be identified."""
    source, _ = _ready(options)
    if options.png or options.online_geocoding or options.fixes or source.refresh or source.live:
        return None
    candidates = [load_layer(i) for i in options.layer_ids] if options.layer_ids else list_layers()
    candidates += [read_layer(Path(p)) for p in options.layer_files]
    data_keys = [source.fingerprint(layer) for layer in candidates]
    if None in data_keys:
        return None
    layer_files = [hashlib.sha256(Path(layer.path).read_bytes()).hexdigest() for layer in candidates]
    chosen = [options.layer_ids, options.all_layers, options.tiles, options.embed, options.self_contained]
    if text is None:  # the GeoNames dumps only place an article's names
        return [text, layer_files, data_keys, repr(chosen), None]
    from .text.geonames_dumps import dumps_key

    return [text, layer_files, data_keys, repr(chosen), dumps_key()]


def _pages_key(text: str | None, article_path, options: BuildOptions, mentions: list[Mention],
               resolved: list) -> str | None:
    """The key of the build's pages in :mod:`geo.page_cache` (None: not cached, see :func:`_input_parts`).

    Beside the inputs, the key holds the article's path as given (the manifest names it), the mentions found
    and the places they resolved to (so a changed gazetteer or language model misses), the layer files given
    with ``--layer-file`` as named, the kind of data source, and for the OSM cache of live fetches the day
    (its data expires)."""
    parts = _input_parts(text, options)
    if parts is None:
        return None
    source, _ = _ready(options)
    day = datetime.date.today().isoformat() if isinstance(source, Live) else None
    return page_cache.page_key(parts + [None if text is None else str(article_path), [repr(m) for m in mentions],
                                        [repr(p) for p in resolved], [str(p) for p in options.layer_files],
                                        type(source).__name__, day])


def _report_record(report: BuildReport) -> dict:
    """``report`` as JSON data for :mod:`geo.page_cache` (its files by name)."""
    record = {f.name: getattr(report, f.name) for f in fields(BuildReport)}
    record["files"] = [path.name for path in report.files]
    return record


def _report_from(record: dict) -> BuildReport | None:
    """The report :func:`_report_record` recorded (its files to be placed by :func:`_write_outputs`); None when
    the record lacks a field of the report (an entry another version wrote: the build runs in full)."""
    known = {f.name for f in fields(BuildReport)}
    if not known <= set(record):
        return None
    return BuildReport(**{name: record[name] for name in known})


def _write_outputs(folder: Path, report: BuildReport, outputs: list[tuple[str, bytes]]) -> BuildReport:
    """Write a build's files again into ``folder``, all together (:func:`geo.files.staged_dir`); its report
    with the files placed there and the note of an earlier build's files removed."""
    removed: list[str] = []
    with files.staged_dir(folder, manifest=files.MANIFEST, removed=removed) as stage:
        for name, data in outputs:
            files.write_bytes(stage / name, data)
    warnings = [w for w in report.warnings if not w.startswith(_REMOVED)] + _removed_note(folder, removed)
    return replace(report, files=[folder / name for name, _ in outputs], warnings=warnings)


def _write_map(folder: Path, name: str, fmap, features: gpd.GeoDataFrame, report: BuildReport, results: list,
               place_rows, *, embed: bool = False, self_contained: bool = False, subtitle: str = "") -> list[Path]:
    from .export import to_geojson
    from .maps import assets
    from .maps.bounds import layer_bounds, places_in
    from .maps.legend import describe, embed_snippet
    from .maps.page import render_html

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


def __getattr__(name: str):
    """``build_layers`` and ``LayerResult`` (:mod:`geo.corridors.build`), imported when first asked for."""
    if name in ("build_layers", "LayerResult"):
        from .corridors import build as corridors_build

        return getattr(corridors_build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
