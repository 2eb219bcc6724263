"""Where a layer's OSM data comes from, behind one interface.

Order: a local extract (``--osm-dir``), a snapshot (``--snapshot``), the disk
cache of earlier live fetches, a live fetch (Overpass), and last the offline
schematic fallback (no data: the corridor is drawn through its stations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from typing import Any, Iterable

import geopandas as gpd

from .. import settings
from ..corridors.layers import Layer, load_layer
from ..corridors.stations import layer_points
from ..errors import DataError, InputError, NetworkError, QueryError
from ..geodesy import line_buffer_km
from . import cache, fetch, local, snapshot
from .queries import layer_queries
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
    try:
        cached = cache.read_entry(layer)
    except DataError as exc:
        warnings.append(exc.message)
        cached = None
    if cached is not None and not cached.expired and not refresh:
        return LayerData(cached.lines, cached.points, "cache", cached.detail, warnings)
    failed = False
    if not offline:
        try:
            lines, pts, detail = fetch.fetch_layer(layer, area, refresh=refresh)
            return LayerData(lines, pts, "osm", detail, warnings)
        except NetworkError as exc:
            failed, problem = True, f"{layer.id}: {exc.message}"
        except QueryError as exc:
            warnings.append(f"{exc.message}; drawn schematically")
            detail = f"schematic: drawn through the geocoded stations (Overpass refused the query: {exc.server_text})"
            return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings, query_error=exc)
        except DataError as exc:  # its message names the layer
            problem = exc.message
        if cached is None:
            warnings.append(f"{problem}; drawn schematically")
    if cached is not None:
        age = f"fetched {cached.fetched:%Y-%m-%d}" if cached.fetched else "of unknown age"
        why = "offline" if offline else problem
        warnings.append(f"{layer.id}: using cached OSM data {age}, older than {settings.cache_max_age_days:g} days "
                        f"({why}); rerun online to refresh it")
        return LayerData(cached.lines, cached.points, "cache", cached.detail, warnings, network_failed=failed)
    if failed:
        detail = "schematic: drawn through the geocoded stations (the live fetch failed)"
        return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings, network_failed=True)
    detail = "schematic: drawn through the geocoded stations (no OSM data: offline, or not found)"
    return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings)


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

    Raises
    ------
    QueryError
        When Overpass refused a layer's query (the server's reason and the fix).
    DataError
        When a layer has no OSM data (it would be drawn schematically): a
        snapshot holds only real data.
    """
    snapshot.check_out_dir(out_dir)
    if osm_dir is not None:
        local.osm_files(osm_dir)
    data: dict[str, snapshot.LayerTuple] = {}
    queries: dict[str, Any] = {}
    for layer_id in layer_ids:
        layer = load_layer(layer_id)
        points = layer_points(layer)
        got = get_layer_data(layer, points, osm_dir=osm_dir, offline=offline, refresh=refresh)
        if got.query_error is not None:
            raise got.query_error
        if got.source == "schematic" or got.lines.empty:
            why = "; ".join(got.warnings) or got.detail
            raise DataError(f"{layer_id}: no OSM data to snapshot ({why}): go online, or pass --osm-dir")
        data[layer_id] = (got.lines, got.points, got.source, got.detail)
        entry: dict[str, Any] = {"selectors": layer.osm, "source": got.source}
        if osm_dir is not None:
            entry["osm_dir"] = str(osm_dir)
        else:
            entry["overpass"] = cache.queries(layer) or layer_queries(layer, points)
        queries[layer_id] = entry
    return snapshot.write_snapshot(out_dir, data, queries)
