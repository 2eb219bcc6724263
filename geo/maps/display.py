"""Display geometry: lines simplified and rounded to what a zoom level can show (smaller HTML, same picture).

Lines travel to the page as Google encoded polylines (the ``polyline`` package), decoded there.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pypolyline.cutil import encode_coordinates

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

#: Display geometry: the zoom level the map must look exact at, and the error allowed there.
TARGET_ZOOM = 14
#: Douglas-Peucker tolerance, in screen pixels at TARGET_ZOOM: Leaflet's own smoothing (``smoothFactor`` 1)
#: simplifies by a pixel when it draws, so the line looks the same; rounding adds at most a quarter pixel.
SIMPLIFY_PX = 1.0


def display_tolerance(max_abs_lat: float, zoom: int = TARGET_ZOOM) -> tuple[float, int]:
    """(simplify tolerance in degrees, decimals to round to) for lines drawn at ``zoom``.

    One screen pixel at ``zoom`` spans ``360 / (256 * 2**zoom)`` degrees of
    longitude and ``cos(lat)`` times that of latitude (Web Mercator); the
    smaller, at the line's highest latitude, sets both numbers: the tolerance is
    :data:`SIMPLIFY_PX` of it and rounding moves a vertex at most a quarter of it.
    """
    px = 360.0 / (256 * 2 ** zoom) * math.cos(math.radians(min(abs(max_abs_lat), 85.0)))
    decimals = math.ceil(-math.log10(0.5 * px))
    return SIMPLIFY_PX * px, decimals


def display_geometry(geom: BaseGeometry | None, zoom: int = TARGET_ZOOM,
                     ref_lat: float | None = None) -> tuple[BaseGeometry | None, int]:
    """``geom`` simplified (topology-preserving) and rounded for display at ``zoom``.

    The pixel size is taken at the geometry's highest latitude, or at ``ref_lat`` when given
    (a base map reaching the poles need not be exact there).

    Returns
    -------
    (geometry, decimals)
        The simplified geometry and the number of decimals its coordinates need.
    """
    if geom is None or geom.is_empty:
        return geom, 6
    minx, miny, maxx, maxy = geom.bounds
    tolerance, decimals = display_tolerance(max(abs(miny), abs(maxy)) if ref_lat is None else ref_lat, zoom)
    return shapely.simplify(geom, tolerance, preserve_topology=True), decimals


def display_coords(geom: BaseGeometry | None, zoom: int = TARGET_ZOOM) -> list[list[tuple[float, float]]]:
    """(lat, lon) lists, one per part, of a line simplified and rounded for ``zoom``."""
    simple, decimals = display_geometry(geom, zoom)
    return [[(lat, lon) for lat, lon in part.tolist()] for part in _rounded_parts(simple, _precision(decimals))]


def _precision(decimals: int) -> int:
    """The encoded polylines' precision for ``decimals``: 5 or 6 (coarser coordinates travel at 5)."""
    return min(max(decimals, 5), 6)


def _rounded_parts(simple, decimals: int) -> list[np.ndarray]:
    """(lat, lon) arrays, one per part with at least two distinct points, rounded to ``decimals``."""
    parts = []
    for part in _linear_parts(simple):
        if part is None or part.is_empty:
            continue
        coords = np.round(shapely.get_coordinates(part)[:, ::-1], decimals)
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = (coords[1:] != coords[:-1]).any(axis=1)  # drop repeats left by rounding
        coords = coords[keep]
        if len(coords) > 1:
            parts.append(coords)
    return parts


def encoded_parts(geom: BaseGeometry | None, zoom: int = TARGET_ZOOM, ref_lat: float | None = None) -> tuple[list[str], int]:
    """A line (or a polygon's rings) as encoded polylines, one per part, and their precision in decimals.

    Decoding gives exactly the coordinates of :func:`display_coords`.
    """
    simple, decimals = display_geometry(geom, zoom, ref_lat)
    precision = _precision(decimals)
    parts = _rounded_parts(simple, precision)
    # an ndarray is a buffer; pypolyline's hint does not say so
    return [encode_coordinates(part[:, ::-1], precision).decode("ascii")  # type: ignore[arg-type]
            for part in parts], precision


def _linear_parts(geom) -> list:
    """The lines of a geometry: its parts, and for polygons their rings."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom.exterior, *geom.interiors]
    if hasattr(geom, "geoms"):
        return [line for part in geom.geoms for line in _linear_parts(part)]
    return [geom]
