"""Mentions plus resolved places -> one GeoDataFrame row per mentioned place."""

from __future__ import annotations

from collections import OrderedDict

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

COLUMNS = [
    "layer", "kind", "name", "local_name", "country", "geonames_id", "feature_class", "feature_code", "score",
    "count", "texts", "quotes", "infra_layer", "source", "geometry",
]


def _paragraph_with(sentence: str, text: str) -> str:
    """The part of ``sentence`` between blank lines that holds ``text`` (headings run into sentences)."""
    for part in sentence.split("\n\n"):
        if text in part:
            return " ".join(part.split())
    return " ".join(sentence.split())


def mention_frame(mentions: list, places: list) -> gpd.GeoDataFrame:
    """Group mentions by the place they resolve to.

    Parameters
    ----------
    mentions : list of geo.text.mentions.Mention
    places : list of geo.core.place.Place or None
        One per mention, as returned by :func:`geo.text.resolve.resolve`.

    Returns
    -------
    GeoDataFrame
        ``kind="mention"``, with ``count`` (times mentioned), ``texts`` (surface
        forms) and ``quotes``: a list of ``(sentence, start, end)`` with the
        mention's offsets inside its sentence, one per distinct sentence.
    """
    groups: OrderedDict = OrderedDict()
    for mention, place in zip(mentions, places):
        if place is None:
            continue
        key = (place.geonames_id, place.name, round(place.lat, 4), round(place.lon, 4))
        group = groups.setdefault(key, {"place": place, "mentions": []})
        group["mentions"].append(mention)
    rows = []
    for group in groups.values():
        place, found = group["place"], group["mentions"]
        quotes, seen = [], set()
        for m in found:
            sentence = _paragraph_with(m.sentence, m.text)
            offset = sentence.find(m.text)
            if sentence in seen or offset < 0:
                continue
            seen.add(sentence)
            quotes.append((sentence, offset, offset + len(m.text)))
        rows.append(dict(
            layer="mentions", kind="mention", name=place.name, local_name=getattr(place, "local_name", ""),
            country=place.country, geonames_id=place.geonames_id, feature_class=place.feature_class,
            feature_code=getattr(place, "feature_code", ""),
            score=round(float(place.score), 3), count=len(found), texts=sorted({m.text for m in found}),
            quotes=quotes, infra_layer=next((m.layer_id for m in found if getattr(m, "layer_id", "")), ""),
            source="gazetteer", geometry=Point(place.lon, place.lat),
        ))
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry="geometry", crs=4326)
    frame = gpd.GeoDataFrame(rows, columns=COLUMNS, geometry="geometry", crs=4326)
    # keep ids as Python ints or None (not floats with NaN) for popups and GeoJSON
    ids = [None if g is None or g != g else int(g) for g in frame["geonames_id"]]
    frame["geonames_id"] = pd.Series(ids, index=frame.index, dtype=object)
    return frame
