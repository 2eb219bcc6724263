"""The article picks the layers: those it names, and those on which several of its places lie."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString

from .. import settings
from ..geodesy import distance_to_line_km, geodesic_distance_km
from ..core.place import is_area
from ..core.layers import Layer
from ..core.stations import layer_points


def places_on(layer: Layer, places: gpd.GeoDataFrame, max_km: float | None = None) -> list[str]:
    """Names of the article's towns within ``max_km`` of the layer (its station line, or its crossings).

    Countries, regions, seas and corridors (:func:`geo.core.place.is_area`) do not count.
    """
    max_km = settings.layer_place_km if max_km is None else max_km
    points = layer_points(layer)
    line = LineString(points) if layer.kind == "corridor" and len(points) >= 2 else None
    codes = places["feature_code"] if "feature_code" in places else [""] * len(places)
    out = []
    for name, fclass, code, geom in zip(places["name"], places["feature_class"], codes, places.geometry):
        if is_area(fclass, code if isinstance(code, str) else ""):
            continue
        if line is not None:
            dist = distance_to_line_km(line, geom.x, geom.y)
        else:
            dist = min(float(geodesic_distance_km(geom.x, geom.y, lon, lat)) for lon, lat in points)
        if dist <= max_km:
            out.append(name)
    return sorted(set(out))


def choose_layers(layers: list[Layer], named: set[str], places: gpd.GeoDataFrame | None,
                  border_talk: list[set[str]] = ()) -> dict[str, str]:
    """The layers an article is about, each with the reason it was chosen, in ``layers`` order.

    Parameters
    ----------
    layers : list of Layer
    named : set of str
        Ids of the layers the article names (its infrastructure mentions).
    places : GeoDataFrame or None
        The article's places (:func:`geo.text.mention_frame.mention_frame`).
    border_talk : list of set of str
        For each sentence that speaks of a border, the ISO codes of the countries it names: a
        border layer is chosen when one sentence names both its countries.

    Returns
    -------
    dict
        Layer id -> why ("named in the article: ...", "3 of the article's places lie on it: ...").
        Empty when the article names no layer and no layer has ``settings.layer_min_places`` places on it.
    """
    out = {}
    for layer in layers:
        on = places_on(layer, places) if places is not None and len(places) else []
        if layer.id in named:
            out[layer.id] = "named in the article"
        elif layer.kind == "border" and any(set(layer.countries) <= codes for codes in border_talk):
            out[layer.id] = f"the article speaks of the border between {' and '.join(layer.countries)}"
        elif len(on) >= settings.layer_min_places:
            out[layer.id] = f"{len(on)} of the article's places lie on it ({', '.join(on)})"
    return out
