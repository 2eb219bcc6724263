"""Where a layer's OSM data comes from, behind one interface.

Order: a local extract (``--osm-dir``), a snapshot (``--snapshot``), the disk
cache of earlier live fetches, a live fetch (Overpass), the snapshot bundled
with the package (:mod:`geo.osm.bundle`), and last the schematic fallback (no
data: the corridor is drawn through its stations). The cache is taken before
the bundled snapshot only when its data is at least as recent; offline, or when
the live fetch fails, the bundled snapshot is used.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd

from .. import settings
from ..core.layers import Layer, load_layer
from ..core.stations import layer_points
from ..errors import DataError, InputError, NetworkError, QueryError
from ..geodesy import line_buffer_km
from . import bundle, cache, local, snapshot
from .schema import empty_frame

log = logging.getLogger(__name__)

SOURCES = ("osm", "snapshot", "cache", "schematic")


@dataclass
class LayerData:
    """OSM lines and points for one layer and where they came from."""

    lines: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    source: str
    detail: str
    warnings: list[str] = field(default_factory=list)
    network_failed: bool = False  # a live fetch failed for want of a working network
    query_error: QueryError | None = None  # the server refused this layer's query (the network works)


def get_layer_data(
    layer: Layer,
    points: list[tuple[float, float]],
    *,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    offline: bool = False,
    refresh: bool = False,
) -> LayerData:
    """Fetch a layer's OSM data from the first source that has it.

    Cached live data is used while fresh (``settings.cache_max_age_days``); expired,
    or with ``refresh``, it is fetched again, and the old copy used (with a warning)
    only when the fetch fails or ``offline``.

    Parameters
    ----------
    layer : Layer
    points : list of (lon, lat)
        The layer's stations or crossings, in order; the data is clipped to a
        buffer around them (``[osm] clip_buffer_km`` in the layer file).
    osm_dir, snapshot_dir : path, optional
    offline : bool
        Never touch the network (cache, then schematic).
    refresh : bool
        Fetch live data again even when the cache holds fresh data.
    """
    area = line_buffer_km(points, float(layer.osm.get("clip_buffer_km", 50)))
    warnings: list[str] = []
    if osm_dir is not None:
        lines, pts = local.read_local(osm_dir, area)
        if lines.empty:
            warnings.append(f"{layer.id}: --osm-dir {osm_dir} has no lines near the layer; drawn schematically")
            return LayerData(lines, pts, "schematic", "no OSM lines in --osm-dir near this layer", warnings)
        n_files = lines["file"].nunique()
        return LayerData(lines, pts, "osm", f"local OSM extract {osm_dir} ({n_files} files)", warnings)
    if snapshot_dir is not None:
        lines, pts, detail = snapshot.read_layer(snapshot_dir, layer.id)
        return LayerData(lines, pts, "snapshot", detail, warnings)
    bundled = _bundled(layer, warnings)
    try:
        cached = cache.read_entry(layer)
    except DataError as exc:
        warnings.append(exc.message)
        cached = None
    newer = cached is not None and (bundled is None or bundle.is_newer(cached.detail, bundled[2]))
    if newer and not cached.expired and not refresh:
        return LayerData(cached.lines, cached.points, "cache", cached.detail, warnings)
    network_failed, problem = False, ""
    if not offline:
        # Imported here: the live path needs osmnx and requests (~0.5 s to import); builds
        # from local data, a snapshot or the cache do not.
        from . import fetch

        try:
            lines, pts, detail = fetch.fetch_layer(layer, area, refresh=refresh)
            return LayerData(lines, pts, "osm", detail, warnings)
        except QueryError as exc:
            warnings.append(f"{exc.message}; drawn schematically")
            detail = f"schematic: drawn through the geocoded stations (Overpass refused the query: {exc.server_text})"
            return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings, query_error=exc)
        except NetworkError as exc:
            network_failed, problem = True, f"{layer.id}: {exc.message}"
        except DataError as exc:  # its message names the layer
            problem = exc.message
    if newer:  # expired, or --refresh: the old copy when no new one came
        age = f"fetched {cached.fetched:%Y-%m-%d}" if cached.fetched else "of unknown age"
        if cached.expired:
            age += f", older than {settings.cache_max_age_days:g} days"
        warnings.append(f"{layer.id}: using cached OSM data {age} ({problem or 'offline'}); rerun online to "
                        "refresh it")
        return LayerData(cached.lines, cached.points, "cache", cached.detail, warnings, network_failed=network_failed)
    if problem:
        warnings.append(f"{problem}; {_instead(bundled)}")
    if bundled is not None:
        lines, pts, detail = bundled
        return LayerData(lines, pts, "snapshot", detail, warnings, network_failed=network_failed)
    why = "the live fetch failed" if network_failed else "no OSM data: offline, or not found"
    detail = f"schematic: drawn through the geocoded stations ({why})"
    return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings, network_failed=network_failed)


def _bundled(layer: Layer, warnings: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str] | None:
    """The layer's data in the bundled snapshot, or None (a damaged bundle is reported in ``warnings``)."""
    try:
        return bundle.read_bundled(layer.id)
    except DataError as exc:
        warnings.append(f"{layer.id}: the bundled OSM snapshot is damaged ({exc.message})")
        return None


def _instead(bundled) -> str:
    """What a layer falls back to when the live fetch has nothing."""
    return "the bundled snapshot is used" if bundled is not None else "drawn schematically"


def data_fingerprint(
    layer: Layer,
    *,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    offline: bool = False,
) -> str | None:
    """Identify, without reading it, the data :func:`get_layer_data` would use; None when it cannot.

    The same order of sources: a content hash of every file under ``osm_dir``; of the
    snapshot's manifest and layer file; or the checksum of the layer's cache entry. None
    when the data would come from a live fetch or be drawn schematically (nothing to reuse).
    The layer's clip area is not part of it: it follows from the layer file.
    """
    h = sha256()
    if osm_dir is not None:
        paths = local.osm_files(osm_dir)
        h.update(b"osm")
    elif snapshot_dir is not None:
        folder = Path(snapshot_dir)
        paths = [folder / snapshot.MANIFEST, folder / f"{layer.id}.gpkg"]
        if not all(p.is_file() for p in paths):
            return None  # get_layer_data reports what is missing
        h.update(b"snapshot")
    else:
        # the cache, or the bundled snapshot when the cache has nothing newer (offline or after a failed fetch)
        entry = cache.checksum(layer)
        folder = bundle.bundled_dir()
        manifest = folder / snapshot.MANIFEST if folder is not None else None
        bundled = _content_hash(manifest.resolve(), *_stamp(manifest)) if manifest and manifest.is_file() else None
        if entry is None and (not offline or bundled is None):
            return None  # a live fetch or a schematic drawing: nothing to reuse
        return f"cache:{entry}|bundle:{bundled}"
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


def check_sources(layer_ids: Iterable[str], osm_dir: str | Path | None = None,
                  snapshot_dir: str | Path | None = None) -> None:
    """Check the data source options before any work: one of them at most, the folder usable.

    Raises
    ------
    InputError
        When both ``--osm-dir`` and ``--snapshot`` are given.
    DataError
        When ``--osm-dir`` holds no OSM data, or the snapshot lacks a layer or is malformed.
    """
    if osm_dir is not None and snapshot_dir is not None:
        raise InputError("--snapshot and --osm-dir both given: a build reads one data source; drop one of them")
    if osm_dir is not None:
        local.osm_files(osm_dir)
    if snapshot_dir is not None:
        snapshot.read_manifest(snapshot_dir)
        for layer_id in layer_ids:
            snapshot.layer_file(snapshot_dir, layer_id)


def snapshot_layers(
    layer_ids: Iterable[str],
    out_dir: str | Path,
    *,
    osm_dir: str | Path | None = None,
    offline: bool = False,
    refresh: bool = False,
    zoom: int | None = None,
    osm_date: str | None = None,
    osm_date_note: str = "",
    skip_missing: bool = False,
    places_dirs: Iterable[str | Path] = (),
) -> Path:
    """Get each layer's data (:func:`get_layer_data`) and write a snapshot (:mod:`geo.osm.snapshot`).

    Parameters
    ----------
    layer_ids : iterable of str
    out_dir : path
    osm_dir : path, optional
        Build from a local extract instead of the cache or Overpass.
    offline : bool
        Use only the cache (with ``osm_dir`` unset).
    refresh : bool
        Fetch live data again even when the cache holds fresh data.
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
    """
    snapshot.check_out_dir(out_dir)
    if osm_dir is not None:
        local.osm_files(osm_dir)
    places = _snapshot_places(out_dir, list(places_dirs), osm_date, osm_date_note)
    from .queries import layer_queries  # osmnx, via the Overpass settings: see get_layer_data

    data: dict[str, snapshot.LayerTuple] = {}
    queries: dict[str, Any] = {}
    left_out: dict[str, str] = {}
    for layer_id in layer_ids:
        layer = load_layer(layer_id)
        points = layer_points(layer)
        got = get_layer_data(layer, points, osm_dir=osm_dir, offline=offline, refresh=refresh)
        if got.query_error is not None:
            raise got.query_error
        if got.source in ("schematic", "snapshot") or got.lines.empty:
            why = "; ".join(got.warnings) or got.detail
            if not skip_missing:
                raise DataError(f"{layer_id}: no OSM data to snapshot ({why}): go online, or pass --osm-dir")
            log.warning("%s: left out of the snapshot: %s", layer_id, why)
            left_out[layer_id] = why
            continue
        lines, pts, detail = got.lines, got.points, got.detail
        if zoom is not None:
            lines, pts = bundle.reduce_frame(lines, zoom=zoom), bundle.reduce_frame(pts, zoom=zoom)
            detail = f"{detail}; simplified for zoom {zoom}"
        if osm_date and not bundle.data_date(detail):
            detail = f"OSM data as of {osm_date}, {detail}"
        data[layer_id] = (lines, pts, got.source, detail)
        entry: dict[str, Any] = {"selectors": layer.osm, "source": got.source}
        if osm_dir is not None:
            entry["osm_dir"] = str(osm_dir)
        else:
            entry["overpass"] = cache.queries(layer) or layer_queries(layer, points)
        queries[layer_id] = entry
    if not data:
        raise DataError(f"no layer has OSM data to snapshot ({', '.join(left_out)}): go online, or pass --osm-dir")
    extra: dict[str, Any] = {"left_out": left_out}
    if zoom is not None:
        extra["reduced"] = {"zoom": zoom, "simplify_tolerance_deg": bundle.zoom_tolerance_deg(zoom),
                            "tolerance_scaled_by": "cos(highest latitude of each line)",
                            "kept": "vertices shared by lines (junctions, line ends)",
                            "max_gap_km": settings.bundled_max_gap_km, "decimals": settings.bundled_decimals}
    if osm_date:
        extra["osm_date"] = {"date": osm_date, "note": osm_date_note}
    return snapshot.write_snapshot(out_dir, data, queries, extra, places)


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
        if frame is not None:
            keep = ("sources", "files", "osm_date", "osm_date_note", "attribution", "license")
            return frame, {k: old[k] for k in keep if k in old}
    return None
