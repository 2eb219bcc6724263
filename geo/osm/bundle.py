"""The snapshot shipped inside the package, and how OSM data is reduced to fit in it.

The bundled snapshot (``settings.bundled_snapshot_dir``, by default
``geo/data/snapshot/``) is an ordinary :mod:`geo.osm.snapshot` folder whose
geometry is reduced to what a web map needs up to ``settings.bundled_zoom``
(:func:`reduce_frame`: simplified to a pixel, coordinates rounded). It lets a fresh install draw real rail geometry with no
network and no extract beside it. ``corridormap snapshot --bundled`` rewrites it
(:func:`geo.osm.sources.snapshot_layers`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .. import settings
from ..errors import DataError
from . import snapshot
from .fetch import osm_timestamp

log = logging.getLogger(__name__)

#: Prefix of the detail string of data read from the bundled snapshot.
DETAIL_PREFIX = "bundled with corridormap"
#: Web-map tile size in pixels (Leaflet's default).
TILE_PX = 256


def bundled_dir() -> Path | None:
    """The bundled snapshot folder, or None when it is switched off or absent."""
    folder = settings.bundled_snapshot_dir
    if folder is None or not (Path(folder) / snapshot.MANIFEST).is_file():
        return None
    return Path(folder)


def read_bundled(layer_id: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str] | None:
    """A layer's ``(lines, points, detail)`` from the bundled snapshot, or None when it lacks the layer.

    Raises
    ------
    DataError
        When the bundled snapshot is damaged (a checksum differs from its manifest).
    """
    folder = bundled_dir()
    if folder is None or layer_id not in snapshot.read_manifest(folder)["layers"]:
        return None
    lines, points, detail = snapshot.read_layer(folder, layer_id)
    return lines, points, f"{DETAIL_PREFIX}: {detail}"


def data_date(detail: str) -> str | None:
    """The date of the OSM data a detail string names (``data as of ...``), as ``YYYY-MM-DD`` or shorter."""
    stamp = osm_timestamp(detail)
    if not stamp or stamp == "unknown":
        return None
    return stamp[:10]


def is_newer(detail: str, than: str) -> bool:
    """True when the data of ``detail`` is at least as recent as that of ``than`` (an undated one is not)."""
    mine, theirs = data_date(detail), data_date(than)
    if mine is None:
        return False
    return theirs is None or mine >= theirs[: len(mine)]


def zoom_tolerance_deg(zoom: int) -> float:
    """One pixel at ``zoom`` on the equator, in degrees (smaller in metres away from it)."""
    return 360.0 / (TILE_PX * 2**zoom)


def reduce_frame(frame: gpd.GeoDataFrame, zoom: int | None = None, decimals: int | None = None) -> gpd.GeoDataFrame:
    """Reduce OSM geometry to what a map needs up to ``zoom``.

    Lines are simplified with a tolerance of one pixel at ``zoom`` (their ends
    are kept, so a rail network stays joined where it was), and every
    coordinate is rounded to ``decimals`` places.

    Parameters
    ----------
    frame : GeoDataFrame
        Lines and/or points in EPSG:4326.
    zoom, decimals : int, optional
        Default ``settings.bundled_zoom`` and ``settings.bundled_decimals``.

    Returns
    -------
    GeoDataFrame
        The same rows (less any left empty), reduced geometry.
    """
    zoom = settings.bundled_zoom if zoom is None else zoom
    decimals = settings.bundled_decimals if decimals is None else decimals
    if frame.empty:
        return frame
    geoms = frame.geometry.values
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))  # LineString, MultiLineString
    geoms = np.where(is_line, shapely.simplify(geoms, zoom_tolerance_deg(zoom), preserve_topology=False), geoms)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    out = frame.copy()
    out["geometry"] = gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index)
    kinds = shapely.get_type_id(geoms)
    keep = ~shapely.is_empty(geoms) & np.isin(kinds, (0, 1, 5))  # Point, LineString, MultiLineString
    return out[keep].reset_index(drop=True)


def check_bundled(folder: str | Path | None = None) -> list[str]:
    """Problems with a bundled snapshot against its manifest (empty when it is sound).

    Every layer file is present and matches its checksum, every layer has a
    data date, and the manifest states its attribution and licence.
    """
    folder = Path(folder) if folder is not None else Path(settings.bundled_snapshot_dir)
    try:
        manifest = snapshot.read_manifest(folder)
    except DataError as exc:
        return [exc.message]
    problems = []
    if "OpenStreetMap" not in str(manifest.get("attribution", "")) or "ODbL" not in str(manifest.get("license", "")):
        problems.append(f"{folder}: the manifest lacks the OpenStreetMap attribution or the ODbL licence")
    for layer_id, entry in sorted(manifest["layers"].items()):
        try:
            snapshot.read_layer(folder, layer_id)
        except DataError as exc:
            problems.append(exc.message)
            continue
        if data_date(str(entry.get("detail", ""))) is None:
            problems.append(f"{folder}: layer {layer_id!r} has no OSM data date")
    return problems
