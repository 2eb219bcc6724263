"""Where a layer's OSM data comes from, as one value: a :class:`Source`.

Four kinds, each with one method to read a layer (:meth:`Source.read`), one to identify
its data without reading it (:meth:`Source.fingerprint`) and one to check it before any
work (:meth:`Source.check`):

- :class:`Extract`: a local OSM extract folder (``--osm-dir``);
- :class:`Snapshot`: a snapshot folder written by ``corridormap snapshot`` (``--snapshot``);
- :class:`Bundled`: the snapshot bundled with the package (:mod:`geo.osm.bundle`);
- :class:`Live`: the disk cache of earlier live fetches, then Overpass (its endpoints, ``refresh``,
  the network budget; ``offline`` never touches the network), then the bundled snapshot.

Every kind falls back to the schematic drawing (no data: the corridor is drawn through its
stations). :class:`Live` takes the cache before the bundled snapshot only when its data is at
least as recent; offline, or when the live fetch fails, the bundled snapshot is used.
Every read returns one :class:`LayerData` with a typed :class:`geo.osm.provenance.Provenance`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING

from .. import settings
from ..core.layers import Layer
from ..errors import DataError, InputError, NetworkError, QueryError
from . import bundle, cache, local, snapshot
from .budget import budget_seconds
from .endpoint import split_endpoints
from .provenance import SOURCES, Provenance, schematic
from .schema import empty_frame

if TYPE_CHECKING:  # a data source's fingerprint needs no geopandas; reading its data imports it
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = ["SOURCES", "LayerData", "Source", "Extract", "Snapshot", "Bundled", "Live", "data_source",
           "get_layer_data", "snapshot_layers"]


@dataclass
class LayerData:
    """OSM lines and points for one layer and where they came from."""

    lines: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    provenance: Provenance
    warnings: list[str] = field(default_factory=list)
    network_failed: bool = False  # a live fetch failed for want of a working network
    query_error: QueryError | None = None  # the server refused this layer's query (the network works)

    @property
    def source(self) -> str:
        """The kind of source (:data:`geo.osm.provenance.SOURCES`)."""
        return self.provenance.source

    @property
    def detail(self) -> str:
        """Where the data came from, as legends print it."""
        return self.provenance.detail


def _schematic_data(why: str, warnings: list[str], **flags) -> LayerData:
    """No data: the layer is drawn through its stations, ``why`` said in its detail."""
    return LayerData(empty_frame(), empty_frame(), schematic(why), warnings, **flags)


@dataclass(frozen=True)
class Source:
    """A data source for layers (use one of its kinds).

    Attributes
    ----------
    refresh : bool
        Reuse nothing computed earlier: no layer built from this data before
        (:mod:`geo.corridors.route_cache`), and for :class:`Live`, no cached fetch.
    """

    refresh: bool = False

    #: Whether reading may fetch from the network.
    live = False

    def read(self, layer: Layer, points: list[tuple[float, float]]) -> LayerData:
        """The layer's data, clipped to a buffer around ``points`` (``[osm] clip_buffer_km``)."""
        raise NotImplementedError

    def fingerprint(self, layer: Layer) -> str | None:
        """Identify, without reading it, the data :meth:`read` would return; None when it cannot."""
        raise NotImplementedError

    def check(self, layer_ids: Iterable[str]) -> None:
        """Check the source before any work (raises :class:`DataError` naming what is wrong)."""

    def without_network(self) -> Source:
        """This source, never touching the network (itself unless it is :class:`Live`)."""
        return self


def _area(layer: Layer, points: list[tuple[float, float]]):
    """The layer's clip area: a buffer of ``[osm] clip_buffer_km`` (default 50) around its points."""
    from ..geodesy import line_buffer_km  # shapely and pyproj: not needed to identify a source's data

    return line_buffer_km(points, float(layer.osm.get("clip_buffer_km", 50)))


@dataclass(frozen=True)
class Extract(Source):
    """A local OSM extract folder (``--osm-dir``): vector files or ``.osm``/``.pbf``."""

    folder: str | Path = "."  # as given: the legend names it so

    def read(self, layer: Layer, points: list[tuple[float, float]]) -> LayerData:
        """The extract's lines and points near the layer; schematic when it has no lines there."""
        lines, pts = local.read_local(self.folder, _area(layer, points))
        if lines.empty:
            warning = f"{layer.id}: --osm-dir {self.folder} has no lines near the layer; drawn schematically"
            return LayerData(lines, pts, Provenance("schematic", "no OSM lines in --osm-dir near this layer"), [warning])
        detail = f"local OSM extract {self.folder} ({lines['file'].nunique()} files)"
        return LayerData(lines, pts, Provenance("osm", detail))

    def fingerprint(self, layer: Layer) -> str | None:
        """A content hash of every OSM file in the folder."""
        return _files_hash(b"osm", local.osm_files(self.folder))

    def check(self, layer_ids: Iterable[str]) -> None:
        """The folder holds OSM data (:func:`geo.osm.local.osm_files`)."""
        local.osm_files(self.folder)


@dataclass(frozen=True)
class Snapshot(Source):
    """A snapshot folder written by ``corridormap snapshot`` (``--snapshot``)."""

    folder: str | Path = "."

    def read(self, layer: Layer, points: list[tuple[float, float]]) -> LayerData:
        """The layer's data as the snapshot holds it (not clipped)."""
        lines, pts, provenance = snapshot.read_layer(self.folder, layer.id)
        return LayerData(lines, pts, provenance)

    def fingerprint(self, layer: Layer) -> str | None:
        """A content hash of the manifest and the layer's file; None when one is missing."""
        folder = Path(self.folder)
        paths = [folder / snapshot.MANIFEST, folder / f"{layer.id}.gpkg"]
        if not all(p.is_file() for p in paths):
            return None  # read() reports what is missing
        return _files_hash(b"snapshot", paths)

    def check(self, layer_ids: Iterable[str]) -> None:
        """The manifest is sound and every layer has its file."""
        snapshot.read_manifest(self.folder)
        for layer_id in layer_ids:
            snapshot.layer_file(self.folder, layer_id)


@dataclass(frozen=True)
class Bundled(Source):
    """The snapshot bundled with the package (``settings.bundled_snapshot_dir``)."""

    def read(self, layer: Layer, points: list[tuple[float, float]]) -> LayerData:
        """The bundled data of the layer; schematic when the bundle lacks it or is damaged."""
        warnings: list[str] = []
        bundled = self.layer(layer, warnings)
        if bundled is None:
            return _schematic_data("no OSM data: offline, or not found", warnings)
        return LayerData(*bundled, warnings)

    def layer(self, layer: Layer, warnings: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Provenance] | None:
        """The layer's bundled ``(lines, points, provenance)`` or None (a damaged bundle is reported in ``warnings``)."""
        try:
            return bundle.read_bundled(layer.id)
        except DataError as exc:
            warnings.append(f"{layer.id}: the bundled OSM snapshot is damaged ({exc.message})")
            return None

    def fingerprint(self, layer: Layer) -> str | None:
        """A content hash of the bundled manifest, or None without a bundle."""
        folder = bundle.bundled_dir()
        manifest = folder / snapshot.MANIFEST if folder is not None else None
        if manifest is None or not manifest.is_file():
            return None
        return _content_hash(manifest.resolve(), *_stamp(manifest))


@dataclass(frozen=True)
class Live(Source):
    """OpenStreetMap through Overpass, with the disk cache of earlier fetches and the bundled snapshot.

    Attributes
    ----------
    endpoints : tuple of str
        Overpass APIs to ask, in order (normalised; empty: ``settings.overpass_url``, else osmnx's).
    offline : bool
        Never touch the network: the cache, then the bundled snapshot, then schematic.
    network_budget_s : float, optional
        Network time of a whole build (default ``settings.network_budget_s``).
    """

    endpoints: tuple[str, ...] = ()
    offline: bool = False
    network_budget_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoints", tuple(split_endpoints(self.endpoints)))

    @property
    def live(self) -> bool:  # type: ignore[override]
        """True unless ``offline``."""
        return not self.offline

    def without_network(self) -> Live:
        """The same source, offline."""
        return replace(self, offline=True)

    def read(self, layer: Layer, points: list[tuple[float, float]]) -> LayerData:
        """Cached live data while fresh (``settings.cache_max_age_days``) and at least as recent as the bundled
        snapshot; else a live fetch; when that fails or ``offline``, the old copy (with a warning), the bundled
        snapshot, or schematic."""
        warnings: list[str] = []
        bundled = Bundled().layer(layer, warnings)
        try:
            cached = cache.read_entry(layer)
        except DataError as exc:
            warnings.append(exc.message)
            cached = None
        # the cached copy when it is newer than the bundled snapshot's
        newer = cached if cached is not None and (bundled is None or cached.provenance.newer_than(bundled[2])) else None
        if newer is not None and not newer.expired and not self.refresh:
            return LayerData(newer.lines, newer.points, newer.provenance, warnings)
        got, network_failed, problem = self._fetch(layer, points, warnings), False, ""
        if isinstance(got, LayerData):
            return got
        if got is not None:
            network_failed, problem = got
        if newer is not None:  # expired, or --refresh: the old copy when no new one came
            warnings.append(_stale_warning(layer, newer, problem))
            return LayerData(newer.lines, newer.points, newer.provenance, warnings, network_failed=network_failed)
        if problem:
            warnings.append(f"{problem}; {_instead(bundled)}")
        if bundled is not None:
            return LayerData(*bundled, warnings, network_failed=network_failed)
        why = "the live fetch failed" if network_failed else "no OSM data: offline, or not found"
        return _schematic_data(why, warnings, network_failed=network_failed)

    def _fetch(self, layer: Layer, points, warnings: list[str]) -> LayerData | tuple[bool, str] | None:
        """The layer fetched live (or drawn schematically when its query is refused); else ``(network_failed,
        problem)`` when the fetch failed, None when offline."""
        if self.offline:
            return None
        # Imported here: the live path needs osmnx and requests (~0.5 s to import); builds
        # from local data, a snapshot or the cache do not.
        from . import fetch

        try:
            lines, pts, provenance = fetch.fetch_layer(layer, _area(layer, points), refresh=self.refresh,
                                                       endpoints=self.endpoints)
            return LayerData(lines, pts, provenance, warnings)
        except QueryError as exc:
            warnings.append(f"{exc.message}; drawn schematically")
            return _schematic_data(f"Overpass refused the query: {exc.server_text}", warnings, query_error=exc)
        except NetworkError as exc:
            return True, f"{layer.id}: {exc.message}"
        except DataError as exc:  # its message names the layer
            return False, exc.message

    def fingerprint(self, layer: Layer) -> str | None:
        """The checksum of the layer's cache entry and the bundled manifest's hash; None when the data would come
        from a live fetch or be drawn schematically (nothing to reuse)."""
        entry = cache.checksum(layer)
        bundled = Bundled().fingerprint(layer)
        if entry is None and (not self.offline or bundled is None):
            return None
        return f"cache:{entry}|bundle:{bundled}"


def _stale_warning(layer: Layer, cached: cache.Entry, problem: str) -> str:
    """The warning for cached data used because no newer came."""
    age = f"fetched {cached.fetched:%Y-%m-%d}" if cached.fetched else "of unknown age"
    if cached.expired:
        age += f", older than {settings.cache_max_age_days:g} days"
    return f"{layer.id}: using cached OSM data {age} ({problem or 'offline'}); rerun online to refresh it"


def _instead(bundled) -> str:
    """What a layer falls back to when the live fetch has nothing."""
    return "the bundled snapshot is used" if bundled is not None else "drawn schematically"


def data_source(
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    *,
    offline: bool = False,
    refresh: bool = False,
    endpoints: str | Sequence[str] = (),
    network_budget_s: float | None = None,
) -> Source:
    """The source the command-line options name: ``--osm-dir``, ``--snapshot``, else live (``--offline``).

    Raises
    ------
    InputError
        When both ``osm_dir`` and ``snapshot_dir`` are given, an endpoint is not an http(s) URL, or the
        network budget is not a number of seconds above 0.
    """
    if osm_dir is not None and snapshot_dir is not None:
        raise InputError("--snapshot and --osm-dir both given: a build reads one data source; drop one of them")
    if osm_dir is not None:
        return Extract(refresh=refresh, folder=osm_dir)
    if snapshot_dir is not None:
        return Snapshot(refresh=refresh, folder=snapshot_dir)
    urls = (endpoints,) if isinstance(endpoints, str) else tuple(endpoints)
    budget_s = budget_seconds(network_budget_s) if network_budget_s is not None else None
    return Live(refresh=refresh, endpoints=urls, offline=offline, network_budget_s=budget_s)


def get_layer_data(layer: Layer, points: list[tuple[float, float]], source: Source | None = None) -> LayerData:
    """``source.read(layer, points)``: a layer's OSM data from ``source`` (default :class:`Live`)."""
    return (source or Live()).read(layer, points)


def _files_hash(kind: bytes, paths: Iterable[Path]) -> str:
    """SHA-256 over the names and content hashes of ``paths``."""
    h = sha256(kind)
    for path in paths:
        h.update(f"{path.name}:{_content_hash(path.resolve(), *_stamp(path))}".encode())
    return h.hexdigest()


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=256)
def _content_hash(path: Path, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's bytes, hashed again only when its size or modification time changes."""
    return snapshot.file_sha256(path)


def snapshot_layers(
    layer_ids: Iterable[str],
    out_dir: str | Path,
    *,
    source: Source | None = None,
    osm_dir: str | Path | None = None,
    zoom: int | None = None,
    osm_date: str | None = None,
    osm_date_note: str = "",
    skip_missing: bool = False,
    places_dirs: Iterable[str | Path] = (),
) -> Path:
    """Read each layer from ``source`` and write a snapshot (:mod:`geo.osm.snapshot`).

    Parameters
    ----------
    layer_ids : iterable of str
    out_dir : path
    source : Source, optional
        An :class:`Extract` or :class:`Live` source (default: ``Extract(osm_dir)`` when ``osm_dir``
        is given, else :class:`Live`).
    osm_dir : path, optional
        Shorthand for ``source=Extract(folder=osm_dir)``.
    zoom : int, optional
        Reduce the geometry to what a map needs up to this zoom
        (:func:`geo.osm.bundle.reduce_frame`), as for the bundled snapshot. Lines
        are kept whole, so routing on the snapshot finds what it finds on the source.
    osm_date : str, optional
        Date of the OSM data (``YYYY-MM-DD`` or ``YYYY-MM``) when the source does
        not carry one (a local extract); ``osm_date_note`` says how it is known.
    skip_missing : bool
        Leave out, and list in the manifest's ``left_out``, the layers without
        OSM data instead of failing.
    places_dirs : iterable of path
        Folders of GeoJSON OSM place nodes (stations, ports, crossings, settlements) to write
        into the snapshot for the gazetteer (:mod:`geo.osm.places`; needs ``osm_date``). Without
        them, the place table of the snapshot being replaced is kept.

    Raises
    ------
    QueryError
        When Overpass refused a layer's query (the server's reason and the fix).
    DataError
        When a layer has no OSM data (it would be drawn schematically, or from a
        bundled snapshot) and ``skip_missing`` is off: a snapshot holds only
        data from an extract, the cache or Overpass.
    InputError
        When ``osm_date`` is not a date.
    """
    from .provenance import DataDate

    source = source or data_source(osm_dir)
    snapshot.check_out_dir(out_dir)
    source.check([])
    try:
        stated = DataDate.parse(osm_date)
    except ValueError as exc:
        raise InputError(f"--osm-date {osm_date!r}: {exc}") from None
    places = _snapshot_places(out_dir, list(places_dirs), osm_date, osm_date_note)
    data: dict[str, snapshot.LayerTuple] = {}
    queries: dict[str, dict] = {}
    left_out: dict[str, str] = {}
    for layer_id in layer_ids:
        got = _snapshot_layer(layer_id, source, zoom, stated, skip_missing)
        if isinstance(got, str):
            left_out[layer_id] = got
            continue
        data[layer_id], queries[layer_id] = got
    if not data:
        raise DataError(f"no layer has OSM data to snapshot ({', '.join(left_out)}): go online, or pass --osm-dir")
    return snapshot.write_snapshot(out_dir, data, queries, _snapshot_extra(left_out, zoom, osm_date, osm_date_note),
                                   places)


def _snapshot_places(out_dir, dirs: list, osm_date: str | None, note: str):
    """The place table to write into a snapshot: read from ``dirs``, else kept from ``out_dir``'s, else None."""
    from ..core.place_table import read_places
    from .places import read_place_nodes

    if dirs:
        if not osm_date:
            raise DataError("snapshot --places: give --osm-date, the date of the place files' OSM data")
        frame, read = read_place_nodes(dirs)
        return frame, {"sources": [str(d) for d in dirs], "files": [Path(f).name for f in read],
                       "osm_date": osm_date, "osm_date_note": note,
                       "attribution": snapshot.ATTRIBUTION, "license": snapshot.LICENSE}
    if (Path(out_dir) / snapshot.MANIFEST).is_file():
        old = snapshot.read_manifest(out_dir).get("places")
        frame = read_places(out_dir)
        if frame is not None and old is not None:  # read_places finds a table only where the manifest has one
            keep = ("sources", "files", "osm_date", "osm_date_note", "attribution", "license")
            return frame, {k: old[k] for k in keep if k in old}
    return None


def _snapshot_layer(layer_id: str, source: Source, zoom: int | None, stated,
                    skip_missing: bool) -> tuple[snapshot.LayerTuple, dict] | str:
    """One layer's data and manifest entry for a snapshot; why it is left out (``skip_missing``)."""
    from ..core.layers import load_layer
    from ..core.stations import layer_points
    from .queries import layer_queries  # osmnx, via the Overpass settings: the live path only

    layer = load_layer(layer_id)
    points = layer_points(layer)
    got = source.read(layer, points)
    if got.query_error is not None:
        raise got.query_error
    if got.source in ("schematic", "snapshot") or got.lines.empty:
        why = "; ".join(got.warnings) or got.detail
        if not skip_missing:
            raise DataError(f"{layer_id}: no OSM data to snapshot ({why}): go online, or pass --osm-dir")
        log.warning("%s: left out of the snapshot: %s", layer_id, why)
        return why
    lines, pts, provenance = got.lines, got.points, got.provenance
    if zoom is not None:
        lines, pts = bundle.reduce_frame(lines, zoom=zoom), bundle.reduce_frame(pts, zoom=zoom)
        provenance = provenance.noted(f"simplified for zoom {zoom}")
    entry: dict = {"selectors": layer.osm, "source": got.source}
    if isinstance(source, Extract):
        entry["osm_dir"] = str(source.folder)
    else:
        entry["overpass"] = cache.queries(layer) or layer_queries(layer, points)
    return (lines, pts, provenance.dated(stated)), entry


def _snapshot_extra(left_out: dict[str, str], zoom: int | None, osm_date: str | None, note: str) -> dict:
    """The snapshot manifest's entries on layers left out, reduction and a stated data date."""
    extra: dict = {"left_out": left_out}
    if zoom is not None:
        extra["reduced"] = {"zoom": zoom, "simplify_tolerance_deg": bundle.zoom_tolerance_deg(zoom),
                            "tolerance_scaled_by": "cos(highest latitude of each line)",
                            "kept": "vertices shared by lines (junctions, line ends)",
                            "max_gap_km": settings.bundled_max_gap_km, "decimals": settings.bundled_decimals}
    if osm_date:
        extra["osm_date"] = {"date": osm_date, "note": note}
    return extra
