"""Join the article's places to the corridors: nearest corridor, segment and station."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from .. import settings
from ..core.place import is_area
from ..geodesy import distance_to_line_km, geodesic_distance_km


def relate(places: gpd.GeoDataFrame, layers: list) -> gpd.GeoDataFrame:
    """Add each place's relation to the nearest corridor or border.

    Parameters
    ----------
    places : GeoDataFrame
        From :func:`geo.text.mention_frame.mention_frame`.
    layers : list of geo.corridors.build.LayerResult

    Returns
    -------
    GeoDataFrame
        ``places`` plus ``nearest_layer``, ``nearest_segment``, ``distance_km``,
        ``nearest_station`` and ``relation`` (a sentence for popups, e.g.
        "on the North–South corridor, 0.8 km from the line, between Makhachkala and Derbent").
        Countries, divisions, regions, seas and rivers (:func:`geo.core.place.is_area`) get none.
    """
    out = places.copy()
    cols: dict[str, list[Any]] = {"nearest_layer": [], "nearest_segment": [], "distance_km": [], "nearest_station": [], "relation": []}
    titles = {r.layer.id: r.layer.title for r in layers}
    infra = places["infra_layer"] if "infra_layer" in places else [""] * len(places)
    # Each layer's lines and stations, selected once (not once per place).
    lines_of = [(result, list(result.frame[result.frame["kind"].isin(["segment", "border"])].itertuples()))
                for result in layers]
    stations_of = {id(result): result.frame[result.frame["kind"].isin(["station", "crossing"])] for result in layers}
    classes = places["feature_class"] if "feature_class" in places else [""] * len(places)
    codes = places["feature_code"] if "feature_code" in places else [""] * len(places)
    for point, infra_layer, fclass, fcode in zip(places.geometry, infra, classes, codes):
        if infra_layer not in titles and is_area(fclass or "", fcode if isinstance(fcode, str) else ""):
            # a country, division, sea or river: no distance to a corridor through one point
            for key in cols:
                cols[key].append(None)
            continue
        if infra_layer in titles:
            for key, value in (("nearest_layer", infra_layer), ("nearest_segment", None), ("distance_km", 0.0),
                               ("nearest_station", None), ("relation", f"named infrastructure: the {titles[infra_layer]}")):
                cols[key].append(value)
            continue
        best = None
        for result, lines in lines_of:
            for row in lines:
                dist = distance_to_line_km(row.geometry, point.x, point.y)
                if best is None or dist < best[0]:
                    best = (dist, result, row)
        if best is None:
            for key in cols:
                cols[key].append(None)
            continue
        dist, result, row = best
        stations = stations_of[id(result)]
        station, station_km = None, float("inf")
        if len(stations):
            d = geodesic_distance_km(point.x, point.y, stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy())
            station, station_km = stations["name"].iloc[int(np.argmin(d))], float(np.min(d))
        title = result.layer.title
        if station is not None and station_km <= settings.station_here_km:  # the place is a station: not "between"
            relation = f"a station on the {title}"
        elif row.kind == "segment":
            where = f"between {row.start} and {row.end}"
            relation = (f"on the {title}, {dist:.1f} km from the line, {where}" if dist <= 25
                        else f"{dist:,.0f} km from the {title} (nearest part: {where})")
        else:
            relation = f"{dist:,.1f} km from the {title}"
        cols["nearest_layer"].append(result.layer.id)
        cols["nearest_segment"].append(row.name)
        cols["distance_km"].append(round(dist, 1))
        cols["nearest_station"].append(station)
        cols["relation"].append(relation)
    for key, values in cols.items():
        out[key] = values
    return out
