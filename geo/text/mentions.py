"""Find place mentions in text: spaCy NER plus a gazetteer-driven ruler.

The statistical NER of the small English model finds most places but mislabels
some (``Baikal-Amur Mainline`` as ORG, ``Ust-Kut`` as PERSON) and misses others
(``BAM``). A ruler over the gazetteer (:mod:`geo.text.gazetteer`: places, the layers'
stations, ports and crossings, their romanisation variants, and the layers' names)
adds and relabels those spans; named infrastructure by pattern ("A–B railway",
"... Magistral", "... Transport Corridor") comes from :mod:`geo.text.infrastructure`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from .. import settings
from ..core.layers import Layer
from ..core.names import variant_key
from ..errors import DataError
from . import gazetteer
from .infrastructure import NOT_INFRA_AFTER, find_infrastructure, written_as_name
from .invisible import Visible, visible
from .regions import DIRECTION_BEFORE

PLACE_LABELS = ("GPE", "LOC", "FAC", "NORP")
#: Fine-grained (Penn Treebank) tags of proper nouns and adjectives, as the tagger writes them: the
#: pipeline leaves out the attribute ruler that would map them to coarse parts of speech.
PROPER_NOUN_TAGS = frozenset({"NNP", "NNPS"})
ADJECTIVE_TAGS = frozenset({"JJ", "JJR", "JJS"})


@dataclass(frozen=True)
class Mention:
    """A place mention: a span of the article and its label."""

    text: str  # surface form, == article[start:end]
    start: int
    end: int
    sentence: str  # the full sentence containing the mention
    label: str  # "GPE", "LOC", "FAC", "NORP" or "INFRA"
    layer_id: str = ""  # for INFRA: the layer id from geo.core.layers.infrastructure_aliases()


@functools.lru_cache(maxsize=1)
def nlp():
    """Return the spaCy pipeline (loaded once per process) with only the components the recogniser uses.

    ``settings.spacy_exclude`` are never loaded; ``settings.spacy_enable`` are switched on
    (the model ships its statistical sentence splitter disabled). The recogniser reads
    entities, fine-grained tags, sentence starts and token shapes.

    Raises
    ------
    DataError
        If the model package is not installed.
    """
    import spacy

    try:
        pipeline = spacy.load(settings.spacy_model, exclude=list(settings.spacy_exclude))
    except OSError as exc:
        raise DataError(f"spaCy model {settings.spacy_model!r} is not installed: pip install the project") from exc
    for name in settings.spacy_enable:
        if name in pipeline.disabled:
            pipeline.enable_pipe(name)
    return pipeline


_GENERIC_SUFFIX = re.compile(r" (?:city|town|county|district|province|region|oblast|state|municipality)$")

# Ruler strength per entry kind; a ruler span is kept when strength >= the needed level.
_STRONG, _MEDIUM, _WEAK = 3, 2, 1


class Ruler:
    """The ruler: folded name -> (strength, label, layer_id), worked out per name when asked.

    Strong: named infrastructure, layer stations, countries, curated places.
    Medium: first-level divisions, continents, demonyms, cities of at least
    ``settings.ruler_min_population``. Cities below that are not ruled. A name takes its
    first gazetteer entry of the highest strength; demonyms and layer station names
    then take it over where they are stronger. Answers are remembered (a bounded memo),
    so nothing is built for the whole gazetteer: loading costs nothing.
    """

    _MEMO_LIMIT = 200_000

    def __init__(self, gaz, demonyms, vocabulary) -> None:
        self._gaz, self._demonyms, self._vocabulary = gaz, demonyms, vocabulary
        self._memo: dict[str, tuple[int, str, str] | None] = {}

    def get(self, key, default=None):
        try:
            hit = self._memo[key]
        except KeyError:
            if len(self._memo) > self._MEMO_LIMIT:
                self._memo.clear()
            hit = self._memo[key] = self._rule(key)
        return default if hit is None else hit

    def __getitem__(self, key: str) -> tuple[int, str, str]:
        hit = self.get(key)
        if hit is None:
            raise KeyError(key)
        return hit

    def __contains__(self, key) -> bool:
        return self.get(key) is not None

    def __bool__(self) -> bool:
        return True

    def _rule(self, key: str) -> tuple[int, str, str] | None:
        if len(key) < 2:
            return None
        out = None
        if key not in settings.ruler_generic_words and key not in settings.generic_place_words:
            out = self._gazetteer_rule(key)
        for value, applies in (((_MEDIUM, "NORP", ""), key in self._demonyms),
                               ((_STRONG, "GPE", ""), key in self._vocabulary)):
            if applies and (out is None or out[0] < value[0]):
                out = value
        return out

    def _gazetteer_rule(self, key: str) -> tuple[int, str, str] | None:
        best, level = None, 0
        for i in self._gaz.names.get(key, ()):
            strength = _strength(self._gaz.entries[i])
            if strength > level:
                best, level = self._gaz.entries[i], strength
        if best is None and " " in key and not _GENERIC_SUFFIX.search(key):
            # another spelling of a big place, of two words or more ("Mazar-i-Sharif"; not "Dublin City")
            for i in self._gaz.alt_names.get(key, ()):
                e = self._gaz.entries[i]
                if e.feature_class == "P" and e.population >= settings.ruler_min_population:
                    return (_MEDIUM, "GPE", "")
        if best is None:
            return None
        if best.feature_class == "INFRA":
            return (_STRONG, "INFRA", best.layer_id)
        if level == _STRONG or best.feature_code in ("ADM1", "CONT"):
            return (level, "GPE" if best.feature_class == "A" else "LOC", "")
        return (_MEDIUM, "GPE", "")


def _strength(place) -> int:
    """Ruler strength of one gazetteer entry (see :class:`Ruler`)."""
    if place.feature_class == "INFRA" or place.feature_code in ("PCLI", "PCLH") or (
            place.feature_class in ("H", "L") and place.feature_code != "CONT"):
        return _STRONG
    if place.feature_code in ("ADM1", "CONT") or place.population >= settings.ruler_min_population:
        return _MEDIUM
    return 0


def ruler() -> Ruler:
    """Return the ruler (see :class:`Ruler`) of the current layers, one per process and catalogue."""
    return _ruler(gazetteer.current_key())


@functools.lru_cache(maxsize=2)
def _ruler(catalogue_key: str) -> Ruler:
    gaz = gazetteer.load()
    return Ruler(gaz, gaz.demonyms, layer_vocabulary())


def layer_vocabulary() -> dict[str, str]:
    """Folded names of every station, port and crossing of the current layers -> their romanisation key.

    The ruler matches these strongly, and also by romanisation key ("Severobaikalsk" for the
    layer's "Severobaykalsk"; see :func:`geo.core.names.variant_key`).
    """
    return _layer_vocabulary(gazetteer.current_key())


@functools.lru_cache(maxsize=2)
def _layer_vocabulary(catalogue_key: str) -> dict[str, str]:
    names: list[str] = []
    for layer in gazetteer.current_layers():
        for s in layer.stations:
            names += gazetteer.station_names(s.name, s.local_name) + list(s.aliases)
        for c in layer.crossings:
            names += gazetteer.crossing_names(c.name, [n for _, n in c.names]) + list(c.aliases)
    return {gazetteer.fold(n): variant_key(n) for n in names if len(gazetteer.fold(n)) >= 3}


def _vocabulary_variants() -> dict[str, tuple[int, str, str]]:
    return _variants(gazetteer.current_key())


@functools.lru_cache(maxsize=2)
def _variants(catalogue_key: str) -> dict[str, tuple[int, str, str]]:
    return {v: (_STRONG, "GPE", "") for v in layer_vocabulary().values()}


#: Within :func:`extract_mentions` with ``keep_unknown``: keep the model's GPE and LOC entities the gazetteer
#: does not know (for Nominatim, ``--online-geocoding``).
_KEEP_UNKNOWN: ContextVar[bool] = ContextVar("corridormap_keep_unknown", default=False)


def extract_mentions(text: str, layers: Sequence[Layer] | None = None, *, keep_unknown: bool = False) -> list[Mention]:
    """Return the place mentions in ``text``.

    Invisible characters (zero-width, soft hyphens, direction marks; see
    :mod:`geo.text.invisible`) are ignored; spans still index ``text``. Long texts
    are parsed in pieces of ``settings.max_chunk_chars``, so time and memory grow
    linearly with the length.

    Parameters
    ----------
    text : str
        The article.
    layers : sequence of Layer, optional
        The corridor vocabulary (stations, crossings, named lines); default: the layer folder's.
    keep_unknown : bool
        Also keep the model's place names (GPE, LOC) the gazetteer does not know, for an online lookup.

    Returns
    -------
    list of Mention
        Sorted by start; ``text[m.start:m.end] == m.text``. Mentions do not overlap, except that
        a named-infrastructure phrase ("Rasht–Astara railway", label ``INFRA``) holds the place
        mentions of the towns at its ends ("Rasht", "Astara").
    """
    if not text or not text.strip():
        return []
    token = _KEEP_UNKNOWN.set(keep_unknown)
    try:
        with gazetteer.using_layers(layers):
            return _extract(visible(text))
    finally:
        _KEEP_UNKNOWN.reset(token)


def _extract(source: Visible) -> list[Mention]:
    if len(source.text) <= settings.max_chunk_chars:
        return _doc_mentions(nlp()(source.text), source, 0)
    out: list[Mention] = []
    pieces = chunks(source.text, settings.max_chunk_chars)
    for (offset, _), doc in zip(pieces, nlp().pipe((piece for _, piece in pieces), batch_size=1)):
        out += _doc_mentions(doc, source, offset)
    return out


def chunks(text: str, size: int) -> list[tuple[int, str]]:
    """Split ``text`` into (offset, piece) of at most ``size`` characters, at paragraph or line breaks if possible."""
    out = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind("\n\n", start, end), text.rfind("\n", start, end))
            if cut <= start:
                cut = text.rfind(" ", start, end)
            end = cut + 1 if cut > start else end
        out.append((start, text[start:end]))
        start = end
    return out


def mentions_from_doc(doc, source: Visible | None = None, offset: int = 0,
                      layers: Sequence[Layer] | None = None) -> list[Mention]:
    """Return the place mentions of a parsed spaCy ``doc`` (see :func:`extract_mentions`).

    ``doc`` may be the piece of ``source.text`` (the article without invisible
    characters) that starts at ``offset``: the mentions then index ``source.original``.
    ``layers`` is the corridor vocabulary (default: the layer folder's).
    """
    with gazetteer.using_layers(layers):
        return _doc_mentions(doc, source, offset)


#: A place span (start, end, label, layer id), and one ranked for :func:`_resolve_overlaps` (priority last).
_Span = tuple[int, int, str, str]
_RankedSpan = tuple[int, int, str, str, int]


def _doc_mentions(doc, source: Visible | None, offset: int) -> list[Mention]:
    text = doc.text
    rules = ruler()
    ents = [e for e in doc.ents]
    ranked, unknown = _model_spans(text, ents, rules)
    ent_by_token = {}
    for ent in ents:
        for t in range(ent.start, ent.end):
            ent_by_token[t] = ent
    ranked += _ruler_spans(doc, rules, ent_by_token, unknown)
    spans: list[_Span] = _resolve_overlaps(ranked, len(text))
    if settings.ruler_local_places:
        spans = _resolve_overlaps([(*sp, 2) for sp in spans] + _local_places(doc, spans, ent_by_token), len(text))
        spans = _resolve_overlaps([(*sp, 2) for sp in spans] + _chain_places(doc, spans), len(text))
    spans = _without_names_of_other_things(text, _with_directions(text, spans))
    infra = [i for i in find_infrastructure(text) if not _names_something_else(text, i.start, i.end)]
    return _to_mentions(doc, _with_infrastructure(spans, infra, len(text)),
                        source or Visible(text, text), offset)


def _model_spans(text: str, ents: list, rules: Ruler) -> tuple[list[_RankedSpan], set[int]]:
    """The model's entities the gazetteer backs, ranked, and the token starts of its place entities it does not know.

    Compounds ("Russian-Azerbaijani", "Poti/Batumi") are split into their known parts; the ruler may
    look inside the unknown place entities.
    """
    spans: list[_RankedSpan] = []  # start, end, label, layer_id, priority
    unknown: set[int] = set()
    for ent in ents:
        start, end = _trim(text, ent.start_char, ent.end_char)
        if start >= end:
            continue
        if ent.label_ in PLACE_LABELS:
            before = len(spans)
            compound = ent.label_ == "NORP" or any(c in text[start:end] for c in "/()")
            for s, e in _split_compound(text, start, end, rules) if compound else [(start, end)]:
                key = gazetteer.fold(text[s:e])
                if key in settings.generic_place_words:
                    continue
                hit = rules.get(key)
                if ent.label_ == "NORP" and not (hit and hit[1] in ("NORP", "GPE", "LOC")):
                    continue
                label = hit[1] if hit and (hit[1] in ("INFRA", "NORP") or ent.label_ == "NORP") else ent.label_
                if hit and hit[1] == "INFRA":
                    spans.append((s, e, "INFRA", hit[2], 3))
                elif (hit or not settings.require_gazetteer_match or _known(text[s:e])
                      or (_KEEP_UNKNOWN.get() and ent.label_ in ("GPE", "LOC"))):
                    spans.append((s, e, label, "", 2))
            if len(spans) == before:
                unknown.add(ent.start)
        elif any(c in text[start:end] for c in "/()"):  # "Iran)-Tehran" tagged as one organisation
            parts = _split_compound(text, start, end, rules)
            spans += [(s, e, rules[gazetteer.fold(text[s:e])][1], "", 2) for s, e in parts if len(parts) > 1]
    return spans, unknown


def _ruler_spans(doc, rules: Ruler, ent_by_token: dict, unknown: set[int]) -> list[_RankedSpan]:
    """The ruler's matches kept against the model's entities over them (``ent_by_token``), ranked."""
    text = doc.text
    spans: list[_RankedSpan] = []
    dotted = gazetteer.load().dotted
    for s, e, (strength, label, layer_id), tok_start, tok_end in _rule_matches(doc, rules):
        key = gazetteer.fold(text[s:e])
        if key in dotted:  # an abbreviation ("Ga.", "Miss.") counts only with its dot
            if text[e - 1:e] != "." and text[e:e + 1] != ".":
                continue
            e = e if text[e - 1] == "." else e + 1
        covering = {ent_by_token[t] for t in range(tok_start, tok_end) if t in ent_by_token}
        if label == "INFRA":
            if not layer_id and (NOT_INFRA_AFTER.match(text, e) or not written_as_name(text, s, e)):
                continue  # "the Moscow Railway station", "Northern railway lines ...": not the line itself
            spans.append((s, e, label, layer_id, 4))
        elif not covering:
            if strength >= settings.ruler_min_strength_free and _looks_like_name(doc, tok_start, tok_end, strength):
                spans.append((s, e, label, layer_id, 1))
        else:
            priority = _covered_priority(text, s, e, strength, label, key, covering, unknown)
            if priority:
                spans.append((s, e, label, layer_id, priority))
    return spans


def _covered_priority(text: str, s: int, e: int, strength: int, label: str, key: str, covering: set,
                      unknown: set[int]) -> int:
    """The priority of a ruler match ``s:e`` over the model's entities ``covering`` (0: dropped)."""
    bounds = [_trim(text, c.start_char, c.end_char) for c in covering]
    if any(c.label_ in PLACE_LABELS for c in covering):
        if all(c.start in unknown for c in covering) and strength >= settings.ruler_min_strength_embedded:
            return 1  # "Asia-Pacific", "north west London"
        if strength >= _MEDIUM and all(s <= cs and ce <= e for cs, ce in bounds) and any(
                s < cs or ce < e for cs, ce in bounds):
            return 3  # the name goes on past the model's place: "Mazar-i-Sharif"
        return 0
    person = any(c.label_ == "PERSON" for c in covering)
    if all(s <= cs and ce <= e for cs, ce in bounds):  # the rule covers the model's entities
        # A person's name is a place only when it is a demonym ("Azerbaijani" soldiers) or a strong name.
        wider = all(s < cs or ce < e for cs, ce in bounds)  # the name goes on past the entity: "Anzali port"
        if strength >= _STRONG or (strength >= _MEDIUM and (not person or wider or label == "NORP" or _big_place(key))):
            return 3
    elif len(bounds) == 1 and bounds[0][0] <= s and e <= bounds[0][1] and not person:
        # A place inside an organisation's name ("Zimbabwe Tourism Authority", "Nigerian Army").
        if strength >= settings.ruler_min_strength_embedded:
            return 1
    return 0


_WORD_AFTER = re.compile(r"\s+([A-Za-z]+)")
_NAME_WORD = re.compile(r"[\s-]*([A-Z][\w'’&.-]*|of|for|and|the|on|&)(?=\W|$)")
_ABBREVIATION = re.compile(r"\s*\([A-Z][A-Z0-9&-]{1,11}\)")
_TITLE_BEFORE = re.compile(r"(?<![\w-])(\w+)\.?\s+(?:[A-Z][\w'’-]+\s+){0,2}$")


def _without_names_of_other_things(text: str, spans: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Drop places that are part of the name of something else.

    A currency ("U.S. dollars", "Chinese yuan": ``settings.currency_words``), a company or agency
    whose name goes on to a company word ("Azerbaijan Railways", "Azerbaijan Caspian Shipping
    Company": ``settings.company_words``; "Commission for Asia and the Pacific (UNESCAP)": an agency
    word (``settings.agency_words``) before the place and a bracketed abbreviation after the name), and a person
    after a title ("governor Igor Babushkin": ``settings.person_titles``).
    """
    out = []
    for s, e, label, layer_id in spans:
        if label in ("GPE", "LOC", "NORP", "FAC") and _names_something_else(text, s, e):
            continue
        out.append((s, e, label, layer_id))
    return out


def _names_something_else(text: str, start: int, end: int) -> bool:
    """True when the place at ``text[start:end]`` is a currency, a company's or agency's name, or a person's."""
    if text[start:end].lower() in settings.company_words:  # "China COSCO Shipping" is not Siping
        return True
    m = _WORD_AFTER.match(text, end)
    if m and m.group(1).lower() in settings.currency_words:
        return True
    # the capitalised name run after the place: "Caspian Shipping Company", "for Asia and the Pacific"
    words: list[str] = []
    pos = end
    while len(words) < 8:
        m = _NAME_WORD.match(text, pos)
        if not m or "\n" in text[pos:m.start(1)]:
            break
        words.append(m.group(1).lower().rstrip("."))
        pos = m.end()
    for n in range(len(words), 0, -1):
        last = words[n - 1]
        if last in settings.company_words or (n >= 2 and f"{words[n - 2]} {last}" in settings.company_words):
            if words[0] not in ("of", "for", "and", "the", "on", "&"):
                return True
    before = text[max(0, start - 80):start]
    head = re.search(r"(?:^|\s)([A-Z][a-z]+)\s+(?:for|of|on)\s+(?:(?:[A-Z][\w'’-]*|and|the|of)\s+)*$", before)
    if head and head.group(1).lower() in settings.agency_words and _ABBREVIATION.match(text, pos):
        return True
    title = _TITLE_BEFORE.search(before)
    if title and title.group(1).lower() in settings.person_titles and text[start:end][:1].isupper():
        return True
    return False


def _with_directions(text: str, spans: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Widen a place to the region a direction word before it names: "northeast China", "central Asia".

    The wider span is taken when the gazetteer knows it (a compass region of a country or
    continent, :mod:`geo.text.regions`, or a curated region); else the place stays as it is
    ("northern Tehran" is Tehran).
    """
    gaz = gazetteer.load()
    out: list[_Span] = []
    for s, e, label, layer_id in spans:
        m = DIRECTION_BEFORE.search(text, max(0, s - 20), s) if label in ("GPE", "LOC") else None
        if m and (not out or out[-1][1] <= m.start()):
            key = gazetteer.fold(f"{m.group(1)} {text[s:e]}")
            if any(gaz.entries[i].feature_class == "L" for i in gaz.names.get(key, ())):
                out.append((m.start(), e, "LOC", ""))
                continue
        out.append((s, e, label, layer_id))
    return out


def _with_infrastructure(spans: list[tuple[int, int, str, str]], infra: list,
                         length: int) -> list[tuple[int, int, str, str]]:
    """Replace the spans inside named-infrastructure phrases by the phrase and the towns at its ends."""
    if not infra:
        return spans
    # a catalogued name found whole is longer than the phrase the pattern saw inside it: "Baltic Pipeline
    # System" (not "Baltic Pipeline"), "1915 Çanakkale Bridge", "M-12 Vostok highway" (not "Vostok highway")
    named = [(s, e) for s, e, label, _ in spans if label == "INFRA"]
    infra = [i for i in infra if not any(s <= i.start and i.end <= e and e - s > i.end - i.start for s, e in named)]
    phrases = _Occupied(length)
    for i in infra:
        phrases.take(i.start, i.end)
    kept = [sp for sp in spans if not phrases.overlaps(sp[0], sp[1])]
    for i in infra:
        kept.append((i.start, i.end, "INFRA", i.layer_id))
        kept += [(s, e, "GPE", "") for s, e in i.places]
    return sorted(kept, key=lambda sp: (sp[0], -sp[1]))


def _local_places(doc, spans, ent_by_token) -> list[tuple[int, int, str, str, int]]:
    """Towns the model misses or mislabels, kept when the article's other places vouch for them.

    A capitalised name (its alternate names and romanisations included) is a mention when
    it names a GeoNames place in a first-level division the article puts on the map (a state,
    or a large city in it), or a town of at least ``settings.context_town_min_population`` in
    a country the article names ("Mariinsk" in an article about Russia), or any GeoNames place
    after a place noun ("the port of Anzali", "the town of Kuryk"); a name before a site noun ("Naushki
    station", "the Yalama-2 and Samur-2 stations") counts as listed with the article's places (any town of
    its countries). The model's person label
    is overruled only after a place noun or a preposition of place ("near Anzali").
    """
    gaz = gazetteer.load()
    text = doc.text
    admins, countries = _article_divisions(gaz, text, spans)
    taken = _Occupied(len(text))
    for s, e, *_ in spans:
        taken.take(s, e)

    @functools.cache
    def towns(key: str) -> tuple:
        return tuple((gaz.entries[i], official) for i, official in gazetteer.candidates(key)
                     if gaz.entries[i].feature_class == "P")

    def vouched(found: tuple, listed: bool, key: str) -> bool:
        least = 0 if listed else settings.context_town_min_population  # "Altynkol or Dostyk": any town of its country
        # in the article's division by its own name or its romanisation ("Severomuisk" for "Severomuysk")
        return any(((official or variant_key(key) == variant_key(e.name)) and e.admin1 in admins)
                   or (e.country in countries and e.population >= least) for e, official in found)

    out: list[_RankedSpan] = []
    for s, e, found, tok_start, tok_end in _rule_matches(doc, {}, lambda key: towns(key) or None, proper_only=True):
        if taken.overlaps(s, e) or gazetteer.fold(text[s:e]) in settings.generic_place_words:
            continue
        cue = (_place_cue(doc, tok_start) or _listed_with_places(doc, tok_start, taken, tok_end)
               or _site_noun_after(doc, tok_end))
        if cue != "noun" and not vouched(found, cue in ("list", "after"), gazetteer.fold(text[s:e])):
            continue
        if cue == "list" and not _near_list_partner(doc, tok_start, tok_end, [*spans, *out], found):
            continue  # "Severomuisk and Razliv": not the Razliv 4,000 km away
        covering = {ent_by_token.get(t) for t in range(tok_start, tok_end)}
        covering.discard(None)
        if any(c.label_ in ("DATE", "TIME", "CARDINAL", "MONEY") for c in covering):
            continue
        if any(c.label_ == "NORP" for c in covering) and (
                cue != "after" or gazetteer.fold(text[s:e]) in gaz.demonyms or doc[tok_end].lower_ not in _OF_NOUNS):
            continue  # a people, unless a place noun follows its name at once ("Sian city")
        if any(c.label_ == "PERSON" for c in covering) and not cue:
            continue
        toks = doc[tok_start:tok_end]
        if len(toks) == 1 and (toks[0].is_stop or toks[0].is_sent_start):
            continue
        if covering and not all(c.start >= tok_start and c.end <= tok_end or (bool(cue) and "/" in c.text)
                                for c in covering):  # "Poti/Batumi" tagged as one name
            continue
        out.append((s, e, "GPE", "", 1))
        taken.take(s, e)  # the next name of a list may lean on this one, and on its division
        admins.add(max(found, key=lambda f: (f[1], f[0].population))[0].admin1)
    return out


def _likely_point(name: str) -> tuple[float, float] | None:
    """The point of the most populous town or station named ``name``, if any."""
    gaz = gazetteer.load()
    towns = [gaz.entries[i] for i, _ in gazetteer.candidates(name) if gaz.entries[i].feature_class in ("P", "S")]
    if not towns:
        return None
    best = max(towns, key=lambda x: x.population)
    return best.lat, best.lon


def _near_list_partner(doc, tok_start: int, tok_end: int, spans, found) -> bool:
    """True when a town of ``found`` lies within ``settings.chain_place_km`` of the place it is listed with
    (the name before or after it in "X, Y and Z", "X/Y"), or when that place is no town (a country, a region)."""
    from ..geodesy import haversine_km

    text = doc.text
    neighbours = []
    if tok_start >= 2:
        neighbours.append(doc[tok_start - 2].idx)
    if tok_end + 1 < len(doc):
        neighbours.append(doc[tok_end + 1].idx)
    points = []
    for pos in neighbours:
        for s, e, *_ in spans:
            if s <= pos < e:
                point = _likely_point(text[s:e])
                if point is None:
                    return True
                points.append(point)
    return not points or any(haversine_km(f.lat, f.lon, lat, lon) <= settings.chain_place_km
                             for f, _ in found for lat, lon in points)


#: A chain of capitalised names joined by dashes or slashes, each maybe followed by a bracketed qualifier
#: ("Altynkol (Kazakhstan)–Bolashak", "Zamyn-Uud – Erlian", "Poti/Batumi").
_CHAIN_WORD = r"[A-Z][\w'’]*(?:-\d{1,2}\b)?"
_CHAIN_LINK = rf"{_CHAIN_WORD}(?:[ -]{_CHAIN_WORD}){{0,3}}(?:[ \t]*\([^()\n]{{1,40}}\))?"
_CHAIN = re.compile(rf"{_CHAIN_LINK}(?:[ \t]*[-–—/][ \t]*{_CHAIN_LINK})+")
_WORD_IN_CHAIN = re.compile(_CHAIN_WORD)
_NOT_IN_CHAIN = frozenset({"DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY", "NORP", "ORDINAL"})


def _chain_places(doc, spans) -> list[tuple[int, int, str, str, int]]:
    """Towns and stations in a chain or pair of names joined by dashes or slashes that the model missed.

    In "Altynkol (Kazakhstan)–Bolashak–Serhetyaka (Turkmenistan)" or "Zamyn-Uud – Erlian", a part the
    gazetteer knows as a town or station (OSM stations included) is a place when one of its candidates
    lies within ``settings.chain_place_km`` of another part's most populous town or station, or in a
    country the chain names (a part tagged as a country, or a bracketed qualifier). Words of one part
    are joined by spaces or hyphens ("Zamyn-Uud"); a part is the longest run of them the gazetteer knows.
    A part the model calls a person counts only in a chain with another part that is a place.
    """
    from ..geodesy import haversine_km

    text = doc.text
    gaz = gazetteer.load()
    taken = _Occupied(len(text))
    for s, e, *_ in spans:
        taken.take(s, e)
    blocked = _Occupied(len(text))
    people = _Occupied(len(text))
    for ent in doc.ents:
        if ent.label_ in _NOT_IN_CHAIN:
            blocked.take(ent.start_char, ent.end_char)
        elif ent.label_ == "PERSON":
            people.take(ent.start_char, ent.end_char)
    stop = nlp().Defaults.stop_words
    out = []
    for chain in _CHAIN.finditer(text):
        parts = _chain_parts(text, chain.start(), chain.end())
        if len(parts) < 2:
            continue
        known = []  # per part: (start, end, tagged, points of its towns and stations, its countries)
        countries: set[str] = set()
        for s, e in parts:
            key = gazetteer.fold(text[s:e])
            entries = [gaz.entries[i] for i, _ in gazetteer.candidates(text[s:e])]
            if key in stop or key in settings.generic_place_words or key in settings.ruler_generic_words:
                entries = []
            countries |= {x.country for x in entries if x.feature_code in ("PCLI", "PCLH") and taken.overlaps(s, e)}
            towns = [x for x in entries if x.feature_class in ("P", "S")]
            known.append((s, e, taken.overlaps(s, e), towns))
        for q in re.finditer(r"\(([^()\n]{1,40})\)", chain.group()):
            hit = [gaz.entries[i] for i, _ in gazetteer.candidates(q.group(1))]
            countries |= {x.country for x in hit if x.feature_code in ("PCLI", "PCLH")}
        anchored = any(tagged for _, _, tagged, _ in known)
        # parts the model calls people last: they count once another part is a place ("Jean-Pierre" is none)
        order = sorted(range(len(known)), key=lambda k: people.overlaps(known[k][0], known[k][1]))
        for k in order:
            s, e, tagged, towns = known[k]
            if tagged or not towns or blocked.overlaps(s, e) or not text[s].isupper():
                continue
            if not anchored and people.overlaps(s, e):
                continue
            # the other parts where they most likely are: their most populous town or station
            others = [max(ts, key=lambda x: x.population) for j, (_, _, _, ts) in enumerate(known) if j != k and ts]
            if any(t.country in countries for t in towns) or any(
                    haversine_km(t.lat, t.lon, o.lat, o.lon) <= settings.chain_place_km for t in towns for o in others):
                out.append((s, e, "GPE", "", 1))
                anchored = True
    return out


def _chain_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of a chain of names: words joined by a space stay together; names joined by a hyphen are
    one part when the gazetteer knows them together ("Zamyn-Uud"), else two ("Bolashak-Serhetyaka")."""
    free = [True] * (end - start)
    for q in re.finditer(r"\([^()\n]*\)", text[start:end]):
        free[q.start():q.end()] = [False] * (q.end() - q.start())
    units: list[list[int]] = []  # [start, end] of runs of words joined by single spaces
    links: list[bool] = []  # per unit after the first: joined to the one before by a bare hyphen
    for m in _WORD_IN_CHAIN.finditer(text, start, end):
        if not free[m.start() - start]:
            continue
        gap = text[units[-1][1]:m.start()] if units else None
        if gap == " ":
            units[-1][1] = m.end()
        else:
            if units:
                links.append(gap in ("-", "‐"))
            units.append([m.start(), m.end()])
    parts = []
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and links[j - 1]:
            j += 1
        for k in range(j, i, -1):  # the longest hyphenated run the gazetteer knows, else the first unit
            if k - i == 1 or gazetteer.candidates(text[units[i][0]:units[k - 1][1]]):
                parts.append((units[i][0], units[k - 1][1]))
                i = k
                break
    return parts


def _listed_with_places(doc, tok_start: int, taken: _Occupied, tok_end: int | None = None) -> str:
    """"list" when the name follows a place in a list ("Qom, Kashan, Yazd and Bandar Abbas"), or is joined to
    a place by a slash or a dash on either side ("Poti/Batumi", "Tehran-Astara"), else ""."""
    if tok_start >= 2 and doc[tok_start - 1].text in (",", "and", "or", "/", "-", "–", "—"):
        before = doc[tok_start - 2]
        if before.is_alpha and taken.overlaps(before.idx, before.idx + len(before.text)):
            return "list"
    if tok_end is not None and tok_end + 1 < len(doc) and doc[tok_end].text in ("/", "-", "–", "—"):
        after = doc[tok_end + 1]
        if after.is_alpha and taken.overlaps(after.idx, after.idx + len(after.text)):
            return "list"
    return ""


def _article_divisions(gaz, text: str, spans) -> tuple[set[str], set[str]]:
    """First-level divisions (admin1 keys) and countries (ISO codes) the article's mentions put on the map:
    the countries it names (or their people), and the division and country of its places (the country
    only for cities of at least ``settings.ruler_min_population``)."""
    admins: set[str] = set()
    countries: set[str] = set()
    for s, e, label, _ in spans:
        key = gazetteer.fold(text[s:e])
        if label == "NORP" and key in gaz.demonyms:
            countries.add(gaz.entries[gaz.demonyms[key]].country)
            continue
        ids = gaz.names.get(key, ()) or [i for i, _ in gazetteer.candidates(key)  # "Buryatia" for Buryatiya
                                         if gaz.entries[i].feature_code == "ADM1"]
        cities = [gaz.entries[i] for i in ids if gaz.entries[i].feature_class == "P"]
        admins |= {gaz.entries[i].admin1 for i in ids if gaz.entries[i].feature_code in ("ADM1", "ADM2")}
        countries |= {gaz.entries[i].country for i in ids if gaz.entries[i].feature_code == "PCLI"}
        if cities:
            biggest = max(cities, key=lambda c: c.population)
            admins.add(biggest.admin1)
            if biggest.population >= settings.ruler_min_population:
                countries.add(biggest.country)  # a city as big as Tehran puts its country on the map
    countries.discard("")
    return admins, countries


#: Words that make the capitalised name after them a place, whatever the model says:
#: "the port of Anzali" (a place noun and "of"), "near Anzali" (a preposition of place).
_PLACE_NOUNS = frozenset({"port", "city", "town", "village", "settlement", "station"})
#: Nouns of places on a line: "the border at Gardabani", "a dry port at Sefidrud", "the crossing near Bakhty".
_SITE_NOUNS = frozenset({"border", "crossing", "checkpoint", "port", "terminal", "station", "junction", "bridge",
                         "hub", "yard"})
_PLACE_PLURALS = frozenset({"ports", "cities", "towns", "villages", "settlements", "stations"})
_OF_NOUNS = _PLACE_NOUNS | _PLACE_PLURALS  # "the port of X", "the ports of X and Y"
_PLACE_PREPOSITIONS = frozenset({"near", "via", "in", "outside"})
#: A route's second end: "from X to Y", "between X and Y" (the first word within a few tokens before).
_ROUTE_ENDS = {"to": "from", "and": "between"}


def _place_cue(doc, tok_start: int) -> str:
    """What makes the name at ``tok_start`` a place: "noun" ("port of X", "ports such as X", "border at X"), "preposition"
    ("near X", "via X", "in X", "from X to Y", "between X and Y"), or "" (nothing)."""
    prev = doc[tok_start - 1].lower_ if tok_start >= 1 else ""
    if prev == "as" and tok_start >= 3 and doc[tok_start - 2].lower_ == "such":  # "ports such as Ust-Luga"
        return "noun" if doc[tok_start - 3].lower_ in _PLACE_PLURALS else ""
    if prev == "as" and tok_start >= 3 and doc[tok_start - 3].lower_ == "such":  # "such cities as Edirne"
        return "noun" if doc[tok_start - 2].lower_ in _PLACE_PLURALS else ""
    if prev == "of":
        return "noun" if tok_start >= 2 and doc[tok_start - 2].lower_ in _OF_NOUNS else ""
    if prev in (",", "and", "or"):  # "the ports of Sabetta and Pevek": the list's cue
        j = tok_start - 2
        while j >= 0 and tok_start - j <= 6 and (doc[j].text[:1].isupper() or doc[j].text in ("-", "–")):
            j -= 1
        return _place_cue(doc, j + 1) if j + 1 < tok_start - 1 else ""
    if prev in ("at", "near", "in") and tok_start >= 2 and doc[tok_start - 2].lower_ in _SITE_NOUNS:
        return "noun"
    if prev in _ROUTE_ENDS:
        first = _ROUTE_ENDS[prev]
        return "preposition" if any(t.lower_ == first for t in doc[max(0, tok_start - 6):tok_start - 1]) else ""
    return "preposition" if prev in _PLACE_PREPOSITIONS else ""


#: Nouns after a name that make it a site ("Naushki station", "the Yalama-2 and Samur-2 stations").
_SITE_NOUNS_AFTER = frozenset({"station", "stations", "halt", "halts", "junction", "settlement", "settlements",
                               "village", "villages", "port", "ports", "checkpoint", "crossing", "city", "town"})


def _site_noun_after(doc, tok_end: int) -> str:
    """"after" when a site noun follows the name, maybe after more names of a list ("X and Y stations"), else ""."""
    j = tok_end
    while j < len(doc) and j - tok_end <= 6:
        if doc[j].lower_ in _SITE_NOUNS_AFTER:
            return "after"
        if not (doc[j].text in (",", "and", "or") or doc[j].text[:1].isupper()):
            return ""
        j += 1
    return ""


def _big_place(key: str) -> bool:
    """True if a place named ``key`` has at least ``settings.person_relabel_population`` people."""
    gaz = gazetteer.load()
    return any(gaz.entries[i].population >= settings.person_relabel_population
               for i in (*gaz.names.get(key, ()), *gaz.alt_names.get(key, ())))


def _known(name: str) -> bool:
    """True if the gazetteer has a candidate for ``name`` (see :func:`geo.text.gazetteer.candidates`)."""

    return bool(gazetteer.candidates(name))


_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:['’]s|['’])$")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    span = text[start:end]
    m = _LEADING.match(span)
    if m:
        start += m.end()
    span = text[start:end]
    m = _TRAILING.search(span)
    if m:
        end -= len(m.group(0))
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum() and text[end - 1] not in ".)":
        end -= 1
    return start, end


_COMPOUND_PART = re.compile(r"[^-–—/()]+")


def _split_compound(text: str, start: int, end: int, rules: Ruler) -> list[tuple[int, int]]:
    """Split "Russian-Azerbaijani", "Poti/Batumi" or "(Iran)-Tehran" into its parts when each part is a known name."""
    span = text[start:end]
    parts = [(start + m.start(), start + m.end()) for m in _COMPOUND_PART.finditer(span) if m.group().strip()]
    if len(parts) < 2 or gazetteer.fold(span) in rules:
        return [(start, end)]
    out = []
    for s, e in parts:
        s, e = _trim(text, s, e)
        if s >= e or rules.get(gazetteer.fold(text[s:e]), (0, ""))[1] not in ("NORP", "GPE"):
            return [(start, end)]
        out.append((s, e))
    return out


def _rule_matches(doc, rules: Ruler | Mapping[str, tuple[int, str, str]], lookup=None, proper_only: bool = False):
    """Yield ruler matches: longest first, left to right, starting at capitalised tokens.

    With ``proper_only``, only spans whose words (but stop words) are all capitalised
    proper nouns are looked up.
    """
    n = len(doc)
    i = 0
    max_len = settings.ruler_max_tokens
    text = doc.text
    words = [t.text for t in doc]
    idx = [t.idx for t in doc]
    variants = _vocabulary_variants() if lookup is None and rules else {}
    improper = [0]  # improper[j]: how many of the first j tokens are words that are not capitalised proper nouns
    if proper_only:
        for t in doc:
            improper.append(improper[-1] + (t.is_alpha and not t.is_stop
                                            and not (t.tag_ in PROPER_NOUN_TAGS and t.text[:1].isupper())))
    while i < n:
        if not words[i][:1].isupper():
            i += 1
            continue
        found = None
        for j in range(min(n, i + max_len), i, -1):
            last = words[j - 1]
            if not last[:1].isalnum() or (proper_only and improper[j] != improper[i]):
                continue
            s, e = idx[i], idx[j - 1] + len(last)
            key = gazetteer.fold(text[s:e])
            hit = lookup(key) if lookup else rules.get(key) or variants.get(variant_key(key))
            if hit and (len(key) >= 3 or text[s:e].replace(".", "").isupper()):
                found = (s, e, hit, i, j)
                break
        if found:
            yield found
            i = found[4]
        else:
            i += 1


def _looks_like_name(doc, start: int, end: int, strength: int = _MEDIUM) -> bool:
    """Reject ruler hits that are ordinary words (a capitalised sentence start, all-lowercase forms)."""
    first = doc[start]
    span_text = doc[start:end].text
    if span_text.isupper() and len(span_text) <= 3 and span_text not in ("US", "UK", "UAE", "USA"):
        return False
    if end - start == 1 and first.is_stop:
        return False
    if first.is_sent_start and first.is_stop:
        return False
    if (strength < _STRONG and end - start == 1 and first.tag_ not in PROPER_NOUN_TAGS and not span_text.isupper()
            and not (first.tag_ in ADJECTIVE_TAGS and span_text[:1].isupper()
                     and gazetteer.fold(span_text) in gazetteer.load().demonyms)):
        return False
    return True


class _Occupied:
    """Which characters of a text spans already cover (time per check: the span's length)."""

    def __init__(self, length: int) -> None:
        self.chars = bytearray(length + 1)

    def overlaps(self, start: int, end: int) -> bool:
        return self.chars.find(1, start, end) >= 0

    def take(self, start: int, end: int) -> None:
        self.chars[start:end] = b"\x01" * (end - start)


def _resolve_overlaps(spans: list[tuple[int, int, str, str, int]], length: int) -> list[tuple[int, int, str, str]]:
    """Keep the strongest, then longest, then first of overlapping spans."""
    spans = sorted(spans, key=lambda s: (-s[4], -(s[1] - s[0]), s[0]))
    occupied = _Occupied(length)
    taken: list[tuple[int, int, str, str]] = []
    for s, e, label, layer_id, _ in spans:
        if not occupied.overlaps(s, e):
            occupied.take(s, e)
            taken.append((s, e, label, layer_id))
    return sorted(taken)


def _quote_window(text: str, sent_start: int, sent_end: int, start: int, end: int) -> tuple[int, int]:
    """The sentence around a mention, at most ``settings.max_quote_chars`` long, cut at spaces."""
    limit = settings.max_quote_chars
    if sent_end - sent_start <= limit:
        return sent_start, sent_end
    half = max(0, (limit - (end - start)) // 2)
    a, b = max(sent_start, start - half), min(sent_end, end + half)
    if a > sent_start:
        cut = text.find(" ", a, start)
        a = cut + 1 if cut >= 0 else a
    if b < sent_end:
        cut = text.rfind(" ", end, b)
        b = cut if cut >= 0 else b
    return a, b


def _to_mentions(doc, spans, source: Visible, offset: int = 0) -> list[Mention]:
    text = doc.text
    original = source.original
    out = []
    sents = [(s.start_char, s.end_char) for s in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(text))]
    k = 0
    last: tuple[tuple[int, int], str] = ((-1, -1), "")  # mentions of one sentence share its string
    for s, e, label, layer_id in spans:
        while k < len(sents) - 1 and sents[k][1] <= s:
            k += 1
        ss, se = sents[k]
        window = source.span(*(offset + x for x in _quote_window(text, min(ss, s), max(se, e), s, e)))
        if window != last[0]:
            last = (window, original[window[0]:window[1]])
        start, end = source.span(offset + s, offset + e)
        out.append(Mention(original[start:end], start, end, last[1], label, layer_id))
    return out
