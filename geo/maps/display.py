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


#: Web Mercator: the world is ``256 * 2**zoom`` pixels wide; latitudes past this are off the map.
MERCATOR_MAX_LAT = 85.05112878


def to_pixels(lonlat: np.ndarray, zoom: int) -> np.ndarray:
    """(x, y) Web Mercator pixel coordinates at ``zoom`` of (lon, lat) rows."""
    size = 256 * 2 ** zoom
    lat = np.radians(np.clip(lonlat[:, 1], -MERCATOR_MAX_LAT, MERCATOR_MAX_LAT))
    x = (lonlat[:, 0] + 180.0) / 360.0 * size
    y = (1.0 - np.arcsinh(np.tan(lat)) / math.pi) / 2.0 * size
    return np.column_stack([x, y])


def from_pixels(xy: np.ndarray, zoom: int) -> np.ndarray:
    """(lon, lat) rows of Web Mercator pixel coordinates at ``zoom`` (the inverse of :func:`to_pixels`)."""
    size = 256 * 2 ** zoom
    lon = xy[:, 0] / size * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * xy[:, 1] / size))))
    return np.column_stack([lon, lat])


def screen_parts(geoms: np.ndarray, zoom: int, *, polygon: bool, min_px: float = 1.0,
                 detail: tuple[float, float, float, float] | None = None, coarse: float = 4.0) -> tuple[list[np.ndarray], int]:
    """The lines (or polygon rings) of ``geoms`` as the screen shows them at ``zoom``, and their decimals.

    Vectorised and cheap on large arrays: the geometries go to Web Mercator pixels, rings enclosing
    less than ``min_px`` square pixels and lines shorter than ``min_px`` are dropped (nothing a
    reader could see), the rest are simplified by :data:`SIMPLIFY_PX` without preserving topology
    (a ring that would collapse is simplified topology-preserving instead, so no visible island
    goes), and coordinates are rounded to half a pixel at the highest latitude drawn.

    Parameters
    ----------
    geoms : array of shapely geometries (lon, lat)
    zoom : int
    polygon : bool
        True for polygons (their rings are returned), False for lines.
    min_px : float
    detail : (minx, miny, maxx, maxy), optional
        Where the picture must be exact; parts wholly outside it are drawn ``coarse`` times
        coarser (as at a zoom ``log2(coarse)`` levels out), and the rounding is set by the parts inside.

    Returns
    -------
    (parts, decimals)
        (lat, lon) arrays, one per part, and the decimals they are rounded to.
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms)] if len(geoms) else geoms
    if not len(geoms):
        return [], 6
    pixels = shapely.transform(geoms, lambda xy: to_pixels(xy, zoom))
    parts = shapely.get_parts(shapely.get_parts(pixels))  # collections (from clipping) too
    parts = parts[np.isin(shapely.get_type_id(parts), (3,) if polygon else (1, 2))]
    lines = shapely.get_rings(parts) if polygon else parts
    scale = np.ones(len(lines))
    if detail is not None:
        box = shapely.box(*to_pixels(np.array([detail[:2], detail[2:]]), zoom).ravel())
        scale[~shapely.intersects(lines, box)] = coarse
    size = shapely.area(shapely.polygons(lines)) if polygon else shapely.length(lines)
    keep = size >= (min_px * scale) ** (2 if polygon else 1)
    lines, scale = lines[keep], scale[keep]
    simple = shapely.simplify(lines, SIMPLIFY_PX * scale, preserve_topology=False)
    if polygon:  # a ring simplified to a line or nothing keeps its shape, topology-preserving
        ring = shapely.get_type_id(simple) == 2
        collapsed = ~ring
        collapsed[ring] = shapely.area(shapely.polygons(simple[ring])) < (min_px * scale[ring]) ** 2 / 2
        simple[collapsed] = shapely.simplify(lines[collapsed], SIMPLIFY_PX * scale[collapsed], preserve_topology=True)
    coords, index = shapely.get_coordinates(simple, return_index=True)
    lonlat = from_pixels(coords, zoom)
    if not len(lonlat):
        return [], 6
    exact = scale[index] == 1
    # rounded to half a pixel at the highest latitude drawn exact: Leaflet rounds every vertex to a whole
    # pixel when it draws, so this changes at most that rounding
    top = float(np.abs(lonlat[exact if exact.any() else slice(None), 1]).max())
    px = 360.0 / (256 * 2 ** zoom) * math.cos(math.radians(min(top, MERCATOR_MAX_LAT)))
    decimals = max(0, math.ceil(-math.log10(px)))
    latlon = np.round(lonlat[:, ::-1], decimals)
    out = []
    for part in np.split(latlon, np.flatnonzero(np.diff(index)) + 1):
        keep_pt = np.ones(len(part), dtype=bool)
        keep_pt[1:] = (part[1:] != part[:-1]).any(axis=1)  # drop repeats left by rounding
        part = part[keep_pt]
        if len(part) > (3 if polygon else 1):
            out.append(part)
    return out, decimals


def encode_polyline(latlon: np.ndarray, decimals: int) -> str:
    """(lat, lon) rows as one Google encoded polyline at any precision (``decimals``), vectorised.

    The page's ``cmDecode`` reads it back with the same ``decimals``.
    """
    ints = np.round(np.asarray(latlon, dtype=float) * 10.0 ** decimals).astype(np.int64)
    if not len(ints):
        return ""
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    zigzag = (deltas << 1) ^ (deltas >> 63)
    shifts = 5 * np.arange(13, dtype=np.int64)
    chunks = (zigzag[:, None] >> shifts) & 31
    count = np.maximum(1, (zigzag[:, None] >> shifts > 0).sum(axis=1))
    used = np.arange(13) < count[:, None]
    more = np.arange(13) < (count - 1)[:, None]
    chars = (chunks | np.where(more, 0x20, 0)) + 63
    return chars[used].astype(np.uint8).tobytes().decode("ascii")
