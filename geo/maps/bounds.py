"""Map bounds: the extent of built layers, and the places inside an extent."""

from __future__ import annotations

import geopandas as gpd


def layer_bounds(results: list, pad_frac: float = 0.05) -> tuple[float, float, float, float]:
    """Bounds of all layers' features, padded by a fraction of their size."""
    minx, miny, maxx, maxy = gpd.GeoSeries(
        [g for r in results for g in r.frame.geometry if g is not None and not g.is_empty], crs=4326
    ).total_bounds
    dx, dy = max(maxx - minx, 0.2) * pad_frac, max(maxy - miny, 0.2) * pad_frac
    return (minx - dx, miny - dy, maxx + dx, maxy + dy)


def places_in(places: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The places inside ``bounds`` (minx, miny, maxx, maxy)."""
    if places.empty:
        return places
    minx, miny, maxx, maxy = bounds
    inside = places.geometry.x.between(minx, maxx) & places.geometry.y.between(miny, maxy)
    return places[inside]
