"""The article's own lines and crossings: named infrastructure with no layer, drawn between its resolved ends.

"The Karymskaya–Zabaikalsk line" (no layer file, no OSM route relation drawn for it) becomes a
labelled schematic line through its ends; "the Sarahs–Sarakhs railway crossing" a point at its
pair (:mod:`geo.text.infra_places`). They form one extra layer, :data:`LAYER_ID`, whose features
have ``kind`` ``infrastructure-line`` or ``infrastructure-point`` and ``source`` ``schematic``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Point

from ..core.layers import Layer
from ..core.names import fold
from ..geodesy import densify, geodesic_length_km
from ..text.infra_places import LINE, NAMED, POINT, placements
from .build import LayerResult

LAYER_ID = "article-infrastructure"
LINE_KIND, POINT_KIND = "infrastructure-line", "infrastructure-point"
#: Why such a line is schematic, in its popup.
SCHEMATIC_REASON = "straight lines through the places the article names as its ends, not the track"


def article_infrastructure(mentions: list, places: list, drawn: Sequence[LayerResult] = ()) -> LayerResult | None:
    """A layer of the article's named lines and crossings that no layer or route relation draws, or None.

    Parameters
    ----------
    mentions : list of geo.text.mentions.Mention
    places : list of Place or None
        One per mention (:func:`geo.text.resolve.resolve`).
    drawn : list of LayerResult
        Layers already drawn (a route relation fetched for a name draws it instead).
    """
    titles = {fold(r.layer.title) for r in drawn}
    rows: list[dict] = []
    seen: set[str] = set()
    for k, placement in sorted(placements(mentions, places).items()):
        name = mentions[k].text
        if placement.how not in (LINE, POINT) or fold(name) in titles | seen:
            continue
        seen.add(fold(name))
        ends = [(p.lon, p.lat) for _, p in placement.ends]
        if placement.how == LINE:
            geometry = LineString(densify(ends, 20.0))
            length = round(geodesic_length_km(geometry), 1)
        else:
            geometry = Point(sum(x for x, _ in ends) / len(ends), sum(y for _, y in ends) / len(ends))
            length = None
        rows.append(dict(layer=LAYER_ID, kind=LINE_KIND if placement.how == LINE else POINT_KIND, name=name,
                         ends=[text for text, _ in placement.ends], source="schematic",
                         schematic_reason=SCHEMATIC_REASON, length_km=length, geometry=geometry))
    if not rows:
        return None
    layer = Layer(id=LAYER_ID, kind="corridor", title="Lines and crossings named in the article",
                  subtitle="Drawn between the places the article names; no layer file or OSM route for them",
                  description="Named infrastructure with no layer file, drawn schematically between its ends",
                  color="#8c510a", weight=3, path=Path("<article>"))
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return LayerResult(layer, frame, "schematic", "the article's named lines and crossings, between their ends")


def with_article_infrastructure(mentions: list, places: list, results: list[LayerResult],
                                unlayered: dict[str, str], warnings: list[str]
                                ) -> tuple[list[LayerResult], dict[str, str], list[str]]:
    """``results`` plus the article's own lines (:func:`article_infrastructure`), and the reasons and
    warnings of what is still not drawn without those it draws; a name placed only at the place it
    names ("Baikal Tunnel") says so in its reason.

    Returns
    -------
    (results, unlayered, warnings)
    """
    unlayered = dict(unlayered)
    for k, placement in placements(mentions, places).items():
        text = mentions[k].text
        if placement.how == NAMED and text in unlayered:
            unlayered[text] += f"; placed only at {placement.ends[0][1].name}, which its name names"
    extra = article_infrastructure(mentions, places, results)
    if extra is None:
        return results, unlayered, warnings
    names = set(extra.frame["name"])
    return ([*results, extra], {k: v for k, v in unlayered.items() if k not in names},
            [w for w in warnings if not any(repr(n) in w for n in names)])
