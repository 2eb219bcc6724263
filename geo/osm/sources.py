"""Where a layer's OSM data comes from, behind one interface.

Order: a local extract (``--osm-dir``), a snapshot (``--snapshot``), the disk
cache of earlier live fetches, a live fetch (Overpass), and last the offline
schematic fallback (no data: the corridor is drawn through its stations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pyproj import CRS, Transformer
from shapely.geometry import LineString, MultiPoint, Point
import shapely

from . import local as osmdata
from ..errors import DataError, NetworkError, QueryError
from ..corridors.layers import Layer

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


def empty_frame() -> gpd.GeoDataFrame:
    """An empty GeoDataFrame in EPSG:4326 with the columns the readers provide."""
    return osmdata._concat([])


def layer_area(points: list[tuple[float, float]], buffer_km: float):
    """Polygon within ``buffer_km`` of the line through ``points`` ((lon, lat) pairs).

    Buffered in an azimuthal equidistant projection centred on the points.
    """
    geom = LineString(points) if len(points) > 1 else Point(points[0])
    centre = MultiPoint(points).centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs(4326, aeqd, always_xy=True).transform
    back = Transformer.from_crs(aeqd, 4326, always_xy=True).transform
    densified = shapely.transform(geom, fwd, interleaved=False).segmentize(20_000)
    return shapely.transform(densified.buffer(buffer_km * 1000.0, quad_segs=4), back, interleaved=False)


def get_layer_data(
    layer: Layer,
    points: list[tuple[float, float]],
    *,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    offline: bool = False,
) -> LayerData:
    """Fetch a layer's OSM data from the first source that has it.

    Parameters
    ----------
    layer : Layer
    points : list of (lon, lat)
        The layer's stations or crossings, in order; the data is clipped to a
        buffer around them (``[osm] clip_buffer_km`` in the layer file).
    osm_dir, snapshot_dir : path, optional
    offline : bool
        Never touch the network (cache, then schematic).
    """
    area = layer_area(points, float(layer.osm.get("clip_buffer_km", 50)))
    warnings: list[str] = []
    if osm_dir is not None:
        lines, pts = osmdata.read_local(osm_dir, area)
        if lines.empty:
            warnings.append(f"{layer.id}: --osm-dir {osm_dir} has no lines near the layer; drawn schematically")
            return LayerData(lines, pts, "schematic", "no OSM lines in --osm-dir near this layer", warnings)
        n_files = lines["file"].nunique()
        return LayerData(lines, pts, "osm", f"local OSM extract {osm_dir} ({n_files} files)", warnings)
    if snapshot_dir is not None:
        from . import snapshot

        lines, pts, detail = snapshot.read_layer(snapshot_dir, layer.id)
        return LayerData(lines, pts, "snapshot", detail, warnings)
    from . import fetch as overpass

    try:
        cached = overpass.load_cached(layer)
    except DataError as exc:
        warnings.append(exc.message)
        cached = None
    if cached is not None:
        lines, pts, detail = cached
        return LayerData(lines, pts, "cache", detail, warnings)
    if not offline:
        try:
            lines, pts, detail = overpass.fetch_layer(layer, area)
            return LayerData(lines, pts, "osm", detail, warnings)
        except NetworkError as exc:
            warnings.append(f"{layer.id}: {exc.message}; drawn schematically")
            detail = "schematic: drawn through the geocoded stations (the live fetch failed)"
            return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings, network_failed=True)
        except QueryError as exc:
            warnings.append(f"{exc.message}; drawn schematically")
            detail = f"schematic: drawn through the geocoded stations (Overpass refused the query: {exc.server_text})"
            return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings, query_error=exc)
        except DataError as exc:
            warnings.append(f"{layer.id}: {exc.message}; drawn schematically")
    detail = "schematic: drawn through the geocoded stations (no OSM data: offline, or not found)"
    return LayerData(empty_frame(), empty_frame(), "schematic", detail, warnings)
