"""The place record: one shape for a gazetteer entry and a resolved mention."""

from __future__ import annotations

from typing import NamedTuple


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
