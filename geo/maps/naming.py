"""One name per place on a map, as the article writes it.

A place named in the article is labelled, described and listed by the article's own spelling
(its most frequent surface form), then the layer file's English name, then an ASCII form of the
gazetteer's name; a country by one short English name on every map. The map keeps one label
per spot: a station or place at a border crossing named after it is not labelled again.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

import geopandas as gpd

from ..core.names import fold, variant_key
from ..core.place import is_area
from ..geodesy import haversine_km

#: A label within this distance of a crossing that names it (a side of the crossing) is not drawn again.
SAME_SPOT_KM = 15.0
_POSSESSIVE = ("'s", "\u2019s")


def ascii_name(name: str) -> str:
    """A gazetteer name without diacritics and apostrophes ("Āstārā" -> "Astara", "Zabaykal'sk" -> "Zabaykalsk")."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("'", "").replace("\u2019", "").replace("\u02bc", "")


def _clean(form: str) -> str:
    form = " ".join(str(form).split())
    for tail in _POSSESSIVE:
        if form.endswith(tail) and len(form) > len(tail) + 1:
            form = form[: -len(tail)]
    return form


def surface_forms(row: Any) -> Counter:
    """How often the article writes each form of a place: one count per quoted sentence, else per form."""
    counts: Counter = Counter()
    quotes = getattr(row, "quotes", None)
    for quote in (quotes if isinstance(quotes, (list, tuple)) else ()):
        try:
            sentence, start, end = quote
        except (TypeError, ValueError):
            continue
        counts[_clean(sentence[int(start):int(end)])] += 1
    texts = getattr(row, "texts", None)
    for text in (texts if isinstance(texts, (list, tuple)) else ()):
        counts.setdefault(_clean(text), 0)
    counts.pop("", None)
    return counts


def article_spelling(forms: Counter) -> str | None:
    """The article's spelling of a place: its most frequent surface form that reads as a name.

    A form reads as a name when it starts with a capital letter; headline capitals ("ASTARA")
    count only when the article has no other form. Ties go to the form met first.
    """
    names = [f for f in forms if f[:1].isupper()]
    if not names:
        return None
    order = {f: i for i, f in enumerate(forms)}
    return min(names, key=lambda f: (f.isupper() and len(f) > 3, -forms[f], order[f]))


def country_name(iso: str) -> str | None:
    """A country's one short English name (Natural Earth), e.g. "China" for CN; None when unknown."""
    from .. import naturalearth

    if not isinstance(iso, str) or len(iso) != 2:
        return None
    frame = naturalearth.countries()
    match = frame.loc[frame["iso2"] == iso.upper(), "name"]
    return str(match.iloc[0]) if len(match) else None


def place_name(row: Any, station_names: dict[str, str] | None = None) -> str:
    """The name a map shows for one of the article's places.

    Parameters
    ----------
    row
        A row of :func:`geo.text.mention_frame.mention_frame` (``name``, ``texts``, ``quotes``...).
    station_names : dict, optional
        Romanisation key (:func:`geo.core.names.variant_key`) -> the layer file's English name.
    """
    code = getattr(row, "feature_code", "")
    if code == "PCLI":
        short = country_name(getattr(row, "country", ""))
        if short:
            return short
    gazetteer = str(getattr(row, "gazetteer_name", None) or row.name)
    forms = surface_forms(row)
    if is_area(str(getattr(row, "feature_class", "")), code if isinstance(code, str) else ""):
        # areas are often named by an adjective ("Asian markets"): only a spelling of the name itself
        forms = Counter({f: n for f, n in forms.items() if variant_key(f) == variant_key(gazetteer)})
    spelled = article_spelling(forms)
    if spelled:
        return spelled
    station = (station_names or {}).get(variant_key(gazetteer))
    return station or ascii_name(gazetteer)


def station_names(results: list) -> dict[str, str]:
    """Romanisation key -> the English name the layer files give a station."""
    out: dict[str, str] = {}
    for r in results or ():
        for station in getattr(r.layer, "stations", ()) or ():
            name = getattr(station, "name", "")
            if name:
                out.setdefault(variant_key(name), name)
    return out


def with_article_names(places: gpd.GeoDataFrame | None, results: list | None = None) -> gpd.GeoDataFrame | None:
    """``places`` with ``name`` set to :func:`place_name` and the gazetteer's name kept in ``gazetteer_name``.

    Applying it twice gives the same frame.
    """
    if places is None or not len(places) or "name" not in places:
        return places
    out = places.copy()
    if "gazetteer_name" not in out:
        out["gazetteer_name"] = out["name"]
    stations = station_names(results or [])
    out["name"] = [place_name(row, stations) for row in out.itertuples()]
    return out


def crossing_sides(results: list) -> list[tuple[set[str], float, float]]:
    """For each crossing drawn: (the romanisation keys of its names and sides, lat, lon)."""
    out = []
    for r in results or ():
        frame = r.frame
        for row in frame[frame["kind"] == "crossing"].itertuples():
            keys = {variant_key(row.name)}
            keys |= {variant_key(part) for part in _pair_parts(row.name)}
            sides = getattr(row, "side_names", "")
            if isinstance(sides, str):
                for part in sides.split(";"):
                    keys.add(variant_key(part.split(":", 1)[-1]))
            keys.discard("")
            out.append((keys, row.geometry.y, row.geometry.x))
    for crossing in (c for r in results or () for c in getattr(r.layer, "crossings", ()) or ()):
        keys = {variant_key(n) for _, n in getattr(crossing, "names", ())} | {variant_key(crossing.name)}
        keys |= {variant_key(p) for p in _pair_parts(crossing.name)}
        keys.discard("")
        out.append((keys, crossing.lat, crossing.lon))
    return out


def _pair_parts(name: str) -> list[str]:
    for dash in ("\u2013", "\u2014", " - ", "/"):
        if dash in name:
            return [p.strip() for p in name.split(dash) if p.strip()]
    return []


def at_named_crossing(name: str, lat: float, lon: float, sides: list[tuple[set[str], float, float]]) -> bool:
    """True when ``name`` at (lat, lon) names a crossing drawn within :data:`SAME_SPOT_KM` or one of its
    sides (or begins with such a name: "Samur-Yalama border crossing")."""
    key = variant_key(name)
    return any(any(key == k or key.startswith(k + " ") for k in keys)  # "Samur-Yalama border crossing"
               and haversine_km(lat, lon, clat, clon) <= SAME_SPOT_KM for keys, clat, clon in sides)


def label_key(name: str) -> str:
    """The key under which two labels count as the same text."""
    return fold(name)
