"""Where the article's countries, regions and seas are named on a map: labels, never pins.

A country is labelled inside the part of it the map shows (Natural Earth outline cut to
the map's extent, at its pole of inaccessibility), so "Russia" is named on the North-South
map near the Caspian, not at Russia's centre in Siberia. Regions, seas, lakes, rivers and
continents are labelled at their gazetteer point when it lies in the map's extent. An area
with no label on a map is listed under "outside this map's extent"
(:mod:`geo.maps.coverage`). Former countries ("Soviet Union") have no present outline: they
are listed, not labelled.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
import shapely.ops

from .. import naturalearth
from ..core.place import is_area

#: Feature codes of countries: labelled inside their outline.
COUNTRY_CODES = ("PCLI",)
#: Former countries ("Soviet Union"): no present outline, so no label; listed instead.
FORMER_CODES = ("PCLH",)
#: Label kind of each area: ``country``, ``water`` (seas, lakes, rivers: class H) or ``region``.
KINDS = ("country", "water", "region")


def area_kind(feature_class: str, feature_code: str) -> str:
    """``country``, ``water`` or ``region`` for an area (see :func:`geo.core.place.is_area`)."""
    if feature_code in COUNTRY_CODES:
        return "country"
    if feature_class == "H" or feature_code == "SEA":
        return "water"
    return "region"


def area_labels(places: gpd.GeoDataFrame | None, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The article's areas a map of ``bounds`` labels: one row per area, indexed like ``places``.

    Columns: ``name``, ``kind`` (:data:`KINDS`), ``country`` (ISO code) and the label's point ``geometry``.
    Named infrastructure (class ``INFRA``) is drawn by its layer, not here.
    """
    rows, index = [], []
    if places is not None and len(places) and "feature_class" in places:
        codes = places["feature_code"] if "feature_code" in places else [""] * len(places)
        countries = places["country"] if "country" in places else [""] * len(places)
        for (idx, row), code, iso in zip(places.iterrows(), codes, countries):
            code = code if isinstance(code, str) else ""
            fclass = row["feature_class"]
            if fclass == "INFRA" or code in FORMER_CODES or not is_area(fclass, code):
                continue
            kind = area_kind(fclass, code)
            point = _country_point(iso, bounds) if kind == "country" else None
            if point is None and _inside(row.geometry, bounds):
                point = row.geometry
            if point is not None:
                rows.append({"name": row["name"], "kind": kind, "country": iso if isinstance(iso, str) else "",
                             "geometry": point})
                index.append(idx)
    return gpd.GeoDataFrame(rows, index=index, columns=["name", "kind", "country", "geometry"], geometry="geometry", crs=4326)


def _inside(point, bounds) -> bool:
    minx, miny, maxx, maxy = bounds
    return point is not None and not point.is_empty and minx <= point.x <= maxx and miny <= point.y <= maxy


def _country_point(iso, bounds):
    """A point inside the part of country ``iso`` within ``bounds``; None when it shows none of it."""
    if not isinstance(iso, str) or len(iso) != 2:
        return None
    frame = naturalearth.countries()
    match = frame[frame["iso2"] == iso.upper()]
    if match.empty:
        return None
    shown = match.geometry.clip_by_rect(*bounds).union_all()
    if shown.is_empty:
        return None
    parts = [g for g in getattr(shown, "geoms", [shown]) if g.geom_type == "Polygon"]
    if not parts:
        return None
    largest = max(parts, key=lambda g: g.area)
    minx, miny, maxx, maxy = largest.bounds
    return shapely.ops.polylabel(largest, tolerance=max(maxx - minx, maxy - miny) / 50 or 1e-6)
