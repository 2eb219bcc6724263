"""Overpass JSON elements -> OSM frames (:data:`geo.osm.schema.COLUMNS`), and route relations -> lines."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeGuard

import geopandas as gpd
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge

from ..errors import DataError
from ..geodesy import GEOD
from .schema import frame_from_rows

#: ``file`` value of rows that came from Overpass.
SOURCE = "overpass"


def elements_to_frames(elements: Sequence[dict[str, Any]], file: str = SOURCE) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Overpass ``out geom`` elements to (lines, points) frames; each element once.

    Ways become LineStrings (from their ``geometry``; fewer than two known
    vertices: skipped), tagged nodes Points; relations are skipped (their
    member ways come as ways).

    Raises
    ------
    DataError
        For a malformed element (see :func:`check_elements`).
    """
    lines, points, seen = [], [], set()
    for el in elements:
        coords = element_coords(el)
        kind, osm_id = el.get("type"), el.get("id")
        if (kind, osm_id) in seen:
            continue
        seen.add((kind, osm_id))
        tags = el.get("tags") or {}
        row = {
            "osm_id": osm_id,
            "name": tags.get("name"),
            "railway": tags.get("railway"),
            "usage": tags.get("usage"),
            "highway": tags.get("highway"),
            "barrier": tags.get("barrier"),
            "boundary": tags.get("boundary"),
            "file": file,
        }
        if kind == "way" and len(coords) >= 2:
            lines.append({**row, "geometry": LineString(coords)})
        elif kind == "node" and tags:
            points.append({**row, "geometry": Point(coords[0])})
    return frame_from_rows(lines), frame_from_rows(points)


def check_elements(elements: Any) -> None:
    """Check that an Overpass ``elements`` list parses into frames (:func:`elements_to_frames`).

    Raises
    ------
    DataError
        For the first malformed element: not an object, a node or way
        without an integer id, tags that are not text, a node without numeric
        ``lat``/``lon`` in range, a way whose ``geometry`` holds anything but
        such points (or null, Overpass's mark for a vertex left out).
    """
    if not isinstance(elements, list):
        raise DataError("the Overpass answer's 'elements' is not a list")
    for el in elements:
        element_coords(el)


def element_coords(el: Any) -> list[tuple[float, float]]:
    """The (lon, lat) vertices of a way, ``[(lon, lat)]`` of a node, ``[]`` of other elements.

    Raises
    ------
    DataError
        When the element is malformed (see :func:`check_elements`).
    """
    if not isinstance(el, dict):
        raise DataError(f"an Overpass element is not an object: {_show(el)}")
    kind, osm_id = el.get("type"), el.get("id")
    if kind not in ("node", "way"):
        return []
    name = f"{kind} {_show(osm_id)}"
    if not isinstance(osm_id, int) or isinstance(osm_id, bool):
        raise DataError(f"Overpass {name}: the id is not an integer")
    tags = el.get("tags")
    if tags is not None and not (isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())):
        raise DataError(f"Overpass {name}: its tags are not a table of text values: {_show(tags)}")
    if kind == "node":
        return [_lon_lat(el, name)]
    geometry = el.get("geometry")
    if not isinstance(geometry, list):
        raise DataError(f"Overpass {name}: 'geometry' is not a list of points: {_show(geometry)}")
    return [_lon_lat(g, f"{name}, vertex {i}") for i, g in enumerate(geometry) if g is not None]


def _finite_number(v: Any) -> TypeGuard[float]:
    """True when ``v`` is a finite int or float (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _lon_lat(point: Any, name: str) -> tuple[float, float]:
    """``point``'s (lon, lat), numbers within range; DataError naming ``name`` otherwise."""
    if isinstance(point, dict):
        lon, lat = point.get("lon"), point.get("lat")
        if _finite_number(lon) and _finite_number(lat):
            if -180 <= lon <= 180 and -90 <= lat <= 90:
                return float(lon), float(lat)
        point = {"lat": lat, "lon": lon}
    raise DataError(f"Overpass {name}: no valid lat/lon: {_show(point)}")


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def assemble_route(ways: gpd.GeoDataFrame, relation_id: int | None, name: str | None) -> gpd.GeoDataFrame:
    """Merge a route relation's member ways into as few lines as they allow.

    Returns
    -------
    GeoDataFrame
        One row per merged part, longest first, ``osm_id`` the relation id,
        ``railway``/``usage`` the commonest among the member ways.
    """
    geoms = list(ways.drop_duplicates("osm_id").geometry)
    merged = linemerge(geoms)
    parts = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
    parts.sort(key=lambda g: (-GEOD.geometry_length(g), g.coords[0]))

    def commonest(col: str):
        values = [v for v in ways[col] if v]
        return Counter(values).most_common(1)[0][0] if values else None

    rows = [
        {"osm_id": relation_id, "name": name, "railway": commonest("railway"), "usage": commonest("usage"),
         "file": f"{SOURCE}:relation/{relation_id}", "geometry": part}
        for part in parts
    ]
    return frame_from_rows(rows)
