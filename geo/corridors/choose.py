"""The article picks the layers: those it names, and those on which several of its places lie."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
from shapely.geometry import LineString

from .. import settings
from ..core.kinds import kind_of
from ..core.layers import Layer, list_layers, load_layer, read_layer
from ..core.place import is_area
from ..core.stations import layer_points
from ..geodesy import distance_to_line_km, geodesic_distance_km

if TYPE_CHECKING:
    from ..text.mentions import Mention


def places_on(layer: Layer, places: gpd.GeoDataFrame, max_km: float | None = None) -> list[str]:
    """Names of the article's towns within ``max_km`` of the layer (its station line, or its crossings).

    Countries, regions, seas and corridors (:func:`geo.core.place.is_area`) do not count.
    """
    max_km = settings.layer_place_km if max_km is None else max_km
    points = layer_points(layer)
    line = LineString(points) if kind_of(layer).station_line and len(points) >= 2 else None
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
                  border_talk: Sequence[set[str]] = ()) -> dict[str, str]:
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
        elif kind_of(layer).chosen_on_border_talk and any(set(layer.countries) <= codes for codes in border_talk):
            out[layer.id] = f"the article speaks of the border between {' and '.join(layer.countries)}"
        elif len(on) >= settings.layer_min_places:
            out[layer.id] = f"{len(on)} of the article's places lie on it ({', '.join(on)})"
    return out


def border_talk(mentions: list[Mention], resolved: list) -> list[set[str]]:
    """For each sentence that says "border", the countries it names (ISO codes of country mentions)."""
    by_sentence: dict[str, set[str]] = {}
    for m, p in zip(mentions, resolved):
        if p is not None and p.feature_code in ("PCLI", "PCLH") and p.country and "border" in m.sentence.lower():
            by_sentence.setdefault(m.sentence, set()).add(p.country)
    return list(by_sentence.values())


def pick_layers(text: str | None, mentions: list[Mention], resolved: list, place_rows: gpd.GeoDataFrame | None, *,
                layer_ids: list[str] | None = None, layer_files: Sequence[str | Path] = (), all_layers: bool = False) -> tuple[list[Layer], dict[str, str], list[str]]:
    """The layers to draw and why: by hand (``layer_ids``), all, or the ones the article is about.

    Returns
    -------
    (layers, reasons, warnings)
    """
    extra = [read_layer(Path(p)) for p in layer_files]
    reasons = {layer.id: "given with --layer-file" for layer in extra}
    if layer_ids:
        chosen = [load_layer(i) for i in layer_ids]
        return chosen + extra, {**{layer.id: "chosen with --layer" for layer in chosen}, **reasons}, []
    every = list_layers() + extra
    if all_layers or text is None:
        why = "--all-layers" if all_layers else "no article: every layer"
        return every, {layer.id: reasons.get(layer.id, why) for layer in every}, []
    picked = choose_layers(every, {m.layer_id for m in mentions if m.layer_id}, place_rows, border_talk(mentions, resolved))
    picked.update(reasons)
    if not picked:
        warning = ("the article names no corridor and no corridor has several of its places: drawing every layer "
                   "(choose with --layer ID)")
        return every, {layer.id: "the article is about no layer in particular" for layer in every}, [warning]
    return [layer for layer in every if layer.id in picked], picked, []
