"""Overpass JSON elements -> OSM frames (:data:`geo.osm.schema.COLUMNS`), and route relations -> lines."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import geopandas as gpd
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge

from ..geodesy import GEOD
from .schema import frame_from_rows

#: ``file`` value of rows that came from Overpass.
SOURCE = "overpass"


def elements_to_frames(elements: Sequence[dict[str, Any]], file: str = SOURCE) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Overpass ``out geom`` elements to (lines, points) frames; each element once.

    Ways become LineStrings (from their ``geometry``), tagged nodes Points;
    relations are skipped (their member ways come as ways).
    """
    lines, points, seen = [], [], set()
    for el in elements:
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
        if kind == "way":
            coords = [(g["lon"], g["lat"]) for g in el.get("geometry") or [] if g]
            if len(coords) >= 2:
                lines.append({**row, "geometry": LineString(coords)})
        elif kind == "node" and tags and "lat" in el:
            points.append({**row, "geometry": Point(el["lon"], el["lat"])})
    return frame_from_rows(lines), frame_from_rows(points)


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
