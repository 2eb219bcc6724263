"""Shared borders between Natural Earth countries (:mod:`geo.naturalearth`), and where lines cross them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge

from ..naturalearth import country_shape

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


def shared_border(iso_a: str, iso_b: str) -> BaseGeometry:
    """The land border two countries share, as a (multi)line; empty if none."""
    a, b = country_shape(iso_a), country_shape(iso_b)
    common = a.boundary.intersection(b.boundary.buffer(1e-6)).intersection(a.boundary)
    lines = [g for g in getattr(common, "geoms", [common]) if isinstance(g, (LineString, MultiLineString))]
    parts: list[LineString] = []
    for g in lines:
        parts.extend(getattr(g, "geoms", [g]))
    if not parts:
        return MultiLineString()
    merged = linemerge(parts)
    return merged


def line_crossings(border: BaseGeometry, lines: gpd.GeoDataFrame, *, merge_km: float = 1.0) -> gpd.GeoDataFrame:
    """Points where ``lines`` cross ``border``, merged when closer than ``merge_km``.

    Returns
    -------
    GeoDataFrame
        One row per crossing point with ``osm_ids`` (the ways crossing there).
    """
    rows: list[tuple[Point, list]] = []
    if border.is_empty or lines.empty:
        return gpd.GeoDataFrame({"osm_ids": []}, geometry=[], crs=4326)
    hits = lines[lines.intersects(border)]
    for osm_id, geom in zip(hits["osm_id"], hits.geometry):
        inter = geom.intersection(border)
        pts = [p for p in getattr(inter, "geoms", [inter]) if isinstance(p, Point)]
        if not pts and not inter.is_empty:
            pts = [inter.representative_point()]
        for p in pts:
            for row in rows:
                if row[0].distance(p) * 111.0 < merge_km:
                    row[1].append(osm_id)
                    break
            else:
                rows.append((p, [osm_id]))
    return gpd.GeoDataFrame(
        {"osm_ids": [sorted({_as_int(i) for i in ids if i is not None}) for _, ids in rows]},
        geometry=[p for p, _ in rows],
        crs=4326,
    )


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
