"""The place record: one shape for a gazetteer entry and a resolved mention."""

from __future__ import annotations

from typing import NamedTuple

#: Feature classes and codes of places that are areas or lines, not points: countries, first-level
#: divisions, continents, regions, seas and rivers. They are named on the map by its outlines and in
#: its list of places, never pinned at one point nor related to a corridor through one point.
AREA_CLASSES = ("H", "L", "INFRA")
AREA_CODES = ("PCLI", "PCLH", "ADM1", "CONT", "SEA", "RGN")


def is_area(feature_class: str, feature_code: str = "") -> bool:
    """True for a country, first-level division, region, sea, river or corridor (see :data:`AREA_CODES`)."""
    return feature_class in AREA_CLASSES or feature_code in AREA_CODES


class Place(NamedTuple):
    """A GeoNames-style place: a gazetteer entry, or (with ``score`` and ``candidates``) a resolved mention."""

    name: str
    country: str  # ISO 3166-1 alpha-2, "" when none
    lat: float
    lon: float
    geonames_id: int | None
    feature_class: str  # "P" city, "A" country/admin, "H" water, "L" region, "INFRA" named infrastructure
    feature_code: str = ""  # "PPL", "PCLI", "ADM1", "CONT", "RGN", "SEA", "STN", ...
    population: int = 0
    admin1: str = ""  # GeoNames admin1 key "US.TX"
    local_name: str = ""  # name in local script when known (e.g. "Дербент")
    layer_id: str = ""  # the layer this place belongs to (stations, named infrastructure)
    score: float = 1.0  # 0..1 confidence of a resolution
    candidates: tuple = ()  # other candidates considered: (name, country, lat, lon, score)
