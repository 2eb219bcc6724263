"""Name keys: how place names are folded before lookup, so spelling differences do not matter.

Two keys per name:

- :func:`fold`, the exact key: case, diacritics, apostrophes, dots and dashes do not matter;
- :func:`variant_key`, the romanisation key: :func:`fold` plus the usual differences between
  transliterations of Russian, Azerbaijani, Kazakh and Persian names folded away (general
  rules, applied to every name, see :func:`variant_key`).
"""

from __future__ import annotations

import re
import unicodedata

#: The characters removed (each is a format character of width zero).
INVISIBLE_CHARS = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
                   "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
                   "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff")

_APOSTROPHES = "'’‘`´ʼʹʻ\"“”«»"
_DASHES = "-‐‑‒–—―−_/"
_FOLD_TABLE = str.maketrans({**{c: "" for c in _APOSTROPHES + "." + INVISIBLE_CHARS}, **{c: " " for c in _DASHES + ","}})
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")

#: Russian (and Kazakh) Cyrillic -> Latin, as in the BGN/PCGN-like spellings GeoNames uses.
_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
     "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "a", "g", "k", "n", "o", "u", "u", "h", "i"]))

#: Letters of Azerbaijani, Turkish and Kazakh Latin spellings that NFKD does not reduce to ASCII.
_LATIN_EXTRA = str.maketrans({"ə": "a", "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})

_BANDAR_E = re.compile(r"\bbandar e\b")
#: Romanisation rules of :func:`variant_key`, in order, over the whole folded key: no rule matches across a
#: space, and ``(?= |$)`` ends a word, so they act on each word.
_VARIANT_RULES = (
    (re.compile(r"[ьъ]"), ""),  # soft and hard signs
    (re.compile(r"y[oe]"), "e"),  # yo/e (ё), ye/e (Yekaterinburg/Ekaterinburg), -oye/-oe
    (re.compile(r"kh"), "h"),  # kh/h (Khachmaz/Hachmaz)
    (re.compile(r"gh|q"), "g"),  # q/gh/g (Azerbaijani Qusar/Gusar, Persian Qazvin/Ghazvin)
    (re.compile(r"sh"), "s"),  # sh/s (Turkish and Turkmen ş: Türkmenbaşy/Turkmenbashi)
    (re.compile(r"ow"), "o"),  # ow/o (Nowshahr/Noshahr)
    (re.compile(r"y"), "i"),  # y/i, ay/ai (Severobaykalsk/Severobaikalsk)
    (re.compile(r"oie(?= |$)"), "oe"),  # -oie/-oe (Nizhneleninskoie)
    (re.compile(r"(.)\1+"), r"\1"),  # doubled letters (Ussuriysk/Usuriisk)
)


def fold(name: str) -> str:
    """Return the matching key of a place name.

    Lower case, no diacritics, no apostrophes, dots or invisible characters (zero-width,
    soft hyphens, direction marks), dashes and commas as spaces, single spaces. Cyrillic is kept (lower-cased).

    Examples
    --------
    >>> fold("Ust’-Kut") == fold("Ust'-Kut") == fold("UST-KUT") == "ust kut"
    True
    """
    if name.isascii():  # no diacritics to strip (most names in English text)
        text = name
    else:
        text = unicodedata.normalize("NFKD", name)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().translate(_FOLD_TABLE)
    return " ".join(text.split())


def transliterate(name: str) -> str:
    """Latin spelling of a Cyrillic name ("Яраг-Казмаляр" -> "Yarag-Kazmalyar"); other text unchanged."""
    if not _CYRILLIC.search(name):
        return name
    out = []
    for c in name:
        latin = _TRANSLIT.get(c.lower())
        if latin is None:
            out.append(c)
        else:
            out.append(latin.capitalize() if c.isupper() else latin)
    return "".join(out)


def variant_key(name: str) -> str:
    """Return the romanisation-insensitive key of a place name.

    :func:`fold`, Cyrillic transliterated, then per word: soft signs dropped, yo/ye -> e,
    kh -> h, q/gh -> g, sh -> s, ow -> o, y -> i, -oie -> -oe, doubled letters single;
    "Bandar-e X" -> "Bandar X".
    Two spellings of one name by different romanisations share this key.

    Examples
    --------
    >>> variant_key("Severobaykalsk") == variant_key("Severobaikalsk")
    True
    >>> variant_key("Nowshahr") == variant_key("Noshahr")
    True
    """
    key = fold(name)
    if not key.isascii():
        key = fold(transliterate(key)).translate(_LATIN_EXTRA)
    return folded_variant_key(key)


def folded_variant_key(key: str) -> str:
    """:func:`variant_key` of a key :func:`fold` already made and in Latin letters, without folding it again
    (the gazetteer's build calls this for every name)."""
    key = _BANDAR_E.sub("bandar", key)
    for pattern, repl in _VARIANT_RULES:
        key = pattern.sub(repl, key)
    return key


def is_cyrillic(name: str) -> bool:
    """Return True if ``name`` contains Cyrillic letters."""
    return bool(_CYRILLIC.search(name))
