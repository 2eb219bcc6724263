"""Resolve place mentions to coordinates with the offline gazetteer.

Candidates come from :mod:`geo.text.gazetteer` (GeoNames names and alternate names,
folded). They are ranked by a scorer that uses population and feature class, the
countries and first-level divisions named in the same article and sentence
(an article about Azerbaijan puts "Astara" in Azerbaijan unless the sentence says
Iran), an explicit qualifier ("Astara, Iran"), the corridors named in the article,
and the distance to the places that are already certain.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass

from . import gazetteer
from .. import settings
from ..geodesy import haversine_km
from .gazetteer import candidates
from .infrastructure import infra_name
from .names import fold
from . import nominatim
from .place import Place
from .mentions import Mention


def geocode_name(name: str, country: str | None = None) -> Place | None:
    """Look up a single name (e.g. a station), optionally inside ``country`` (ISO alpha-2).

    Returns the most populous, most prominent candidate, or None.
    """
    cands = candidates(name, country)
    if not cands:
        return None
    gaz = gazetteer.load()
    shadowed = _shadowed_admins(gaz, cands)
    scored = sorted(((_prior(gaz.entries[i], official) - (2.5 if i in shadowed else 0.0), i) for i, official in cands),
                    reverse=True)
    return _place(gaz, scored, {})


def _shadowed_admins(gaz, cands: list[tuple[int, bool]]) -> set[int]:
    """Divisions named like a city inside them ("Moscow" the city vs the federal city): prefer the city."""
    cities = [gaz.entries[i] for i, _ in cands if gaz.entries[i].feature_class == "P"
              and gaz.entries[i].population >= 50_000]
    out = set()
    states = {gaz.entries[i].country for i, _ in cands if gaz.entries[i].feature_code in ("PCLI", "PPLC")}
    for i, official in cands:
        a = gaz.entries[i]
        if a.feature_code != "ADM1":
            continue
        if a.country in states:  # "Mexico" the country, not the State of Mexico; "Washington" the capital
            out.add(i)
        for c in cities:
            if c.admin1 == a.admin1 and c.population >= 0.6 * a.population:  # city-state: Moscow, Berlin
                out.add(i)
            elif not official and c.country == a.country and haversine_km(c.lat, c.lon, a.lat, a.lon) < 150:
                out.add(i)  # "Moscow" as another name of Moscow Oblast
    return out


def resolve(
    mentions: list[Mention],
    text: str,
    *,
    overrides: dict[str, tuple[float, float] | int] | None = None,
    online: bool = False,
) -> list[Place | None]:
    """Resolve each mention to a place.

    Parameters
    ----------
    mentions : list of Mention
        From :func:`geo.text.mentions.extract_mentions` on ``text``.
    text : str
        The article (for context).
    overrides : dict, optional
        Surface form -> (lat, lon) or GeoNames id, applied before anything else.
    online : bool
        Ask Nominatim (:mod:`geo.nominatim`) for names the gazetteer lacks.

    Returns
    -------
    list of Place or None
        One entry per mention, None where unresolved.
    """
    gaz = gazetteer.load()
    overrides = {fold(k): v for k, v in (overrides or {}).items()}
    cand_lists = [_mention_candidates(gaz, m) for m in mentions]
    ctx = _context(gaz, mentions, cand_lists, text)
    keys = [fold(m.text) for m in mentions]
    best: list[int | None] = [None] * len(mentions)
    support = _admin1_support(gaz, keys, cand_lists)
    scored_all: list[list[tuple[float, int]]] = [[] for _ in mentions]
    for round_ in range(settings.resolve_rounds):
        if round_:
            ctx = _context_from_resolved(gaz, mentions, best)
        for k, (m, cands) in enumerate(zip(mentions, cand_lists)):
            if not cands or keys[k] in overrides:
                continue
            shadowed = _shadowed_admins(gaz, cands)
            scored = sorted(((_score(gaz, gaz.entries[i], official, m, ctx, text, exclude=keys[k])
                              + settings.coherence_weight * min(2, support[k].get(gaz.entries[i].admin1, 0))
                              - (2.5 if i in shadowed else 0.0), i) for i, official in cands), reverse=True)
            scored_all[k] = scored
            best[k] = scored[0][1]
        if settings.one_sense_per_article:
            _one_sense(keys, scored_all, best)
    out: list[Place | None] = []
    for k, m in enumerate(mentions):
        if keys[k] in overrides:
            out.append(_override(gaz, m, overrides[keys[k]]))
        elif not cand_lists[k]:
            out.append(_online(m.text) if online else None)
        else:
            out.append(_place(gaz, scored_all[k], ctx))
    return reject_far_fetched(out, keys, _layer_anchors(ctx.layers))


def reject_far_fetched(places: list[Place | None], keys: list[str],
                       anchors: list[tuple[float, float]] = ()) -> list[Place | None]:
    """Drop low-confidence towns thousands of km from all the article's other places and corridors.

    A place is dropped when its confidence is below ``settings.far_fetched_score`` and it lies
    more than ``settings.far_fetched_km`` from every town or station the article names under
    another name (at least two of them) and from every station of a corridor the article names.

    Parameters
    ----------
    places : list of Place or None
        One per mention.
    keys : list of str
        The folded text of each mention (mentions of one name do not support each other).
    anchors : list of (lat, lon)
        Points of the corridors the article names.
    """
    points = [(p.lat, p.lon, key) for p, key in zip(places, keys)
              if p is not None and p.feature_class in ("P", "S")]
    out = list(places)
    for k, (p, key) in enumerate(zip(places, keys)):
        if p is None or p.feature_class not in ("P", "S") or p.score >= settings.far_fetched_score:
            continue
        others = [(a, b) for a, b, other in points if other != key] + list(anchors)
        if len({(round(a, 1), round(b, 1)) for a, b in others}) < 2:
            continue
        if min(haversine_km(p.lat, p.lon, a, b) for a, b in others) > settings.far_fetched_km:
            out[k] = None
    return out


def _layer_anchors(layer_ids: set) -> list[tuple[float, float]]:
    """(lat, lon) of the stations and crossings of the named layers."""
    if not layer_ids:
        return []
    from ..corridors.layers import list_layers
    from ..corridors.stations import layer_points

    return [(lat, lon) for layer in list_layers() if layer.id in layer_ids for lon, lat in layer_points(layer)]


def _one_sense(keys: list[str], scored_all: list[list[tuple[float, int]]], best: list[int | None]) -> None:
    """Give every mention of the same name in an article the same place (scores averaged).

    A mention with an explicit qualifier ("Astara, Iran") keeps its own place when it
    scores far above the group's choice.
    """
    groups: dict[str, list[int]] = {}
    for k, key in enumerate(keys):
        if scored_all[k]:
            groups.setdefault(key, []).append(k)
    for ks in groups.values():
        if len(ks) < 2:
            continue
        total: Counter = Counter()
        for k in ks:
            for sc, i in scored_all[k]:
                total[i] += sc / len(ks)
        merged = sorted(((sc, i) for i, sc in total.items()), reverse=True)
        for k in ks:
            own_best = scored_all[k][0]
            group_choice = next(sc for sc, i in scored_all[k] if i == merged[0][1])
            if own_best[0] - group_choice < 2.5:
                scored_all[k] = merged
                best[k] = merged[0][1]


def _context_from_resolved(gaz, mentions: list[Mention], best: list[int | None]) -> "_Context":
    countries: Counter = Counter()
    admin1: Counter = Counter()
    anchors = []
    own: dict[str, tuple[Counter, Counter]] = {}
    for k, i in enumerate(best):
        if i is None:
            continue
        e = gaz.entries[i]
        oc, oa = own.setdefault(fold(mentions[k].text), (Counter(), Counter()))
        if e.country:
            countries[e.country] += 1.0
            oc[e.country] += 1.0
        if e.admin1 and e.feature_code != "PCLI":
            admin1[e.admin1] += 1.0
            oa[e.admin1] += 1.0
        if e.feature_class == "P" or e.feature_code in ("ADM2",):
            anchors.append((e.lat, e.lon, fold(mentions[k].text)))
    layers = {m.layer_id for m in mentions if m.layer_id}
    return _Context(countries, admin1, anchors, layers, _stations(layers), own)


def _mention_candidates(gaz: gazetteer.Gazetteer, m: Mention) -> list[tuple[int, bool]]:
    key = fold(m.text)
    if m.label == "INFRA" and m.layer_id:
        # a named crossing or bridge of the layer ("Yarag-Kazmalyar checkpoint"), else the layer itself
        crossing = [i for i, _ in candidates(infra_name(m.text)) if gaz.entries[i].layer_id == m.layer_id
                    and gaz.entries[i].feature_code == "PSTB"]
        hits = crossing or [i for i in (*gaz.names.get(key, ()), *_layer_entries().get(m.layer_id, ()))
                            if gaz.entries[i].layer_id == m.layer_id and gaz.entries[i].feature_class == "INFRA"]
        return [(i, True) for i in hits[:1]]
    if m.label == "INFRA":
        return [(i, o) for i, o in candidates(m.text) if gaz.entries[i].feature_class == "INFRA"]
    if key in gaz.demonyms and (m.label == "NORP" or not gaz.names.get(key)):
        return [(gaz.demonyms[key], True)]
    return candidates(m.text)


@functools.lru_cache(maxsize=1)
def _layer_entries() -> dict[str, tuple[int, ...]]:
    """Layer id -> its named-infrastructure entries."""
    gaz = gazetteer.load()
    out: dict[str, list[int]] = {}
    for i, e in enumerate(gaz.entries):
        if e.feature_class == "INFRA" and e.layer_id:
            out.setdefault(e.layer_id, []).append(i)
    return {k: tuple(v) for k, v in out.items()}


_CLASS_PRIOR = {"PCLI": 2.2, "PCLH": 1.8, "ADM1": 1.5, "ADM2": 3.0, "CONT": 1.6, "SEA": 1.6, "RGN": 1.4, "INFRA": 2.0,
                "PPL": 0.0, "PPLC": 1.0}


def _prior(e: Place, official: bool) -> float:
    score = math.log10(e.population + 10) / 2.0 + _CLASS_PRIOR.get(e.feature_code, 0.5)
    if e.feature_class in ("H", "L", "INFRA") and not e.population:
        score += 3.0
    return score + (0.4 if official else 0.0)


@dataclass
class _Context:
    countries: Counter  # country code -> weight in the article
    admin1: Counter  # admin1 key -> weight
    anchors: list  # (lat, lon, mention key) of certain places
    layers: set  # layer ids mentioned
    stations: dict  # geonames id -> layer id
    own: dict  # mention key -> (countries, admin1) it contributed itself


def _context(gaz: gazetteer.Gazetteer, mentions: list[Mention], cand_lists, text: str) -> _Context:
    countries: Counter = Counter()
    admin1: Counter = Counter()
    anchors = []
    layers = {m.layer_id for m in mentions if m.layer_id}
    for cands in cand_lists:
        if not cands:
            continue
        entries = [gaz.entries[i] for i, _ in cands]
        best = max(entries, key=lambda e: _prior(e, True))
        if best.feature_code in ("PCLI", "PCLH") and best.country:
            countries[best.country] += 1.0
        elif best.feature_code == "ADM1":
            admin1[best.admin1] += 1.0
            countries[best.country] += 0.5
        elif len({e.country for e in entries}) == 1 and best.country:
            countries[best.country] += 0.3
        if len(entries) == 1 and best.feature_class in ("P", "A") and best.feature_code != "CONT":
            anchors.append((best.lat, best.lon, ""))
    return _Context(countries, admin1, anchors, layers, _stations(layers), {})


def _stations(layers: set) -> dict:
    stations = {}
    if layers:
        from ..corridors.layers import list_layers

        for layer in list_layers():
            if layer.id in layers:
                for s in layer.stations:
                    if s.geonames_id:
                        stations[s.geonames_id] = layer.id
    return stations


def _admin1_support(gaz, keys: list[str], cand_lists) -> list[Counter]:
    """For each mention: admin1 key -> how many *other* names have a candidate in that division."""
    by_name: dict[str, set[str]] = {}
    for key, cands in zip(keys, cand_lists):
        if cands and key not in by_name:
            by_name[key] = {gaz.entries[i].admin1 for i, _ in cands if gaz.entries[i].admin1
                            and gaz.entries[i].feature_code not in ("PCLI", "PCLH")}
    totals: Counter = Counter()
    for admins in by_name.values():
        totals.update(admins)
    return [Counter({a: totals[a] - 1 for a in by_name.get(key, ())}) if key in by_name else Counter() for key in keys]


def _score(gaz, e: Place, official: bool, m: Mention, ctx: _Context, text: str, exclude: str = "") -> float:
    score = _prior(e, official)
    own_countries, own_admin1 = ctx.own.get(exclude, (Counter(), Counter()))
    total = sum(ctx.countries.values()) - sum(own_countries.values()) + settings.country_share_prior
    country_entry = gaz.entries[gaz.countries[e.country]] if e.country in gaz.countries else None
    is_country_name = country_entry is not None and exclude in _all_names(gaz, country_entry)
    if e.country and e.feature_code not in ("PCLI", "PCLH") and not is_country_name:
        score += 2.0 * (ctx.countries.get(e.country, 0.0) - own_countries.get(e.country, 0.0)) / total
        score += 0.6 * min(ctx.admin1.get(e.admin1, 0.0) - own_admin1.get(e.admin1, 0.0), 2.0)
        sent = fold(m.sentence)
        if country_entry and _names_in(gaz, country_entry, sent):
            score += 1.0
        qualifier = fold(text[m.end:m.end + 40].lstrip(" ,(")).split(" ")
        q = " ".join(qualifier[:3]) + " "
        if country_entry and any(q.startswith(n + " ") for n in _all_names(gaz, country_entry)):
            score += 3.0
        admin_entry = gaz.entries[gaz.admin1[e.admin1]] if e.admin1 in gaz.admin1 else None
        if admin_entry and any(q.startswith(n + " ") for n in _all_names(gaz, admin_entry) if len(n) > 1):
            score += 3.0
    if e.geonames_id in ctx.stations or (e.layer_id and e.layer_id in ctx.layers and e.feature_class != "INFRA"):
        score += 1.5  # a station of a corridor the article names
    elif e.layer_id and e.feature_class != "INFRA" and ctx.countries.get(e.country, 0.0) - own_countries.get(e.country, 0.0) >= 1.0:
        score += settings.corridor_vocabulary_weight  # a station, port or crossing in a country the article is about
    anchors = [(a, b) for a, b, k in ctx.anchors if k != exclude or not k]
    if anchors and (e.feature_class == "P" or e.feature_code == "ADM2"):
        d = min(haversine_km(e.lat, e.lon, a, b) for a, b in anchors)
        score += settings.proximity_weight * max(0.0, 1.0 - d / settings.proximity_km)
    return score


@functools.lru_cache(maxsize=1)
def _division_names() -> dict[int, tuple[str, ...]]:
    """Place id of each country and first-level division -> its folded names and demonyms."""
    gaz = gazetteer.load()
    wanted = set(gaz.countries.values()) | set(gaz.admin1.values())
    out: dict[int, set[str]] = {i: {fold(gaz.entries[i].name)} for i in wanted}
    for k, ids in gaz.names.items():
        for i in ids:
            if i in out:
                out[i].add(k)
    for k, i in gaz.demonyms.items():
        if i in out:
            out[i].add(k)
    return {i: tuple(sorted(v)) for i, v in out.items()}


def _all_names(gaz, e: Place) -> tuple[str, ...]:
    idx = gaz.countries.get(e.country) if e.feature_code != "ADM1" else gaz.admin1.get(e.admin1)
    return _division_names().get(idx, (fold(e.name),))


def _names_in(gaz, e: Place, folded_sentence: str) -> bool:
    words = f" {folded_sentence} "
    return any(f" {n} " in words for n in _all_names(gaz, e))


def _place(gaz, scored: list[tuple[float, int]], ctx) -> Place:
    best_score, best = scored[0]
    e = gaz.entries[best]
    exps = [math.exp(min(50.0, s - best_score)) for s, _ in scored]
    conf = 1.0 / sum(exps)
    others = tuple(
        (gaz.entries[i].name, gaz.entries[i].country, gaz.entries[i].lat, gaz.entries[i].lon, round(x / sum(exps), 3))
        for (s, i), x in zip(scored[1:settings.max_candidates + 1], exps[1:]))
    return e._replace(score=round(conf, 3), candidates=others)


def _override(gaz, m: Mention, value) -> Place | None:
    if isinstance(value, int):
        hit = next((e for e in gaz.entries if e.geonames_id == value), None)
        if hit is None:
            return None
        return hit._replace(score=1.0)
    lat, lon = value
    return Place(m.text, "", float(lat), float(lon), None, "P", score=1.0)


def _online(name: str) -> Place | None:

    return nominatim.geocode(name)
