"""The snapshot shipped inside the package, and how OSM data is reduced to fit in it.

The bundled snapshot (``settings.bundled_snapshot_dir``, by default
``geo/data/snapshot/``) is an ordinary :mod:`geo.osm.snapshot` folder whose
geometry is reduced to what a web map needs up to ``settings.bundled_zoom``
(:func:`reduce_frame`: simplified to within a pixel, coordinates rounded). It lets a fresh install draw real rail geometry with no
network and no extract beside it. ``corridormap snapshot --bundled`` rewrites it
(:func:`geo.osm.source.snapshot_layers`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import settings
from ..errors import DataError
from . import snapshot
from .provenance import BUNDLED_DETAIL, Provenance

# geopandas, pandas, NumPy and shapely are imported where geometry is reduced: finding the bundled snapshot
# and its manifest (a data source's fingerprint) needs none of them.
if TYPE_CHECKING:
    from collections.abc import Iterable

    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

log = logging.getLogger(__name__)

#: Web-map tile size in pixels (Leaflet's default).
TILE_PX = 256


def bundled_dir() -> Path | None:
    """The bundled snapshot folder, or None when it is switched off or absent."""
    folder = settings.bundled_snapshot_dir
    if folder is None or not (Path(folder) / snapshot.MANIFEST).is_file():
        return None
    return Path(folder)


def read_bundled(layer_id: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Provenance] | None:
    """A layer's ``(lines, points, provenance)`` from the bundled snapshot, or None when it lacks the layer.

    The provenance's source is ``"snapshot"``; its detail starts with :data:`geo.osm.provenance.BUNDLED_DETAIL`.

    Raises
    ------
    DataError
        When the bundled snapshot is damaged (a checksum differs from its manifest).
    """
    folder = bundled_dir()
    if folder is None or layer_id not in snapshot.read_manifest(folder)["layers"]:
        return None
    lines, points, provenance = snapshot.read_layer(folder, layer_id)
    return lines, points, replace(provenance, detail=f"{BUNDLED_DETAIL}: {provenance.detail}")


def zoom_tolerance_deg(zoom: int) -> float:
    """One pixel at ``zoom`` in degrees of longitude (Web Mercator: the same at every latitude)."""
    return 360.0 / (TILE_PX * 2**zoom)


def reduce_frame(
    frame: gpd.GeoDataFrame, zoom: int | None = None, decimals: int | None = None, max_gap_km: float | None = None
) -> gpd.GeoDataFrame:
    """Reduce OSM geometry to what a map needs up to ``zoom``, keeping the rail network as routable.

    Lines are simplified (Douglas-Peucker) to within one pixel at ``zoom``: the
    tolerance is :func:`zoom_tolerance_deg` times the cosine of the line's
    highest latitude, so it holds north-south too. Routing works on vertices
    (:mod:`geo.corridors.routing`), so the vertices lines share (junctions, line
    ends) are kept, and long straight stretches keep a vertex every
    ``max_gap_km`` for stations to snap to. Every coordinate is then rounded to
    ``decimals`` places.

    Parameters
    ----------
    frame : GeoDataFrame
        Lines and/or points in EPSG:4326.
    zoom, decimals : int, optional
        Default ``settings.bundled_zoom`` and ``settings.bundled_decimals``.
    max_gap_km : float, optional
        Default ``settings.bundled_max_gap_km``.

    Returns
    -------
    GeoDataFrame
        The same rows (less any left empty), reduced geometry.
    """
    zoom = settings.bundled_zoom if zoom is None else zoom
    decimals = settings.bundled_decimals if decimals is None else decimals
    max_gap_km = settings.bundled_max_gap_km if max_gap_km is None else max_gap_km
    import geopandas as gpd
    import numpy as np
    import shapely

    from ..geodesy import KM_PER_DEG

    if frame.empty:
        return frame
    geoms = np.array(frame.geometry.values, dtype=object)
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))  # LineString, MultiLineString
    if is_line.any():
        keep = shared_vertices(geoms[is_line])
        pixel = zoom_tolerance_deg(zoom)
        gap_deg = max_gap_km / KM_PER_DEG
        geoms[is_line] = [_reduce_line(g, pixel, keep, gap_deg) for g in geoms[is_line]]
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    out = frame.copy()
    out["geometry"] = gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index)
    kinds = shapely.get_type_id(geoms)
    keep_rows = ~shapely.is_empty(geoms) & np.isin(kinds, (0, 1, 5))  # Point, LineString, MultiLineString
    return out[keep_rows].reset_index(drop=True)


def shared_vertices(lines: Iterable[BaseGeometry]) -> set[tuple[float, float]]:
    """Vertices (rounded to 1e-6 degrees, as the rail graph's nodes) that occur in more than one line."""
    import numpy as np
    import pandas as pd
    import shapely

    xy, index = shapely.get_coordinates(lines, return_index=True)
    keys = pd.DataFrame({"x": np.round(xy[:, 0], 6), "y": np.round(xy[:, 1], 6), "line": index}).drop_duplicates()
    counts = keys.groupby(["x", "y"]).size()
    return set(counts[counts > 1].index)


def _reduce_line(geom, pixel_deg: float, keep: set[tuple[float, float]], gap_deg: float):
    """Simplify each part between kept vertices; a vertex at least every ``gap_deg``."""
    import numpy as np
    import shapely

    parts = []
    for part in shapely.get_parts(geom):
        coords = shapely.get_coordinates(part)
        if len(coords) < 3:
            parts.append(part)
            continue
        tolerance = pixel_deg * float(np.cos(np.radians(np.abs(coords[:, 1]).max())))
        cuts = [0] + [i for i in range(1, len(coords) - 1)
                      if (round(coords[i, 0], 6), round(coords[i, 1], 6)) in keep] + [len(coords) - 1]
        out = [coords[0]]
        for a, b in zip(cuts[:-1], cuts[1:]):
            piece = coords[a:b + 1]
            simple = shapely.simplify(shapely.linestrings(piece), tolerance)
            if shapely.get_num_coordinates(simple) >= 2 and shapely.length(simple) > 0:  # not a collapsed loop
                piece = shapely.get_coordinates(shapely.segmentize(simple, gap_deg))
            out.extend(piece[1:])
        parts.append(shapely.linestrings(np.array(out)))
    return parts[0] if len(parts) == 1 and geom.geom_type == "LineString" else shapely.multilinestrings(parts)


def check_bundled(folder: str | Path | None = None) -> list[str]:
    """Problems with a bundled snapshot against its manifest (empty when it is sound).

    Every layer file (and the place table, when there is one) is present and matches its
    checksum, every layer has a data date, the manifest states its attribution and licence, and the folder
    holds at most ``settings.bundled_max_bytes``.
    """
    if folder is None:
        if settings.bundled_snapshot_dir is None:
            return ["no bundled snapshot: CORRIDORMAP_BUNDLED_SNAPSHOT is empty"]
        folder = settings.bundled_snapshot_dir
    folder = Path(folder)
    try:
        manifest = snapshot.read_manifest(folder)
    except DataError as exc:
        return [exc.message]
    problems = []
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    if size > settings.bundled_max_bytes:
        problems.append(f"{folder} holds {size / 1e6:.1f} MB, over the {settings.bundled_max_bytes / 1e6:.0f} MB "
                        "budget: bundle fewer layers (--layer ID ...)")
    if "OpenStreetMap" not in str(manifest.get("attribution", "")) or "ODbL" not in str(manifest.get("license", "")):
        problems.append(f"{folder}: the manifest lacks the OpenStreetMap attribution or the ODbL licence")
    for layer_id in sorted(manifest["layers"]):
        try:
            _, _, provenance = snapshot.read_layer(folder, layer_id)
        except DataError as exc:
            problems.append(exc.message)
            continue
        if provenance.data_date is None:
            problems.append(f"{folder}: layer {layer_id!r} has no OSM data date")
    if manifest.get("places"):
        from ..core.place_table import read_places

        try:
            read_places(folder)
        except DataError as exc:
            problems.append(exc.message)
        if not manifest["places"].get("osm_date"):
            problems.append(f"{folder}: the place table has no OSM data date")
    return problems
