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
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from .. import settings
from ..core.layers import Layer
from ..core.names import fold
from ..core.place import Place
from ..core.stations import layer_points
from ..geodesy import haversine_km, haversine_matrix_km
from . import gazetteer, nominatim
from .gazetteer import candidates
from .infra_places import infrastructure_ends, place_infrastructure
from .infrastructure import infra_name
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
    layers: Sequence[Layer] | None = None,
) -> list[Place | None]:
    """Resolve each mention to a place.

    Time and memory grow linearly with the number of mentions: candidates and the
    scores that do not depend on the sentence are computed once per distinct name,
    and mentions whose sentence and qualifier add the same bonuses share one ranking.

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
    layers : sequence of Layer, optional
        The corridor vocabulary the mentions were found with; default: the layer folder's.

    Returns
    -------
    list of Place or None
        One entry per mention, None where unresolved.
    """
    with gazetteer.using_layers(layers):
        return _resolve(mentions, text, overrides, online)


def _resolve(mentions: list[Mention], text: str, overrides, online: bool) -> list[Place | None]:
    gaz = gazetteer.load()
    overrides = {fold(k): v for k, v in (overrides or {}).items()}
    keys = [fold(m.text) for m in mentions]
    names = _names(gaz, mentions, keys)
    cand_lists = [names[(keys[k], m.label, m.layer_id)].cands for k, m in enumerate(mentions)]
    scored_all, ctx = _rank(gaz, mentions, text, keys, names, cand_lists, overrides)
    out: list[Place | None] = []
    places: dict[int, Place] = {}  # one Place per distinct ranking
    for k, m in enumerate(mentions):
        if keys[k] in overrides:
            out.append(_override(gaz, m, overrides[keys[k]]))
        elif not cand_lists[k]:
            out.append(None)  # Nominatim's, online (below)
        elif gaz.entries[scored_all[k][0][1]].feature_class in ("P", "S") and _contradicted(
                gaz, text, m.end, names[(keys[k], m.label, m.layer_id)]):
            out.append(None)
        else:
            scored = scored_all[k]
            if id(scored) not in places:
                places[id(scored)] = _place(gaz, scored, ctx)
            out.append(places[id(scored)])
    anchors = _layer_anchors(ctx.layers)
    out = reject_unsupported_stations(gaz, out, keys, anchors)
    out = reject_far_fetched(out, keys, anchors, _weak_picks(mentions, keys, names, scored_all, out))
    if online:  # last: inside the countries of the places kept
        out = _online(mentions, out, [k for k, m in enumerate(mentions) if not cand_lists[k] and keys[k] not in overrides])
    return place_infrastructure(mentions, out)


def _rank(gaz, mentions: list[Mention], text: str, keys: list[str], names: dict, cand_lists: list,
          overrides: dict) -> tuple[list[list[tuple[float, int]]], _Context]:
    """Each mention's candidates as (score, entry id), best first, and the article's context they were scored in.

    Scoring runs ``settings.resolve_rounds`` rounds, each in the context of the places the last one chose;
    mentions of ``overrides`` (folded keys) are left unranked.
    """
    ctx = _context(gaz, mentions, cand_lists, text)
    best: list[int | None] = [None] * len(mentions)
    support = _admin1_support(gaz, keys, cand_lists)
    scored_all: list[list[tuple[float, int]]] = [[] for _ in mentions]
    partners = link_partners(mentions)
    qualified: set[int] = set()  # mentions followed by their country or division: "Astara (Iran)"
    for round_ in range(settings.resolve_rounds):
        if round_:
            ctx = _context_from_resolved(gaz, mentions, best)
        base: dict[int, list[float]] = {}
        rankings: dict[tuple[int, tuple[tuple[int, float], ...]], list[tuple[float, int]]] = {}
        sentences = _SentenceCache()
        for k, m in enumerate(mentions):
            name = names[(keys[k], m.label, m.layer_id)]
            if not name.cands or keys[k] in overrides:
                continue
            if name.id not in base:
                base[name.id] = _base_scores(gaz, name, ctx, support.get(name.key, Counter()))
            bonus = _mention_bonus(name, sentences.folded(m.sentence), _qualifier(text, m.end))
            if any(extra >= _QUALIFIER_BONUS for _, extra in bonus):
                qualified.add(k)
            if round_ and k in partners:
                bonus += _link_bonus(gaz, name, [gaz.entries[best[j]] for j in partners[k] if best[j] is not None])
            scored = rankings.get((name.id, bonus))
            if scored is None:
                scores = list(base[name.id])
                for pos, extra in bonus:
                    scores[pos] += extra
                scored = sorted(zip(scores, (i for i, _ in name.cands)), reverse=True)
                rankings[(name.id, bonus)] = scored
            scored_all[k] = scored
            best[k] = scored[0][1]
        if settings.one_sense_per_article:
            _one_sense(keys, scored_all, best, qualified)
    return scored_all, ctx


def reject_unsupported_stations(gaz, places: list[Place | None], keys: list[str],
                                anchors: Sequence[tuple[float, float]] = ()) -> list[Place | None]:
    """Drop places known only from an OSM station node that nothing else in the article supports.

    Such a place (:func:`geo.text.gazetteer.is_osm_only`) is kept when it lies within
    ``settings.osm_station_support_km`` of a town or station the article names under another
    name or of a station of a corridor it names, or, when the article names no other town or
    station, when it names the station's country.
    """
    if not any(p is not None and gazetteer.is_osm_only(p) for p in places):
        return places
    points = list(dict.fromkeys((p.lat, p.lon, key) for p, key in zip(places, keys)
                                if p is not None and p.feature_class in ("P", "S")))
    lat = np.array([a for a, _, _ in points] + [a for a, _ in anchors], dtype=float)
    lon = np.array([b for _, b, _ in points] + [b for _, b in anchors], dtype=float)
    owner = np.array([k for _, _, k in points] + [None] * len(anchors), dtype=object)
    countries = {p.country for p in places if p is not None and p.feature_code in ("PCLI", "PCLH", "ADM1")}
    out = list(places)
    for k, (p, key) in enumerate(zip(places, keys)):
        if p is None or not gazetteer.is_osm_only(p):
            continue
        others = owner != key
        if others.any():
            keep = bool(haversine_matrix_km([p.lat], [p.lon], lat[others], lon[others]).min()
                        <= settings.osm_station_support_km)
        else:
            keep = p.country in countries
        if not keep:
            out[k] = None
    return out


def _weak_picks(mentions, keys, names, scored_all, places) -> list[bool]:
    """Per mention: placed through another name of the place (an alternate name or a romanisation,
    not its own) in a country no other name of the article is in ("Khasan" as Hassan in India)."""
    keys_of: dict[str, set[str]] = {}
    for key, p in zip(keys, places):
        if p is not None and p.country:
            keys_of.setdefault(p.country, set()).add(key)
    official = {name.id: dict(name.cands) for name in names.values()}  # entry id -> matched its own name
    out = []
    for k, m in enumerate(mentions):
        p = places[k]
        own_name = not scored_all[k] or official[names[(keys[k], m.label, m.layer_id)].id][scored_all[k][0][1]]
        out.append(p is not None and not own_name and keys_of.get(p.country, set()) <= {keys[k]})
    return out


def reject_far_fetched(places: list[Place | None], keys: list[str],
                       anchors: Sequence[tuple[float, float]] = (), weak: list[bool] | None = None) -> list[Place | None]:
    """Drop low-confidence towns thousands of km from all the article's other places and corridors.

    A place is dropped when its confidence is below ``settings.far_fetched_score`` and it lies
    more than ``settings.far_fetched_km`` from every town or station the article names under
    another name (at least two of them) and from every station of a corridor the article names.
    Each distinct (place, name) is decided once, against the distinct points, so the time grows
    linearly with the mentions.

    Parameters
    ----------
    places : list of Place or None
        One per mention.
    keys : list of str
        The folded text of each mention (mentions of one name do not support each other).
    anchors : list of (lat, lon)
        Points of the corridors the article names.
    weak : list of bool, optional
        Per mention: placed through an alternate name or a romanisation, not the place's own
        name, in a country the article names nothing else in ("Khasan" as Hassan in India);
        such picks are checked whatever their confidence, and against the article's countries and
        first-level divisions too.
    """
    points = list(dict.fromkeys((p.lat, p.lon, key, p.feature_class == "A") for p, key in zip(places, keys)
                                if p is not None and (p.feature_class in ("P", "S") or (
                                    p.feature_class == "A" and p.feature_code in ("ADM1", "ADM2", "PCLI")))))
    lat = np.array([a for a, _, _, _ in points] + [a for a, _ in anchors], dtype=float)
    lon = np.array([b for _, b, _, _ in points] + [b for _, b in anchors], dtype=float)
    owner = np.array([k for _, _, k, _ in points] + [None] * len(anchors), dtype=object)
    area = np.array([a for _, _, _, a in points] + [False] * len(anchors), dtype=bool)
    cell = [(round(a, 1), round(b, 1)) for a, b in zip(lat, lon)]
    decided: dict[tuple, bool] = {}
    out = list(places)
    for k, (p, key) in enumerate(zip(places, keys)):
        is_weak = bool(weak and weak[k])
        if p is None or p.feature_class not in ("P", "S") or (p.score >= settings.far_fetched_score and not is_weak):
            continue
        if (p.lat, p.lon, key, is_weak) not in decided:
            # a weak pick is also measured against the article's countries and divisions ("Khasan" in an
            # article about Primorye and Korea is not Hassan in India)
            others = (owner != key) & (~area | is_weak)
            far = len({c for c, use in zip(cell, others) if use}) >= 2 and bool(
                haversine_matrix_km([p.lat], [p.lon], lat[others], lon[others]).min() > settings.far_fetched_km)
            decided[(p.lat, p.lon, key, is_weak)] = far
        if decided[(p.lat, p.lon, key, is_weak)]:
            out[k] = None
    return out


@dataclass
class _Name:
    """One distinct name of the article (folded key, label, layer) and what scoring it needs."""

    id: int
    key: str
    cands: list  # (entry id, official)
    shadowed: set  # entry ids of divisions shadowed by a city of the same name
    #: per candidate eligible for the sentence and qualifier bonuses:
    #: (position, names of its country or None, names of its division or None)
    local: list


def _names(gaz, mentions: list[Mention], keys: list[str]) -> dict[tuple[str, str, str], _Name]:
    """The distinct names of the article, with candidates and shadowed divisions (once per name)."""
    out: dict[tuple[str, str, str], _Name] = {}
    for k, m in enumerate(mentions):
        nk = (keys[k], m.label, m.layer_id)
        if nk in out:
            continue
        cands = _mention_candidates(gaz, m)
        local = []
        for pos, (i, _) in enumerate(cands):
            e = gaz.entries[i]
            country_entry = gaz.entries[gaz.countries[e.country]] if e.country in gaz.countries else None
            if not e.country or e.feature_code in ("PCLI", "PCLH"):
                continue
            if country_entry is not None and keys[k] in _all_names(gaz, country_entry):
                continue
            admin_entry = gaz.entries[gaz.admin1[e.admin1]] if e.admin1 in gaz.admin1 else None
            local.append((pos, _all_names(gaz, country_entry) if country_entry else None,
                          _qualifier_names(gaz, admin_entry) if admin_entry else None))
        out[nk] = _Name(len(out), keys[k], cands, _shadowed_admins(gaz, cands) if cands else set(), local)
    return out


class _SentenceCache:
    """The folded form of the last sentence seen (mentions come in text order, many per sentence)."""

    def __init__(self) -> None:
        self.sentence: str | None = None
        self.value = ""

    def folded(self, sentence: str) -> str:
        if sentence != self.sentence:
            self.sentence, self.value = sentence, f" {fold(_POSSESSIVE.sub('', sentence))} "
        return self.value


#: The possessive ending of a name ("Iran's" names Iran).
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


_IN = re.compile(r"^\s+in\s+(?:the\s+)?(?=[A-Z])")


_PUNCTUATION = re.compile(r"[^\w\s]")
#: Bonus of a candidate whose country or division follows the mention ("Astara, Iran");
#: the sentence naming the country adds 1, so only a qualifier reaches this.
_QUALIFIER_BONUS = 3.0


def _qualifier_phrases(text: str, end: int) -> tuple[list[str], bool]:
    """The one-, two- and three-word folded phrases right after a mention, or after "in" there,
    and whether they follow "in" ("Astara, Iran" -> ["iran", ...]; "Vostochny in Primorye" -> ["primorye", ...])."""
    after = text[end:end + 60]
    m = _IN.match(after)
    words = _PUNCTUATION.sub(" ", fold(after[m.end():] if m else after.lstrip(" ,("))).split()[:3]
    return [" ".join(words[:n]) for n in range(1, len(words) + 1)], m is not None


def _qualifier(text: str, end: int) -> frozenset[str]:
    """The qualifier phrases after a mention (see :func:`_qualifier_phrases`), as a set."""
    return frozenset(_qualifier_phrases(text, end)[0])


def _contradicted(gaz, text: str, end: int, name: _Name) -> bool:
    """True when "X in Y" names a country or first-level division Y that holds none of X's candidates.

    "the port of Vostochny in Primorye": the only Vostochny the gazetteer has is in Stavropol
    Krai, so the mention is left unplaced rather than put 6,000 km from where it belongs.
    """
    phrases, after_in = _qualifier_phrases(text, end)
    if not after_in:
        return False
    named = [i for phrase in phrases for i, _ in candidates(phrase) if gaz.entries[i].feature_code in ("PCLI", "ADM1")]
    if not named:
        return False
    regions = {gaz.entries[i].admin1 if gaz.entries[i].feature_code == "ADM1" else gaz.entries[i].country
               for i in named}
    return not any(not e.country or e.country in regions or e.admin1 in regions  # a crossing has two countries
                   for e in (gaz.entries[i] for i, _ in name.cands))


def _mention_bonus(name: _Name, sentence: str, qualifier: frozenset[str]) -> tuple[tuple[int, float], ...]:
    """Bonuses of one mention: its sentence names the candidate's country (+1), or a qualifier
    follows it naming the country or first-level division (+3 each). ``sentence`` is folded and padded."""
    out = []
    named: dict[int, bool] = {}
    for pos, country_names, admin_names in name.local:
        extra = 0.0
        if country_names is not None:
            hit = named.get(id(country_names))
            if hit is None:
                hit = named[id(country_names)] = any(f" {n} " in sentence for n in country_names)
            extra += 1.0 if hit else 0.0
            extra += _QUALIFIER_BONUS if not qualifier.isdisjoint(country_names) else 0.0
        if admin_names is not None and not qualifier.isdisjoint(admin_names):
            extra += _QUALIFIER_BONUS
        if extra:
            out.append((pos, extra))
    return tuple(out)


def link_partners(mentions: list[Mention]) -> dict[int, list[int]]:
    """Mention index -> the indices of the other towns named with it as ends of one link.

    In "the Zabaikalsk–Manzhouli crossing" or "the Rasht–Astara railway" (an ``INFRA``
    mention holding the place mentions of its ends), each end is the other's partner.
    """
    out: dict[int, list[int]] = {}
    for ends in infrastructure_ends(mentions).values():
        for j in ends if len(ends) >= 2 else ():
            out[j] = [o for o in ends if o != j]
    return out


def _link_bonus(gaz, name: _Name, partners: list[Place]) -> tuple[tuple[int, float], ...]:
    """Bonuses of the candidates of a link's end for lying near its other ends (and in their country).

    The ends of one railway, bridge or crossing are near each other: the bonus is
    ``settings.link_end_weight`` next to a partner, fading to 0 at ``settings.link_end_km``,
    plus ``settings.link_same_country_weight`` per partner in the same country.
    """
    out = []
    for pos, (i, _) in enumerate(name.cands):
        e = gaz.entries[i]
        extra = 0.0
        for p in partners:
            extra += settings.link_end_weight * max(0.0, 1.0 - haversine_km(e.lat, e.lon, p.lat, p.lon)
                                                    / settings.link_end_km)
            if e.country and e.country == p.country:
                extra += settings.link_same_country_weight
        if extra:
            out.append((pos, extra))
    return tuple(out)


def _base_scores(gaz, name: _Name, ctx: _Context, support: Counter) -> list[float]:
    """Each candidate's score from the article as a whole (prior, context, stations, anchors, coherence)."""
    own_countries, own_admin1 = ctx.own.get(name.key, (Counter(), Counter()))
    total = sum(ctx.countries.values()) - sum(own_countries.values()) + settings.country_share_prior
    entries = [gaz.entries[i] for i, _ in name.cands]
    scores = [_prior(e, official) for e, (_, official) in zip(entries, name.cands)]
    for pos, _, _ in name.local:
        e = entries[pos]
        scores[pos] += 2.0 * (ctx.countries.get(e.country, 0.0) - own_countries.get(e.country, 0.0)) / total
        scores[pos] += 0.6 * min(ctx.admin1.get(e.admin1, 0.0) - own_admin1.get(e.admin1, 0.0), 2.0)
    near = _proximity(ctx, name.key, entries)
    for pos, e in enumerate(entries):
        if e.geonames_id in ctx.stations or (e.layer_id and e.layer_id in ctx.layers and e.feature_class != "INFRA"):
            scores[pos] += 1.5  # a station of a corridor the article names
        elif (e.layer_id and e.feature_class != "INFRA"
              and ctx.countries.get(e.country, 0.0) - own_countries.get(e.country, 0.0) >= 1.0):
            scores[pos] += settings.corridor_vocabulary_weight  # a station, port or crossing in a country of the article
        scores[pos] += near[pos]
        scores[pos] += settings.coherence_weight * min(2, support.get(e.admin1, 0))
        if name.cands[pos][0] in name.shadowed:
            scores[pos] -= 2.5
    return scores


def _proximity(ctx: _Context, key: str, entries: list[Place]) -> np.ndarray:
    """Bonus of each candidate for lying near the article's certain places (not counting its own name)."""
    out = np.zeros(len(entries))
    lat, lon, owner = ctx.anchors
    use = (owner != key) | (owner == "") if len(owner) else np.zeros(0, dtype=bool)
    which = [p for p, e in enumerate(entries) if e.feature_class == "P" or e.feature_code == "ADM2"]
    if not which or not use.any():
        return out
    d = haversine_matrix_km([entries[p].lat for p in which], [entries[p].lon for p in which], lat[use], lon[use])
    out[which] = settings.proximity_weight * np.maximum(0.0, 1.0 - d.min(axis=1) / settings.proximity_km)
    return out


def _layer_anchors(layer_ids: set) -> list[tuple[float, float]]:
    """(lat, lon) of the stations and crossings of the named layers."""
    if not layer_ids:
        return []
    return [(lat, lon) for layer in gazetteer.current_layers() if layer.id in layer_ids
            for lon, lat in layer_points(layer)]


def _one_sense(keys: list[str], scored_all: list[list[tuple[float, int]]], best: list[int | None],
               qualified: Collection[int] = frozenset()) -> None:
    """Give every mention of the same name in an article the same place (scores averaged).

    A mention followed by its country or division (``qualified``: "Astara (Iran)" beside
    "Astara (Azerbaijan)") keeps its own place, and so does one that scores far above the
    group's choice. Mentions that share a ranking are counted, not repeated.
    """
    groups: dict[str, list[int]] = {}
    for k, key in enumerate(keys):
        if scored_all[k]:
            groups.setdefault(key, []).append(k)
    for ks in groups.values():
        if len(ks) < 2:
            continue
        distinct: dict[int, list] = {}
        for k in ks:
            distinct.setdefault(id(scored_all[k]), [scored_all[k], 0])[1] += 1
        total: Counter = Counter()
        for scored, count in distinct.values():
            for sc, i in scored:
                total[i] += sc * count / len(ks)
        merged: list[tuple[float, int]] = sorted(((sc, i) for i, sc in total.items()), reverse=True)
        keep = {}
        for ident, (scored, _) in distinct.items():
            group_choice = next((sc for sc, i in scored if i == merged[0][1]), None)
            keep[ident] = group_choice is None or scored[0][0] - group_choice >= 2.5
        for k in ks:
            if k not in qualified and not keep[id(scored_all[k])]:
                scored_all[k] = merged
                best[k] = merged[0][1]


def _context_from_resolved(gaz, mentions: list[Mention], best: list[int | None]) -> _Context:
    countries: defaultdict[str, float] = defaultdict(float)
    admin1: defaultdict[str, float] = defaultdict(float)
    anchors: dict[tuple[float, float, str], None] = {}
    own: dict[str, tuple[defaultdict[str, float], defaultdict[str, float]]] = {}
    for k, i in enumerate(best):
        if i is None:
            continue
        e = gaz.entries[i]
        key = fold(mentions[k].text)
        oc, oa = own.setdefault(key, (defaultdict(float), defaultdict(float)))
        if e.country:
            countries[e.country] += 1.0
            oc[e.country] += 1.0
        if e.admin1 and e.feature_code != "PCLI":
            admin1[e.admin1] += 1.0
            oa[e.admin1] += 1.0
        if e.feature_class == "P" or e.feature_code in ("ADM2",):
            anchors[(e.lat, e.lon, key)] = None
    layers = {m.layer_id for m in mentions if m.layer_id}
    return _Context(countries, admin1, _anchor_arrays(anchors), layers, _stations(layers), own)


def _anchor_arrays(anchors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (lat, lon, mention key) anchors as three arrays."""
    rows = list(anchors)
    return (np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=float),
            np.array([r[2] for r in rows], dtype=object))


def _mention_candidates(gaz: gazetteer.Gazetteer, m: Mention) -> list[tuple[int, bool]]:
    key = fold(m.text)
    if m.label == "INFRA" and m.layer_id:
        # a named crossing or bridge of the layer ("Yarag-Kazmalyar checkpoint"), else the layer itself
        crossing = [i for i, _ in candidates(infra_name(m.text)) if gaz.entries[i].layer_id == m.layer_id
                    and gaz.entries[i].feature_code == "PSTB"]
        hits = crossing or [i for i in (*gaz.names.get(key, ()), *_layer_entries().get(m.layer_id, ()))
                            if gaz.entries[i].layer_id == m.layer_id and gaz.entries[i].feature_class == "INFRA"]
        return [(i, True) for i in hits[:1]]
    if m.label == "INFRA":  # named infrastructure the gazetteer has a point for, or a named canal or strait
        return [(i, o) for i, o in candidates(m.text) if gaz.entries[i].feature_class in ("INFRA", "H")]
    if key in gaz.demonyms and (m.label == "NORP" or not gaz.names.get(key)):
        return [(gaz.demonyms[key], True)]
    if m.label == "LOC":  # an island, range or region: not a station known only from OSM ("Sakhalin")
        return [(i, o) for i, o in candidates(m.text) if not gazetteer.is_osm_only(gaz.entries[i])]
    return candidates(m.text)


def _layer_entries() -> dict[str, tuple[int, ...]]:
    """Layer id -> its named-infrastructure entries (of the current layers)."""
    return _infra_entries(gazetteer.current_key())


@functools.lru_cache(maxsize=2)
def _infra_entries(catalogue_key: str) -> dict[str, tuple[int, ...]]:
    gaz = gazetteer.load()
    out: dict[str, list[int]] = {}
    for i in gaz.entries.where("feature_class", "INFRA"):
        if gaz.entries[i].layer_id:
            out.setdefault(gaz.entries[i].layer_id, []).append(i)
    return {k: tuple(v) for k, v in out.items()}


_CLASS_PRIOR = {"PCLI": 2.2, "PCLH": 1.8, "ADM1": 1.5, "ADM2": 3.0, "CONT": 1.6, "SEA": 1.6, "RGN": 1.4, "INFRA": 2.0,
                "PPL": 0.0, "PPLC": 1.0}


def _prior(e: Place, official: bool) -> float:
    score = math.log10(e.population + 10) / 2.0 + _CLASS_PRIOR.get(e.feature_code, 0.5)
    if e.feature_class in ("H", "L", "INFRA") and not e.population:
        score += 3.0
    return score + (settings.official_name_weight if official else 0.0)


@dataclass
class _Context:
    countries: dict[str, float]  # country code -> weight in the article
    admin1: dict[str, float]  # admin1 key -> weight
    anchors: tuple  # distinct certain places: arrays of lat, lon and the mention key that placed them ("" any)
    layers: set  # layer ids mentioned
    stations: dict  # geonames id -> layer id
    own: dict  # mention key -> (countries, admin1) it contributed itself


def _context(gaz: gazetteer.Gazetteer, mentions: list[Mention], cand_lists, text: str) -> _Context:
    countries: defaultdict[str, float] = defaultdict(float)
    admin1: defaultdict[str, float] = defaultdict(float)
    anchors: dict[tuple[float, float, str], None] = {}
    layers = {m.layer_id for m in mentions if m.layer_id}
    best_of: dict[int, tuple[Place, bool]] = {}  # per distinct candidate list: its best entry, one country?
    for cands in cand_lists:
        if not cands:
            continue
        if id(cands) not in best_of:
            entries = [gaz.entries[i] for i, _ in cands]
            best_of[id(cands)] = (max(entries, key=lambda e: _prior(e, True)), len({e.country for e in entries}) == 1)
        best, one_country = best_of[id(cands)]
        if best.feature_code in ("PCLI", "PCLH") and best.country:
            countries[best.country] += 1.0
        elif best.feature_code == "ADM1":
            admin1[best.admin1] += 1.0
            countries[best.country] += 0.5
        elif one_country and best.country:
            countries[best.country] += 0.3
        if len(cands) == 1 and best.feature_class in ("P", "A") and best.feature_code != "CONT":
            anchors[(best.lat, best.lon, "")] = None
    return _Context(countries, admin1, _anchor_arrays(anchors), layers, _stations(layers), {})


def _stations(layers: set) -> dict:
    stations = {}
    if layers:
        for layer in gazetteer.current_layers():
            if layer.id in layers:
                for s in layer.stations:
                    if s.geonames_id:
                        stations[s.geonames_id] = layer.id
    return stations


def _admin1_support(gaz, keys: list[str], cand_lists) -> dict[str, Counter]:
    """For each name: admin1 key -> how many *other* names have a candidate in that division."""
    by_name: dict[str, set[str]] = {}
    for key, cands in zip(keys, cand_lists):
        if cands and key not in by_name:
            by_name[key] = {gaz.entries[i].admin1 for i, _ in cands if gaz.entries[i].admin1
                            and gaz.entries[i].feature_code not in ("PCLI", "PCLH")}
    totals: Counter = Counter()
    for admins in by_name.values():
        totals.update(admins)
    return {key: Counter({a: totals[a] - 1 for a in admins}) for key, admins in by_name.items()}


@functools.lru_cache(maxsize=1)
def _division_names() -> dict[int, frozenset[str]]:
    """Place id of each country and first-level division -> its folded names and demonyms."""
    gaz = gazetteer.load()
    wanted = set(gaz.countries.values()) | set(gaz.admin1.values())
    out: dict[int, set[str]] = {i: {fold(gaz.entries[i].name)} for i in wanted}
    for i, keys in gaz.names.keys_for(wanted).items():
        out[i].update(keys)
    for k, i in gaz.demonyms.items():
        if i in out:
            out[i].add(k)
    return {i: frozenset(v) for i, v in out.items()}


def _all_names(gaz, e: Place) -> frozenset[str]:
    """The folded names of a country or first-level division (its own name when it has no entry)."""
    idx = gaz.countries.get(e.country) if e.feature_code != "ADM1" else gaz.admin1.get(e.admin1)
    names = _division_names().get(idx)
    return names if names is not None else frozenset({fold(e.name)})


def _qualifier_names(gaz, e: Place) -> frozenset[str]:
    """A division's names that count as a qualifier after a mention (longer than one letter)."""
    idx = gaz.countries.get(e.country) if e.feature_code != "ADM1" else gaz.admin1.get(e.admin1)
    if idx in _division_names():
        return _long_names(idx)
    return frozenset(n for n in _all_names(gaz, e) if len(n) > 1)


@functools.cache
def _long_names(idx: int) -> frozenset[str]:
    return frozenset(n for n in _division_names()[idx] if len(n) > 1)


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
        hits = gaz.entries.where("geonames_id", value)
        return gaz.entries[hits[0]]._replace(score=1.0) if hits else None
    lat, lon = value
    return Place(m.text, "", float(lat), float(lon), None, "P", score=1.0)


def _online(mentions: list[Mention], places: list[Place | None], unplaced: list[int]) -> list[Place | None]:
    """The places Nominatim gives the ``unplaced`` mentions, inside the countries of the article's other places
    (:func:`geo.text.nominatim.place_names`: bounded, and only answers in those countries)."""
    if not unplaced:
        return places
    countries = {p.country for p in places if p is not None and p.country}
    found = nominatim.place_names([mentions[k].text for k in unplaced], countries)
    out = list(places)
    for k in unplaced:
        out[k] = found.get(mentions[k].text)
    return out
