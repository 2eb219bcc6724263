"""Aggregate geoparsed toponyms: mentions per place and per corridor segment, in all and by month.

Input is the toponym table of an archive (:func:`geo.archive.parse.read_toponyms`: one row per
toponym with ``id``, ``date``, ``title``, ``place``, ``geonames_id``, ``country``, point geometry).
Unresolved toponyms (no point) are left out. A place is keyed by its GeoNames id (or, for
places GeoNames lacks, by name and point). A place belongs to a corridor when it lies within
``within_km`` of the corridor's line, and to that corridor's nearest segment.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd

from ..corridors.relate import relate
from ..geodesy import KM_PER_DEG

#: Columns of the place table (besides geometry).
PLACE_COLUMNS = ["key", "place", "country", "feature_class", "mentions", "documents", "first_date", "last_date",
                 "headlines"]


def resolved_toponyms(toponyms: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The toponyms placed on the map, with a ``key`` per place and ``month`` (start of the month, or NaT)."""
    rows = toponyms[toponyms.geometry.notna() & ~toponyms.geometry.is_empty].copy()
    gid = rows["geonames_id"].astype("Int64")
    fallback = (rows["place"].fillna(rows["name"]).astype(str) + "@" + rows.geometry.y.round(4).astype(str) + ","
                + rows.geometry.x.round(4).astype(str))
    rows["key"] = ("gn" + gid.astype(str)).where(gid.notna(), fallback)
    rows["place"] = rows["place"].fillna(rows["name"])
    dates = pd.to_datetime(rows["date"])
    rows["month"] = dates.dt.to_period("M").dt.to_timestamp()
    return rows


def place_totals(toponyms: gpd.GeoDataFrame, top: int = 5) -> gpd.GeoDataFrame:
    """One row per place: mentions, documents, first and last date, and its top headlines.

    ``headlines`` lists up to ``top`` documents that name the place most often (latest first
    among equals), each by its title, else its id.
    """
    rows = resolved_toponyms(toponyms)
    if rows.empty:
        return gpd.GeoDataFrame(columns=[*PLACE_COLUMNS, "geometry"], geometry="geometry", crs=4326)
    grouped = rows.groupby("key", sort=False)
    out = pd.DataFrame({
        "place": grouped["place"].agg(_most_common),
        "country": grouped["country"].agg(_most_common),
        "feature_class": grouped["feature_class"].agg(_most_common),
        "mentions": grouped.size(),
        "documents": grouped["id"].nunique(),
        "first_date": grouped["date"].min(),
        "last_date": grouped["date"].max(),
        "headlines": _headlines(rows, top),
        "geometry": grouped["geometry"].first(),
    }).reset_index()
    out = out.sort_values(["mentions", "place"], ascending=[False, True], ignore_index=True)
    return gpd.GeoDataFrame(out[[*PLACE_COLUMNS, "geometry"]], geometry="geometry", crs=4326)


def _most_common(values: pd.Series):
    counts = values.dropna().value_counts()
    return counts.index[0] if len(counts) else None


def _headlines(rows: pd.DataFrame, top: int) -> pd.Series:
    per_doc = rows.groupby(["key", "id"], sort=False).agg(n=("id", "size"), date=("date", "max"), title=("title", "first"))
    per_doc = per_doc.reset_index()
    per_doc["label"] = per_doc["title"].where(per_doc["title"].notna() & (per_doc["title"] != ""), per_doc["id"])
    per_doc = per_doc.sort_values(["key", "n", "date", "id"], ascending=[True, False, False, True], na_position="last")
    return per_doc.groupby("key")["label"].agg(lambda labels: list(labels[:top]))


def place_months(toponyms: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per place and month with dated mentions: ``key``, ``place``, ``month``, ``mentions``, ``documents``."""
    rows = resolved_toponyms(toponyms)
    rows = rows[rows["month"].notna()]
    columns = ["key", "place", "month", "mentions", "documents", "geometry"]
    if rows.empty:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=4326)
    grouped = rows.groupby(["key", "month"], sort=True)
    out = pd.DataFrame({
        "place": grouped["place"].agg(_most_common), "mentions": grouped.size(), "documents": grouped["id"].nunique(),
        "geometry": grouped["geometry"].first(),
    }).reset_index()
    return gpd.GeoDataFrame(out[columns], geometry="geometry", crs=4326)


def corridor_places(places: gpd.GeoDataFrame, results: list, within_km: float) -> pd.DataFrame:
    """Which places lie within ``within_km`` of each layer, and their nearest segment there.

    Returns
    -------
    DataFrame
        ``key``, ``layer``, ``segment``, ``distance_km``; a place near two layers has a row for each.
    """
    links = []
    for result in results:
        lines = result.frame[result.frame["kind"].isin(["segment", "border"])]
        if lines.empty or places.empty:
            continue
        near = places[_within_bounds(places, lines.total_bounds, within_km)]
        if near.empty:
            continue
        related = relate(near[["key", "geometry"]], [result])
        related = related[related["distance_km"].astype(float) <= within_km]
        links.append(pd.DataFrame({"key": related["key"], "layer": related["nearest_layer"],
                                   "segment": related["nearest_segment"], "distance_km": related["distance_km"]}))
    columns = ["key", "layer", "segment", "distance_km"]
    return pd.concat(links, ignore_index=True)[columns] if links else pd.DataFrame(columns=columns)


def _within_bounds(places: gpd.GeoDataFrame, bounds, km: float) -> pd.Series:
    """Places inside ``bounds`` grown by ``km`` (a cheap filter before geodesic distances)."""
    minx, miny, maxx, maxy = bounds
    dlat = km / KM_PER_DEG
    top = min(max(abs(miny), abs(maxy)) + dlat, 89.0)
    dlon = km / (KM_PER_DEG * math.cos(math.radians(top)))
    x, y = places.geometry.x, places.geometry.y
    return x.between(minx - dlon, maxx + dlon) & y.between(miny - dlat, maxy + dlat)


def segment_totals(places: gpd.GeoDataFrame, links: pd.DataFrame, results: list) -> gpd.GeoDataFrame:
    """One row per drawn segment (or border line) of each layer: mentions and places within reach.

    Columns: ``layer``, ``segment``, ``mentions``, ``places``, ``top_places`` (names, most named
    first), geometry (the line). Segments no place is near have 0 mentions.
    """
    joined = links.merge(places[["key", "place", "mentions"]], on="key")
    rows = []
    for result in results:
        lines = result.frame[result.frame["kind"].isin(["segment", "border"])]
        for line in lines.itertuples():
            here = joined[(joined["layer"] == result.layer.id) & (joined["segment"] == line.name)]
            here = here.sort_values("mentions", ascending=False)
            rows.append({"layer": result.layer.id, "segment": line.name, "mentions": int(here["mentions"].sum()),
                         "places": len(here), "top_places": list(here["place"][:5]), "geometry": line.geometry})
    columns = ["layer", "segment", "mentions", "places", "top_places", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=4326)


def segment_months(months: gpd.GeoDataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Mentions per layer, segment and month (from :func:`place_months` and :func:`corridor_places`)."""
    joined = links.merge(months[["key", "month", "mentions"]], on="key")
    columns = ["layer", "segment", "month", "mentions"]
    if joined.empty:
        return pd.DataFrame(columns=columns)
    return joined.groupby(["layer", "segment", "month"], as_index=False)["mentions"].sum()[columns]
