"""Named infrastructure by pattern: "A–B railway", "... Mainline", "... Transport Corridor", "... Bridge".

A news article names a line by its ends ("the Rasht–Astara railway", "the Ganja–Tbilisi
section"), by a proper name and a kind ("Baikal-Amur Magistral", "North-South Transportation
Corridor", "Crimean Bridge", "Verkhny Lars checkpoint"). Each such phrase is one
infrastructure mention, matched to a layer when one fits:

- its name, with the kind word normalised (Magistral = Mainline, railroad = railway,
  Transportation = Transport), is a layer's title or alias;
- or its two ends name a border crossing of a layer ("Zabaikalsk–Manzhouli crossing");
- or its ends are stations of one corridor (the smallest such layer).

The phrase is never split into place mentions of its words ("Baikal-Amur Magistral" is not
Lake Baikal and the Amur), but the towns at the ends of an "A–B" phrase are still places.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .. import settings
from ..core.names import fold, variant_key
from . import gazetteer

#: Kinds that name a line or structure on their own after a proper name ("Crimean Bridge").
_NAMED_KINDS = (
    r"[Ii]nternational\s+[Tt]ransport(?:ation)?\s+(?:[Cc]orridor|[Rr]oute)|Transport(?:ation)?\s+(?:Corridor|Route)"
    r"|(?:Economic|Trade)\s+Corridor|[Cc]orridor|Main\s?[Ll]ine|Magistral|[Rr]ailway|[Rr]ailroad"
    r"|[Bb]ridge|[Tt]unnel|[Cc]heckpoint|[Hh]ighway|[Mm]otorway|[Ee]xpressway|Sea\s+Route|[Cc]anal|[Pp]ipeline"
)
#: Kinds that need two named ends ("the Ganja–Tbilisi section", "the Rasht–Astara rail link").
_PAIR_KINDS = (
    r"(?:rail(?:way|road)?\s+)?(?:link|line|section|route|connection|bridge|crossing|branch(?:\s+line)?)"
    r"|road|rail|railway\s+line|railroad\s+line|(?:border\s+)?crossing|checkpoint|border\s+crossing"
)
#: A capitalised word: it starts a word (never inside one, so a run of letters is tried once, not from
#: each letter: linear time) and is at most 60 letters long.
_WORD = r"(?<![\w'’])[A-ZÀ-ÞА-ЯЁ][\w'’]{0,60}(?:-(?:on|na|e|i|de|ul|al|el)-?[A-Za-z]{0,60})?"
_NAME = rf"{_WORD}(?:(?: |\s+of\s+){_WORD}){{0,3}}"  # "Power of Siberia"; a hyphen is a _SEP
_SEP = r"\s?[-–—]\s?"
#: Most named stops of one "A–B–C" chain ("Obskaya – Salekhard – Nadym – ... route").
_MAX_ENDS = 8
#: Words after a kind that make the phrase name something else: "the Moscow railway station", "the pipeline company".
_NOT_INFRA_WORDS = r"station|stations|company|companies|operator|operators|workers|ministry|ministries"
NOT_INFRA_AFTER = re.compile(rf"\s+(?:{_NOT_INFRA_WORDS})\b", re.IGNORECASE)
_PATTERN = re.compile(
    rf"(?P<name>{_NAME}(?:{_SEP}{_NAME}){{0,{_MAX_ENDS - 1}}})\s+"
    rf"(?:(?:high-speed|new|old|freight|passenger|international|rail|railway|road|oil|gas|crude|oil\s+and\s+gas)\s+)?"
    rf"(?P<kind>(?:rail(?:way|road)?\s+)(?:section|line|link|bridge)|{_NAMED_KINDS}|{_PAIR_KINDS})\b"
    rf"(?!\s+(?:{_NOT_INFRA_WORDS}))"
)
#: Plural kinds after two names: "the Trans-Siberian and Baikal-Amur Mainlines" names two lines.
_PLURAL_KINDS = (
    r"Main\s?[Ll]ines|Magistrals|[Rr]ailways|[Rr]ailroads|(?:rail(?:way)?\s+)?lines|[Cc]orridors|[Bb]ridges"
    r"|[Tt]unnels|[Hh]ighways"
)
_PAIR_NAME = rf"(?:[Tt]rans-|[Pp]an-)?{_NAME}(?:{_SEP}{_NAME}){{0,{_MAX_ENDS - 1}}}"  # "trans-Siberian"
_TWO_NAMES = re.compile(
    rf"(?P<a>{_PAIR_NAME})\s+and\s+(?:the\s+)?(?P<b>{_PAIR_NAME})\s+(?P<kind>{_PLURAL_KINDS})\b"
    rf"(?!\s+(?:{_NOT_INFRA_WORDS}))"
)
#: "the line from A to B": a kind, then its two ends.
_FROM_TO = re.compile(
    r"\b(?P<kind>(?:rail(?:way|road)?\s+)?(?:line|link|section|connection)|railway|railroad|highway)"
    rf"\s+from\s+(?P<a>{_NAME})\s+to\s+(?P<b>{_NAME})"
)
#: "the railway Kazakhstan–Turkmenistan–Iran", "the corridor China–Kazakhstan–Iran": a kind, then a chain of ends.
_KIND_FIRST = re.compile(
    r"\b(?P<kind>[Rr]ail(?:way|road)(?:\s+line)?|[Rr]oute|[Cc]orridor|[Pp]ipeline|[Hh]ighway|[Mm]otorway)\s+"
    rf"(?P<name>{_NAME}(?:{_SEP}{_NAME}){{1,{_MAX_ENDS - 1}}})"
)
_PLURAL_END = re.compile(rf"\s+(?:{_PLURAL_KINDS})$")
_SYNONYMS = (
    (re.compile(r"\b(main ?lines|magistrals|railways|railroads|lines|corridors|bridges|tunnels|highways)$"),
     lambda m: m.group(1)[:-1]),  # a plural kind names each line: "Baikal-Amur Mainlines"
    (re.compile(r"\bmagistral\b"), "mainline"), (re.compile(r"\bmain line\b"), "mainline"),
    (re.compile(r"\brailroad\b"), "railway"), (re.compile(r"\btransportation\b"), "transport"),
    (re.compile(r"\brail (?:link|line)\b|\b(?:link|line|section|route|railway line)$"), "railway"),
    (re.compile(r"^north south international\b"), "international north south"),  # word order
)
_CROSSING_KIND = re.compile(r"crossing|checkpoint", re.I)
#: Kinds whose ends only name where the thing starts and ends, not places on it: a canal joins two rivers, a
#: pipeline runs from a field to a port ("the Tengiz–Novorossiysk pipeline"), a road between two cities
#: passes neither station nor crossing. Their ends are not place mentions of their own.
_ENDS_NOT_PLACES = re.compile(r"\b(?:[Cc]anal|[Pp]ipeline|[Hh]ighway|[Mm]otorway|[Ee]xpressway|road)$")
_NOT_RAIL_KIND = re.compile(r"\b(?:highway|motorway|expressway|road|pipeline|canal)\b", re.I)
#: Names of bodies that own infrastructure, not of infrastructure ("Ministry of Transport railway").
_INSTITUTION = re.compile(r"^(?:Ministry|Department|Bank|Republic|Government|University|Office|Council|Agency)\b")
#: Hyphenated prefixes that make one name, not two ends ("Trans-Caspian", "Pan-European").
_PREFIX = re.compile(r"^(?:Trans|Pan|Inter|Euro|Afro|Sino|Indo|Russo|Turko|Anglo|Ultra|Sub|Non|Post|Pre)-", re.I)
#: A lowercase prefix before a name ("trans-Korean"), dropped before the name is checked as a plain word.
_PREFIX_WORD = re.compile(r"^(?:[Tt]rans|[Pp]an)-")
_LEADING_STOP = re.compile(r"^(?:The|A|An|This|That|New|Its|Their|Our|In|On|At|By|From|To|Of|And|Both|Each|Via)\s+"
                           r"|^[^\W\d_][\w.]*['’]s\s+(?=\S)")  # a possessor: "Iran's Rasht–Astara railway"


#: Small words a name may write in lowercase ("Power of Siberia").
_NAME_STOP_WORDS = frozenset({"of", "the", "and", "on", "na", "de", "to"})


def written_as_name(text: str, start: int, end: int) -> bool:
    """False for a phrase at the start of a sentence with a word in lowercase: "Northern railway lines ...".

    Mid-sentence, a capital letter makes "the Northern railway" a name; at a sentence's start the first
    word is capitalised anyway, so there the phrase is a name only when each of its words is.
    """
    before = text[max(0, start - 3):start].rstrip()
    if before and before[-1] not in ".!?\n":
        return True
    words = re.findall(r"[^\W\d_][\w'’]*", text[start:end])
    return all(w[:1].isupper() or w.lower() in _NAME_STOP_WORDS for w in words)


class InfraSpan(NamedTuple):
    """One named-infrastructure phrase: its span, the layer it matched ("" when none), the places at its ends."""

    start: int
    end: int
    layer_id: str
    places: tuple[tuple[int, int], ...]  # spans of the towns at an "A–B" phrase's ends


def find_infrastructure(text: str) -> list[InfraSpan]:
    """Return the named-infrastructure phrases of ``text``, left to right, non-overlapping.

    "The X and Y Mainlines" (railways, bridges, ...) is two phrases, "X" and "Y Mainlines",
    each matched to a layer as "X Mainline" and "Y Mainline".

    Examples
    --------
    >>> [text[s.start:s.end] for text in ["Work on the Rasht–Astara railway began."] for s in find_infrastructure(text)]
    ['Rasht–Astara railway']
    """
    out: list[InfraSpan] = []
    taken: list[tuple[int, int]] = []
    for m in _TWO_NAMES.finditer(text):
        kind = m.group("kind")
        singular = kind[:-1]
        first = _infra_span(text, m.start("a"), m.group("a"), m.end("a"), singular, f"{m.group('a')} {singular}")
        second = _infra_span(text, m.start("b"), m.group("b"), m.end("kind"), singular,
                             f"{m.group('b')} {singular}")
        if first and second:
            out += [first, second]
            taken.append((m.start("a"), m.end("kind")))
    for m in _FROM_TO.finditer(text):
        span = _from_to_span(text, m)
        if span:
            out.append(span)
            taken.append((span.start, span.end))
    for m in _PATTERN.finditer(text):
        if any(s < m.end("kind") and m.start("name") < e for s, e in taken):
            continue
        span = _infra_span(text, m.start("name"), m.group("name"), m.end("kind"), m.group("kind"),
                           text[m.start("name"):m.end("kind")])
        if span:
            out.append(span)
    for m in _KIND_FIRST.finditer(text):
        span = _kind_first_span(m)
        if span and not any(o.start < span.end and span.start < o.end for o in out):
            out.append(span)
    return sorted(out)


def _kind_first_span(m: re.Match) -> InfraSpan | None:
    """"the railway Kazakhstan–Turkmenistan–Iran": the chain of ends is the phrase when each end is a town or country."""
    name, kind = m.group("name"), m.group("kind")
    ends = _ends(name)
    parts = [name[s:e] for s, e in ends]
    gaz = gazetteer.load()
    if len(ends) < 2 or not all(_is_town(p) for p in parts) or any(fold(p) in gaz.demonyms for p in parts):
        return None
    start = m.start("name")
    places = () if _ENDS_NOT_PLACES.search(kind) else tuple((start + s, start + e) for s, e in ends)
    return InfraSpan(start, m.end("name"), _match_layer(f"{name} {kind.lower()}", name, ends), places)


def _from_to_span(text: str, m: re.Match) -> InfraSpan | None:
    """"the line from Karymskaya to Zabaikalsk": one phrase whose ends are two towns, or None."""
    ends = [(m.start(g), m.end(g)) for g in ("a", "b")]
    names = [text[s:e] for s, e in ends]
    if not all(_is_town(n) for n in names) or any(fold(n) in gazetteer.load().demonyms for n in names):
        return None
    name = f"{names[0]}–{names[1]}"
    layer_id = _match_layer(f"{name} {m.group('kind')}", name, [(0, len(names[0])), (len(names[0]) + 1, len(name))])
    return InfraSpan(m.start("kind"), m.end("b"), layer_id, tuple(ends))


def _infra_span(text: str, start: int, name: str, end: int, kind: str, phrase: str) -> InfraSpan | None:
    """One phrase ``name`` (at ``start``) of ``kind`` ending at ``end``, or None when it names nothing.

    ``phrase`` is what is matched to a layer's names ("Trans-Siberian Mainline" for the
    "Trans-Siberian" of "the Trans-Siberian and Baikal-Amur Mainlines").
    """
    cut = min(len(name), _lead_length(name + " "))  # "A new bridge": no name at all
    start, name = start + cut, name[cut:]
    phrase = phrase[cut:]
    if not name:
        return None
    ends = _ends(name)
    prefix = _PREFIX_WORD.match(name)
    bare = name[len(prefix.group(0)):] if prefix else name
    if len(ends) < 2 and not re.fullmatch(_NAMED_KINDS, kind):
        return None
    if len(ends) < 2 and (_is_plain_word(bare) or name.endswith(("'s", "’s"))):
        return None  # "Russian railway", "Georgia's railway": an owner, not a name
    if len(ends) < 2 and not written_as_name(text, start, end):
        return None  # "Northern railway lines need repair.": a description at a sentence's start
    if _INSTITUTION.match(name):
        return None  # "the Ministry of Transport railway department"
    places = tuple((start + s, start + e) for s, e in ends
                   if _is_town(name[s:e])) if len(ends) >= 2 and not _ENDS_NOT_PLACES.search(kind) else ()
    layer_id = _match_layer(phrase, name, ends)
    if len(ends) >= 2 and not layer_id and (
            all(fold(name[s:e]) in gazetteer.load().demonyms for s, e in ends)
            or (_CROSSING_KIND.search(kind) and all(_is_plain_word(name[s:e]) for s, e in ends))):
        return None  # "the Russian-Azerbaijani rail link", "a Kazakhstan-China crossing": not a name
    return InfraSpan(start, end, layer_id, places)


def infra_name(phrase: str) -> str:
    """The name part of an infrastructure phrase, without its kind ("Yarag-Kazmalyar checkpoint" -> "Yarag-Kazmalyar")."""
    m = _PATTERN.fullmatch(phrase)
    if not m:
        return _PLURAL_END.sub("", phrase)  # "Baikal-Amur Mainlines" of "the Trans-Siberian and Baikal-Amur Mainlines"
    name = m.group("name")
    return name[_lead_length(name):]


def one_line_name(text: str, sentence: str = "", following: str = "") -> str:
    """The name of the one line a phrase names: a plural kind made singular ("Sverdlovskaya railroads" ->
    "Sverdlovskaya railroad"), and the first of two names given the kind of the second ("Severnaya" followed
    by "and Sverdlovskaya railroads" in ``sentence`` -> "Severnaya railroad")."""
    m = _PLURAL_END.search(text)
    if m:
        return text[:m.end()][:-1]
    if following:
        kind = _PLURAL_END.search(following)
        if kind and re.search(rf"{re.escape(text)}\s+and\s+(?:the\s+)?{re.escape(following)}", sentence):
            return f"{text} {kind.group(0).strip()[:-1]}"
    return text


def _lead_length(name: str) -> int:
    """Length of the leading words that are not part of a name: articles, prepositions, a possessor."""
    cut = 0
    lead = _LEADING_STOP.match(name)
    while lead:
        cut += lead.end()
        lead = _LEADING_STOP.match(name[cut:])
    return cut


def _ends(name: str) -> list[tuple[int, int]]:
    """Spans (inside ``name``) of the named ends of an "A–B(–C)" name; one span when it is one name.

    Dashes split; a hyphen splits only where the hyphenated whole is not a known name
    ("Ust-Kut", "Komsomolsk-on-Amur" stay whole).
    """
    pieces = [(m.start(), m.end()) for m in re.finditer(r"[^–—]+", name)]
    out = []
    for s, e in pieces:
        while s < e and name[s] in " -":
            s += 1
        while e > s and name[e - 1] in " -":
            e -= 1
        if s >= e:
            continue
        if _is_known(fold(name[s:e])) or "-" not in name[s:e] or _PREFIX.match(name[s:e]):
            out.append((s, e))
            continue
        parts = [(p.start() + s, p.end() + s) for p in re.finditer(r"[^-]+", name[s:e])]
        i = 0
        while i < len(parts):  # longest known run of hyphen-joined parts, left to right
            j = len(parts)
            while j > i + 1 and not _is_known(fold(name[parts[i][0]:parts[j - 1][1]])):
                j -= 1
            out.append((parts[i][0], parts[j - 1][1]))
            i = j
    return out


def _is_known(key: str) -> bool:
    """True when the folded ``key`` names a gazetteer place other than a border crossing ("samur yalama" is not)."""
    gaz = gazetteer.load()
    return any(gaz.entries[i].feature_code != "PSTB" for i in gaz.names.get(key, ()))


def _is_plain_word(name: str) -> bool:
    """True for a single name that is a demonym, a country or an ordinary word ("Russian railway")."""
    gaz = gazetteer.load()
    key = fold(name)
    if key in gaz.demonyms:
        return True
    if " " in key or "-" in name:
        return False
    return any(gaz.entries[i].feature_code in ("PCLI", "PCLH") for i in gaz.names.get(key, ()))


def _is_town(name: str) -> bool:
    """True when the most prominent place called ``name`` is a town, station, crossing or country, not a lake or river."""
    gaz = gazetteer.load()
    key = fold(name)
    if key in settings.generic_place_words or key in settings.ruler_generic_words:
        return False  # "North" and "South" in "North-South corridor"
    ids = [i for i, _ in gazetteer.candidates(name)]
    if not ids:
        return False
    kinds = {gaz.entries[i].feature_class for i in ids}
    if any(gaz.entries[i].feature_code == "PCLI" for i in ids):
        return True  # "the China-Kyrgyzstan-Uzbekistan railway" names three countries
    return bool(kinds & {"P", "S"}) and not kinds & {"H", "L", "INFRA"} and not any(
        gaz.entries[i].feature_code == "PCLH" for i in ids)


def infra_keys(phrase: str) -> list[str]:
    """The keys under which a phrase may name a layer: folded, kind words normalised, romanised."""
    key = fold(phrase[_lead_length(phrase):])
    norm = key
    for pattern, repl in _SYNONYMS:
        norm = pattern.sub(repl, norm)
    keys = [key, norm]
    return list(dict.fromkeys(keys + [variant_key(k) for k in keys]))


def _match_layer(phrase: str, name: str, ends: list[tuple[int, int]]) -> str:
    gaz = gazetteer.load()
    for key in infra_keys(phrase):
        for i in (*gaz.names.get(key, ()), *gaz.alt_names.get(key, ())):
            if gaz.entries[i].feature_class == "INFRA" and gaz.entries[i].layer_id:
                return gaz.entries[i].layer_id
    parts = [name[s:e] for s, e in ends]
    crossing = _crossing_layer(parts)
    rail = not _NOT_RAIL_KIND.search(phrase[len(name):])  # "the Baku-Tbilisi highway" is not the railway
    return crossing or (_station_layer(parts) if len(parts) >= 2 and rail else "")


def _crossing_layer(parts: list[str]) -> str:
    gaz = gazetteer.load()
    for key in gazetteer.name_keys(" ".join(parts)):
        for i in (*gaz.names.get(key, ()), *gaz.alt_names.get(key, ())):
            if gaz.entries[i].feature_code == "PSTB":
                return gaz.entries[i].layer_id
    return ""


def _station_layer(parts: list[str]) -> str:
    """The smallest corridor that has every part as a station."""
    wanted = [{variant_key(k) for k in gazetteer.name_keys(p)} for p in parts]
    fits = []
    for layer in gazetteer.current_layers():
        names = {variant_key(n) for s in layer.stations for n in (s.name, s.local_name, *s.aliases) if n}
        if all(w & names for w in wanted):
            fits.append((len(layer.stations), layer.id))
    return min(fits)[1] if fits else ""


def unlayered_infrastructure(mentions: list, resolved: list) -> list[str]:
    """Names of the infrastructure the article names that no layer describes, first spelling of each."""
    seen: dict[str, str] = {}
    for m, p in zip(mentions, resolved):
        if m.label == "INFRA" and not m.layer_id and (p is None or (p.feature_class == "INFRA" and not p.layer_id)):
            seen.setdefault(fold(m.text), m.text)
    return list(seen.values())
