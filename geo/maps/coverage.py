"""Nothing lost silently: which of the article's mentions a map does not draw as a point, and why.

Every mention ends on the map (a marker; a label for countries, regions and seas, see
:mod:`geo.maps.areas`; or a drawn layer) or in the map's list of places not drawn, under one
of :data:`REASONS`. The command line prints the same lists.
"""

from __future__ import annotations

import geopandas as gpd

from ..core.names import fold
from ..core.place import is_area
from ..corridors.article_infra import LAYER_ID as ARTICLE_LAYER
from ..text.infra_places import LINE, POINT
from .areas import FORMER_CODES, area_labels
from .bounds import layer_bounds, places_in
from .style import escape

#: Why a mention is not a marker on a map, in the order the lists are shown.
REASONS = {
    "unlocatable": "not locatable (no position found)",
    "outside": "outside this map's extent",
    "former": "former countries (no present outline)",
    "other_layer": "corridors and borders drawn on other maps",
    "no_layer": "infrastructure with no layer (not drawn)",
}


def not_drawn(unresolved: list[str], places: gpd.GeoDataFrame | None, results: list,
              unlayered: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The article's mentions a map shows in no marker or layer, by reason (:data:`REASONS`).

    Parameters
    ----------
    unresolved : list of str
        Texts of the mentions that resolved to no place.
    places : GeoDataFrame or None
        The article's places (:func:`geo.corridors.relate.relate`).
    results : list of geo.corridors.build.LayerResult
        The layers of this map.
    unlayered : dict, optional
        Named infrastructure without a layer -> why it is not drawn ("offline", "not found in OSM").

    Returns
    -------
    dict
        Reason key -> sorted names (only reasons that have names).
    """
    out: dict[str, set[str]] = {key: set() for key in REASONS}
    unlayered = unlayered or {}
    reason_of = {fold(text): reason for text, reason in unlayered.items()}  # mention text or place name
    drawn_layers = {r.layer.id for r in results}
    for text in unresolved:
        if text in unlayered:
            out["no_layer"].add(f"{text} ({unlayered[text]})")
        else:
            out["unlocatable"].add(text)
    if places is not None and len(places):
        if results:
            bounds = layer_bounds(results)
            inside, labelled = set(places_in(places, bounds).index), set(area_labels(places, bounds).index)
        else:
            inside, labelled = set(places.index), set(places.index)
        codes = places["feature_code"] if "feature_code" in places else [""] * len(places)
        layers = places["infra_layer"] if "infra_layer" in places else [""] * len(places)
        for (idx, row), code, layer in zip(places.iterrows(), codes, layers):
            code = code if isinstance(code, str) else ""
            if row["feature_class"] == "INFRA":
                if code in (LINE, POINT):  # drawn between its ends (geo.corridors.article_infra)
                    if ARTICLE_LAYER not in drawn_layers:
                        out["other_layer"].add(row["name"])
                elif layer and layer not in drawn_layers:
                    out["other_layer"].add(row["name"])
                elif not layer:
                    reason = reason_of.get(fold(row["name"]))
                    out["no_layer"].add(f"{row['name']} ({reason})" if reason else row["name"])
            elif code in FORMER_CODES:
                out["former"].add(row["name"])
            elif is_area(row["feature_class"], code):
                if idx not in labelled:  # countries, regions and seas are labels (geo.maps.areas)
                    out["outside"].add(row["name"])
            elif idx not in inside:
                out["outside"].add(row["name"])
    return {key: sorted(names) for key, names in out.items() if names}


def summary_lines(lists: dict[str, list[str]]) -> list[str]:
    """One line per reason: "outside this map's extent: Beijing, Tehran"."""
    return [f"{REASONS[key]}: {', '.join(names)}" for key, names in lists.items()]


def not_drawn_html(lists: dict[str, list[str]]) -> str:
    """The legend's list of the article's places not drawn as markers, with the reason for each group."""
    if not lists:
        return ""
    rows = "".join(f"<li><i>{escape(REASONS[key])}</i>: {escape(', '.join(names))}</li>" for key, names in lists.items())
    count = sum(len(names) for names in lists.values())
    return (f"<div class='cm-item cm-not-drawn'><details><summary><small>Named in the article, not drawn as a "
            f"point ({count})</small></summary><small>"
            f"<ul style='margin:2px 0 0 14px;padding:0'>{rows}</ul></small></details></div>")
