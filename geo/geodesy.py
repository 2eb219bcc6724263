"""Geodesy in one place: distances, lengths, densified great circles and metric buffers on WGS84.

Every distance the package reports is geodesic (``pyproj.Geod`` on the WGS84
ellipsoid), except :func:`haversine_km`, the spherical formula kept for the
geocoder's candidate scoring, where it runs in a hot loop and 0.3% is plenty.
Buffers are drawn in an azimuthal equidistant projection centred on the
geometry, so "within 10 km" means 10 km anywhere on Earth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.ops import nearest_points

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from shapely.geometry.base import BaseGeometry

#: The WGS84 ellipsoid, for every geodesic computation.
GEOD = Geod(ellps="WGS84")
EARTH_RADIUS_KM = 6371.0088
#: Kilometres per degree of latitude (and of longitude at the equator), for search radii in degrees.
KM_PER_DEG = 111.32


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km on a sphere (fast scalar form; within 0.3% of geodesic)."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_matrix_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """:func:`haversine_km` from each point 1 (rows) to each point 2 (columns), as an array."""
    p1, l1 = np.radians(np.asarray(lat1, dtype=float))[:, None], np.radians(np.asarray(lon1, dtype=float))[:, None]
    p2, l2 = np.radians(np.asarray(lat2, dtype=float))[None, :], np.radians(np.asarray(lon2, dtype=float))[None, :]
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def geodesic_distance_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> np.ndarray:
    """Geodesic distance in km between points (scalars or arrays, broadcast)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist) / 1000.0


def geodesic_length_km(geom: BaseGeometry | None) -> float:
    """Geodesic length of a (multi)line in km (0 for None or empty)."""
    if geom is None or geom.is_empty:
        return 0.0
    return GEOD.geometry_length(geom) / 1000.0


def distance_to_line_km(geom: BaseGeometry, lon: float, lat: float) -> float:
    """Geodesic km from (lon, lat) to the nearest point of ``geom`` (found in a locally scaled plane)."""
    scale = max(np.cos(np.radians(lat)), 0.05)
    squeezed = affinity.scale(geom, xfact=scale, yfact=1.0, origin=(0, 0))
    near = nearest_points(squeezed, Point(lon * scale, lat))[0]
    return float(geodesic_distance_km(lon, lat, near.x / scale, near.y))


def densify(points: Sequence[tuple[float, float]], step_km: float = 10.0) -> list[tuple[float, float]]:
    """Points along the geodesics between consecutive (lon, lat) ``points``, at most ``step_km`` apart."""
    points = [(float(x), float(y)) for x, y in points]
    out = points[:1]
    for (x1, y1), (x2, y2) in zip(points[:-1], points[1:]):
        dist_km = GEOD.inv(x1, y1, x2, y2)[2] / 1000.0
        n = int(np.ceil(dist_km / step_km)) - 1
        if n > 0:
            out.extend(GEOD.npts(x1, y1, x2, y2, n))
        out.append((x2, y2))
    return out


def great_circle(lon1: float, lat1: float, lon2: float, lat2: float, step_km: float = 20.0) -> LineString:
    """The great-circle line between two points, densified every ``step_km`` (a schematic leg)."""
    return LineString(densify([(lon1, lat1), (lon2, lat2)], step_km))


def chunk_line(coords: Sequence[tuple[float, float]], piece_km: float) -> list[list[tuple[float, float]]]:
    """Cut a vertex list into runs at most ``piece_km`` long (geodesic), sharing end vertices."""
    if len(coords) < 2:
        return [list(coords)]
    arr = np.asarray(coords, dtype=float)
    steps = GEOD.inv(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])[2] / 1000.0
    chunks, current, length = [], [tuple(arr[0])], 0.0
    for xy, step in zip(arr[1:], steps):
        if length + step > piece_km and len(current) > 1:
            chunks.append(current)
            current, length = [current[-1]], 0.0
        current.append(tuple(xy))
        length += step
    chunks.append(current)
    return chunks


def buffer_km(geom: BaseGeometry, distance_km: float, *, segment_km: float = 20.0, simplify_m: float = 0.0) -> Polygon:
    """Buffer ``geom`` by ``distance_km`` in an azimuthal equidistant projection centred on it.

    Parameters
    ----------
    geom : shapely geometry in lon/lat
    distance_km : float
    segment_km : float
        Long edges are split into pieces this long before buffering, so the
        buffer follows the geodesic rather than the straight lon/lat edge.
    simplify_m : float
        Drop vertices within this many metres before buffering and grow the
        buffer by as much (smaller polygons for queries, never thinner).
    """
    centre = geom.centroid if not isinstance(geom, MultiPoint) else geom.convex_hull.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs(4326, aeqd, always_xy=True).transform
    back = Transformer.from_crs(aeqd, 4326, always_xy=True).transform
    local = shapely.transform(geom, fwd, interleaved=False)
    if segment_km:
        local = local.segmentize(segment_km * 1000.0)
    if simplify_m:
        local = local.simplify(simplify_m)
    return shapely.transform(local.buffer(distance_km * 1000.0 + simplify_m, quad_segs=4), back, interleaved=False)


def line_buffer_km(points: Sequence[tuple[float, float]], distance_km: float) -> Polygon:
    """Polygon within ``distance_km`` of the line through (lon, lat) ``points`` (a point when only one)."""
    geom = LineString(points) if len(points) > 1 else Point(points[0])
    return buffer_km(geom, distance_km)
