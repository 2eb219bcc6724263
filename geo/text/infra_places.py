"""Where named infrastructure without a layer is: between its ends, at its pair, or at the place its name names.

A phrase such as "the Karymskaya–Zabaikalsk line" holds the place mentions of its ends
(:func:`geo.text.infrastructure.find_infrastructure`). Once those are resolved:

- a line (railway, section, corridor, tunnel...) is placed half-way along its resolved ends, in
  the order the text gives them, and keeps them (:class:`Placement`);
- a crossing, checkpoint or bridge is a point at the middle of its pair of ends;
- an end placed through another name of a place (not its own) thousands of km from every other
  end of its link ("Khasan" read as Hassan in India beside Rajin in Korea) is not that place: it
  is left unplaced, with every mention of the same name placed there;
- a name with no two resolved ends is placed at the place its words name, when one resolves
  near the article's other places: "Baikal Tunnel" at Lake Baikal, "East Siberian Railway" in
  Siberia, "Crimean Bridge" in Crimea; such a placement is marked ``named``, not drawn as a line.

The result is a :class:`~geo.core.place.Place` of feature class ``INFRA`` whose feature code says
how it was placed (:data:`LINE`, :data:`POINT`, :data:`NAMED`); :func:`placements` gives the ends.
"""

from __future__ import annotations

import re
from typing import NamedTuple, TypeGuard

from .. import settings
from ..core.names import fold
from ..core.place import Place
from ..geodesy import great_circle, haversine_km
from . import gazetteer
from .infrastructure import infra_name, one_line_name

#: Feature codes of placed infrastructure: a line between its ends, a point at its pair, at a place its name names.
LINE, POINT, NAMED = "LINE", "POINT", "NAMED"
#: Feature code of named infrastructure the gazetteer has a point for (``layers/gazetteer/*.toml``, ``INFRA``).
CATALOGUED = "INFRA"
#: Kinds whose two ends are the two sides of one point ("Sarahs–Sarakhs railway crossing").
_POINT_KIND = re.compile(r"\b(?:crossings?|checkpoints?|bridges?|border[- ]crossing(?: point)?)$", re.I)
#: Leading words of direction, dropped when the rest names a place ("East Siberian" -> Siberia).
_DIRECTION = re.compile(r"(?i)^(?:north|south|east|west|central|northern|southern|eastern|western|"
                        r"north[- ]?east(?:ern)?|north[- ]?west(?:ern)?|south[- ]?east(?:ern)?|south[- ]?west(?:ern)?)\s+")
#: Adjective endings -> the noun's ending: "Siberian" Siberia, "Crimean" Crimea, "Far Eastern" Far East,
#: "Sverdlovskaya" Sverdlovsk (a Russian adjective of a town in -sk).
_ADJECTIVE_ENDINGS = (("ian", "ia"), ("ean", "ea"), ("ern", ""), ("skaya", "sk"), ("skiy", "sk"), ("sky", "sk"),
                      ("skoye", "sk"), ("skiye", "sk"))
#: Feature classes and codes a name may place infrastructure at (towns, sites, waters, regions, divisions).
_NAMED_CLASSES = ("P", "S", "H", "L")
_NAMED_CODES = ("ADM1", "ADM2")


class Placement(NamedTuple):
    """How one infrastructure mention was placed."""

    how: str  # LINE, POINT or NAMED
    ends: tuple[tuple[str, Place], ...]  # (text, place) of each resolved end, in text order; for NAMED the place named
    name: str = ""  # the name of the one line ("Sverdlovskaya railroad" for "... and Sverdlovskaya railroads")


def infrastructure_ends(mentions: list) -> dict[int, list[int]]:
    """Index of each ``INFRA`` mention -> the indices of the place mentions inside it (its ends)."""
    out: dict[int, list[int]] = {}
    for k, m in enumerate(mentions):
        if m.label != "INFRA":
            continue
        ends = []
        for j in range(k + 1, len(mentions)):
            if mentions[j].start >= m.end or mentions[j].label == "INFRA":
                break
            if mentions[j].end <= m.end:
                ends.append(j)
        out[k] = ends
    return out


def place_infrastructure(mentions: list, places: list[Place | None]) -> list[Place | None]:
    """Give the article's named infrastructure without a layer its place (see the module's doc).

    Parameters
    ----------
    mentions : list of geo.text.mentions.Mention
    places : list of Place or None
        One per mention, as resolved.

    Returns
    -------
    list of Place or None
        ``places`` with far-fetched link ends unplaced and the infrastructure placed.
    """
    out = _drop_far_ends(mentions, places)
    for k, placement in placements(mentions, out).items():
        out[k] = _infra_place(mentions[k], placement)
    return out


def placements(mentions: list, places: list[Place | None]) -> dict[int, Placement]:
    """Index of each placeable ``INFRA`` mention without a layer -> its :class:`Placement`.

    ``places`` are the resolved places (those :func:`place_infrastructure` returns give the same answer).
    """
    towns = [(p.lat, p.lon) for p in places if _is_point(p)]
    out: dict[int, Placement] = {}
    named_cache: dict[str, tuple[str, Place] | None] = {}
    for k, ends in infrastructure_ends(mentions).items():
        m, known = mentions[k], places[k]
        if m.layer_id or (known is not None and (known.feature_class != "INFRA" or known.feature_code == CATALOGUED)):
            continue  # a layer draws it, or the gazetteer knows it (a canal, a strait, a catalogued line)
        following = next((n.text for n in mentions[k + 1:k + 2] if n.label == "INFRA"), "")
        line = one_line_name(m.text, m.sentence, following)
        entry = _catalogued(line) if line != m.text else None
        if entry is not None:  # "Severnaya" of "the Severnaya and Sverdlovskaya railroads": the Severnaya railroad
            out[k] = Placement(NAMED, ((line, entry),), entry.name)
            continue
        resolved = tuple((mentions[j].text, p) for j in ends if _is_point(p := places[j]))
        if len(resolved) >= 2:
            out[k] = Placement(POINT if _POINT_KIND.search(m.text) else LINE, resolved, line)
            continue
        name = infra_name(m.text)
        if name not in named_cache:
            named_cache[name] = _named_place(name, towns, mentions, places)
        named = named_cache[name]
        if named is not None:
            out[k] = Placement(NAMED, (named,), line)
    return out


def _catalogued(name: str) -> Place | None:
    """The gazetteer's named infrastructure without a layer called ``name`` (``layers/gazetteer/``), or None."""
    gaz = gazetteer.load()
    for i, _ in gazetteer.candidates(name):
        e = gaz.entries[i]
        if e.feature_class == "INFRA" and e.feature_code == CATALOGUED and not e.layer_id:
            return e._replace(score=1.0, candidates=())
    return None


def _is_point(p: Place | None) -> TypeGuard[Place]:
    return p is not None and p.feature_class in ("P", "S")


def _infra_place(m, placement: Placement) -> Place:
    points = [p for _, p in placement.ends]
    if placement.how == NAMED:
        lat, lon = points[0].lat, points[0].lon
    elif placement.how == POINT:
        lat, lon = sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points)
    else:
        lat, lon = halfway([(p.lat, p.lon) for p in points])
    countries = {p.country for p in points}
    return Place(placement.name or m.text, countries.pop() if len(countries) == 1 else "", lat, lon, None, "INFRA", placement.how,
                 score=min(p.score for p in points))


def halfway(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The point half-way along the polyline through ``points`` (lat, lon), by great-circle length."""
    legs = [haversine_km(a[0], a[1], b[0], b[1]) for a, b in zip(points, points[1:])]
    total = sum(legs)
    if total == 0:
        return points[0]
    left = total / 2
    for (a, b), leg in zip(zip(points, points[1:]), legs):
        if leg >= left and leg > 0:
            return _between(a, b, left / leg)
        left -= leg
    return points[-1]


def _between(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    """The point a fraction ``f`` of the way from ``a`` to ``b`` on the great circle (lat, lon in degrees)."""
    line = great_circle(a[1], a[0], b[1], b[0])
    point = line.interpolate(f, normalized=True)
    return point.y, point.x


def _drop_far_ends(mentions: list, places: list[Place | None]) -> list[Place | None]:
    """Unplace link ends read through another name of a place far from every other end of their link."""
    out = list(places)
    dropped: set[tuple[str, str, float, float]] = set()
    for ends in infrastructure_ends(mentions).values():
        points = {j: p for j in ends if _is_point(p := out[j])}
        if len(points) < 2:
            continue
        for j, p in points.items():
            far = all(haversine_km(p.lat, p.lon, q.lat, q.lon) > settings.link_end_far_km
                      for o, q in points.items() if o != j)
            if far and not _own_name(mentions[j].text, p):
                dropped.add((fold(mentions[j].text), p.name, p.lat, p.lon))
    if dropped:
        out = [None if p is not None and (fold(m.text), p.name, p.lat, p.lon) in dropped else p
               for m, p in zip(mentions, out)]
    return out


def _own_name(text: str, place: Place) -> bool:
    """True when ``text`` is the place's own name in the gazetteer, not one of its alternate names."""
    gaz = gazetteer.load()
    return any(gaz.entries[i].name == place.name and gaz.entries[i].lat == place.lat
               for key in gazetteer.name_keys(text) for i in gaz.names.get(key, ()))


def named_keys(name: str) -> list[str]:
    """The names a piece of infrastructure's name may hold a place under, most literal first.

    The whole name, its adjective as a noun, the same without a leading direction word, then each
    part of an "A-B" name: "East Siberian" -> ["East Siberian", "East Siberia", "Siberian", "Siberia"].
    """
    name = re.sub(r"^(?:[Tt]rans|[Pp]an)-", "", name.strip())
    out = [name, *_nouns(name)]
    rest = _DIRECTION.sub("", name, count=1)
    if rest and rest != name:
        out += [rest, *_nouns(rest)]
    parts = [p.strip() for p in re.split(r"\s?[-–—]\s?", name) if p.strip()]
    if len(parts) >= 2:
        out += parts
    return list(dict.fromkeys(out))


def _nouns(name: str) -> list[str]:
    low = name.lower()
    return [name[:len(name) - len(adj)] + noun for adj, noun in _ADJECTIVE_ENDINGS
            if low.endswith(adj) and len(name) > len(adj) + 2]


def _named_place(name: str, towns: list[tuple[float, float]], mentions: list,
                 places: list[Place | None]) -> tuple[str, Place] | None:
    """The place a name's words name, near the article's towns: (the words, the place), or None."""
    gaz = gazetteer.load()
    resolved = {fold(m.text): p for m, p in zip(mentions, places) if p is not None and p.feature_class != "INFRA"}
    for words in named_keys(name):
        key = fold(words)
        if len(key) < 3 or key in settings.generic_place_words or key in settings.ruler_generic_words:
            continue
        if key in resolved:  # the article names the place itself: the same sense
            return words, resolved[key]
        best, best_score = None, None
        for i, official in gazetteer.candidates(words):
            e = gaz.entries[i]
            if (e.feature_class not in _NAMED_CLASSES and e.feature_code not in _NAMED_CODES) or gazetteer.is_osm_only(e):
                continue  # a halt known only from OSM does not give its name to a line ("Severnaya railroad")
            near = min((haversine_km(e.lat, e.lon, a, b) for a, b in towns), default=None)
            if near is not None and near > settings.far_fetched_km and e.feature_class in ("P", "S"):
                continue  # a town of that name far from the article's places (a lake or region is not a namesake)
            if e.feature_class == "P" and not official and e.population < settings.context_town_min_population:
                continue  # a village that once had the name ("Severnaya", the Northern Railway, is not Severka)
            score = (_named_prior(e) + (settings.official_name_weight if official else 0.0)
                     + (2.0 * max(0.0, 1.0 - near / settings.proximity_km) if near is not None else 0.0))
            if best_score is None or score > best_score:
                best, best_score = e, score
        if best is not None:
            return words, best._replace(score=1.0, candidates=())
    return None


def _named_prior(e: Place) -> float:
    """Lakes, seas, regions and divisions before towns of the same name ("Baikal" the lake)."""
    import math

    big = 3.0 if e.feature_class in ("H", "L") or e.feature_code in _NAMED_CODES else 0.0
    return big + math.log10(e.population + 10) / 2.0
