"""Positions of a layer's stations and crossings, offline (layer file or GeoNames)."""

from __future__ import annotations

from .. import geonames
from ..errors import LayerError
from .kinds import kind_of
from .layers import Layer, Station


def station_point(station: Station, layer: Layer | None = None) -> tuple[float, float, str]:
    """(lon, lat, position_source) of a layer station: its own lat/lon or its GeoNames point.

    Raises
    ------
    LayerError
        When the GeoNames id is unknown and the station has no lat/lon.
    """
    if station.lat is not None and station.lon is not None:
        return station.lon, station.lat, station.position_source or "layer file"
    point = geonames.city_point(station.geonames_id)
    if point is None:
        where = f"{layer.path}: " if layer is not None else ""
        raise LayerError(
            f"{where}station {station.name!r}: GeoNames id {station.geonames_id} is not in the gazetteer: "
            "fix the id or give 'lat' and 'lon' with 'position_source' in the layer file"
        )
    return point[0], point[1], f"GeoNames {station.geonames_id}"


def layer_points(layer: Layer) -> list[tuple[float, float]]:
    """The layer's waypoints as (lon, lat), in order (its kind's :attr:`~geo.core.kinds.LayerKind.waypoints`):
    corridor stations, or border crossings."""
    return [station_point(item, layer)[:2] if isinstance(item, Station) else (item.lon, item.lat)
            for item in kind_of(layer).waypoint_items(layer)]
