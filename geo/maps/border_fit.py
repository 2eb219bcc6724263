"""Honest border geometry: how close a border map may open, and crossings drawn on the border as drawn.

Pure functions of a layer's frame. A border line is only as good as its data: Natural Earth 1:10m
is about a kilometre off the true border, so a map opening at a 2 km scale would show its
crossings beside "the border". :func:`accurate_zoom` caps the opening zoom by the data's
accuracy (:func:`border_accuracy_m`), and :func:`snap_crossings` moves a crossing's marker onto
the drawn line when it lies within a few kilometres of it.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops

from .. import settings
from ..geodesy import haversine_km

#: Web Mercator: metres per pixel at zoom 0 on the equator (256-pixel tiles).
EQUATOR_M_PER_PX = 40_075_016.686 / 256


def border_accuracy_m(source: str) -> float:
    """About how far (metres) a border line from ``source`` may lie from the true border.

    A source with a scale (:data:`geo.settings.border_scale`) is accurate to a drawn line's width
    at that scale (:data:`geo.settings.line_width_mm`); any other source is OpenStreetMap
    (:data:`geo.settings.osm_accuracy_m`).
    """
    scale = settings.border_scale.get(str(source))
    if scale is None:
        return float(settings.osm_accuracy_m)
    return scale * settings.line_width_mm / 1000.0


def accurate_zoom(accuracy_m: float, lat: float, error_px: float | None = None) -> int:
    """The closest zoom at which an error of ``accuracy_m`` metres spans at most ``error_px`` pixels at ``lat``."""
    error_px = settings.border_error_px if error_px is None else error_px
    metres_per_px_z0 = EQUATOR_M_PER_PX * math.cos(math.radians(min(abs(lat), 85.0)))
    return max(0, math.floor(math.log2(error_px * metres_per_px_z0 / max(accuracy_m, 1e-3))))


def opening_zoom(frame: gpd.GeoDataFrame, lat: float) -> int:
    """The closest a map of this border layer's ``frame`` may open at ``lat``: :data:`geo.settings.border_open_zoom`,
    and no closer than its least accurate border line is good for (:func:`accurate_zoom`)."""
    zooms = [accurate_zoom(border_accuracy_m(source), lat) for source in border_rows(frame)["source"]]
    return min([settings.border_open_zoom, *zooms])


def accuracy_words(metres: float) -> str:
    """``"about 1 km"``, ``"about 10 m"``: an accuracy in plain words."""
    if metres >= 1000:
        return f"about {metres / 1000:.0f} km"
    return f"about {metres:.0f} m"


def position_words(lat: float, lon: float) -> str:
    """``"41.8000° N, 48.4700° E"``: a position in plain words."""
    return f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"


def border_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The drawn border lines of a layer's frame."""
    rows = frame[frame["kind"] == "border"]
    return rows[rows.geometry.notna() & ~rows.geometry.is_empty]


def snap_crossings(frame: gpd.GeoDataFrame, max_km: float | None = None) -> gpd.GeoDataFrame:
    """``frame`` with each crossing within ``max_km`` of its drawn border line moved onto the line.

    A moved crossing keeps its true position in ``true_lon``/``true_lat`` (NaN when not moved),
    for its popup. Rows other than crossings are returned as they are.
    """
    max_km = settings.crossing_snap_km if max_km is None else max_km
    frame = frame.copy()
    frame["true_lon"], frame["true_lat"] = np.nan, np.nan
    borders = border_rows(frame)
    if not len(borders):
        return frame
    line = shapely.union_all(borders.geometry.values)
    for index, row in frame[frame["kind"] == "crossing"].iterrows():
        point = row.geometry
        if point is None or point.is_empty:
            continue
        on_line = nearest_on_line(line, point)
        distance = haversine_km(point.y, point.x, on_line.y, on_line.x)
        if 1e-6 < distance <= max_km:
            frame.loc[index, ["true_lon", "true_lat"]] = point.x, point.y
            frame.loc[index, "geometry"] = on_line
    return frame


def nearest_on_line(line, point: shapely.Point) -> shapely.Point:
    """The point of ``line`` nearest to ``point``, distances measured on the ground (longitude scaled by cos(lat))."""
    k = math.cos(math.radians(point.y))
    scaled = shapely.transform(line, lambda xy: xy * np.array([k, 1.0]))
    near = shapely.ops.nearest_points(scaled, shapely.Point(point.x * k, point.y))[0]
    return shapely.Point(near.x / k, near.y)
