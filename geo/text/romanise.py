"""Romanisations of local place names: the spellings English news uses for OSM names.

- Cyrillic (Russian, and Kazakh, Ukrainian or Belarusian letters first reduced to their nearest
  Russian letter) by the systems news agencies and encyclopedias use, from the ``iuliia``
  package: BGN/PCGN ("Severomuysk", "Tonnel'nyy"), Wikipedia ("Tonnelny", "Yaroslavsky") and
  ICAO Doc 9303, the passport system ("Severomuisk", "Taishet");
- Latin with the letters of Azerbaijani, Turkmen, Kazakh and Uzbek spelling folded to English
  spelling: "Türkmenbaşy" -> "Turkmenbashy", "Xaçmaz" -> "Khachmaz", "Serhetýaka" -> "Serhetyaka";
  the letters whose English spelling differs by language (Azerbaijani and Uzbek x = kh,
  Azerbaijani q = g but Uzbek and Kazakh q = k, Azerbaijani c = j) by the node's country.

Examples
--------
>>> romanisations("Северомуйск")
['Severomuysk', 'Severomuisk']
>>> english_spellings("Xaçmaz", "AZ")
['Xachmaz', 'Khachmaz']
"""

from __future__ import annotations

import functools
import re

#: Kazakh, Ukrainian and Belarusian Cyrillic letters -> the Russian letter romanised the same way.
_TO_RUSSIAN = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х",
                             "і": "и", "ї": "и", "є": "е", "ґ": "г", "ў": "у",
                             "Ә": "А", "Ғ": "Г", "Қ": "К", "Ң": "Н", "Ө": "О", "Ұ": "У", "Ү": "У", "Һ": "Х",
                             "І": "И", "Ї": "И", "Є": "Е", "Ґ": "Г", "Ў": "У"})

#: Letters of Turkic Latin alphabets -> English spelling (the same in every language).
_TURKIC_LATIN = str.maketrans({
    "ə": "a", "Ə": "A", "ş": "sh", "Ş": "Sh", "ç": "ch", "Ç": "Ch", "ž": "zh", "Ž": "Zh", "ň": "n", "Ň": "N",
    "ý": "y", "Ý": "Y", "ğ": "gh", "Ğ": "Gh", "ı": "i", "İ": "I", "ö": "o", "Ö": "O", "ü": "u", "Ü": "U",
    "ä": "a", "Ä": "A", "ū": "u", "Ū": "U", "ŋ": "ng",
})

#: Letters whose English spelling depends on the language, by country (ISO alpha-2).
_BY_COUNTRY = {
    "AZ": ((re.compile(r"x"), "kh"), (re.compile(r"X"), "Kh"), (re.compile(r"q"), "g"), (re.compile(r"Q"), "G"),
           (re.compile(r"c"), "j"), (re.compile(r"C"), "J")),
    "UZ": ((re.compile(r"x"), "kh"), (re.compile(r"X"), "Kh"), (re.compile(r"q"), "k"), (re.compile(r"Q"), "K"),
           (re.compile(r"(?<=[oOgG])['’ʻʼ‘`]"), "")),
    "KZ": ((re.compile(r"q"), "k"), (re.compile(r"Q"), "K")),
}
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@functools.lru_cache(maxsize=1)
def _schemas() -> tuple:
    import iuliia

    return iuliia.BGN_PCGN, iuliia.WIKIPEDIA, iuliia.ICAO_DOC_9303


def romanisations(name: str) -> list[str]:
    """Latin spellings of a Cyrillic name by BGN/PCGN, Wikipedia and ICAO (distinct, in that order).

    Returns ``[]`` for a name without Cyrillic letters. Apostrophes of soft signs are dropped.
    """
    if not _CYRILLIC.search(name):
        return []
    russian = name.translate(_TO_RUSSIAN)
    out = [_WORD.sub(functools.partial(_word_of_match, k), russian) for k in range(len(_schemas()))]
    return list(dict.fromkeys(s for s in out if s and not _CYRILLIC.search(s)))


_WORD = re.compile(r"[\u0400-\u04FF]+")


@functools.lru_cache(maxsize=100_000)
def _word(schema: int, word: str) -> str:
    """One Cyrillic word in one schema of :func:`_schemas` (words repeat across station names: memoised)."""
    return _schemas()[schema].translate(word).translate(_NO_APOSTROPHE)


def _word_of_match(schema: int, match: re.Match[str]) -> str:
    """The Cyrillic word ``match`` in one schema of :func:`_schemas` (a replacement for ``re.sub``)."""
    return _word(schema, match.group(0))


_NO_APOSTROPHE = str.maketrans({"’": "", "ʹ": "", "'": ""})


def wikipedia_spelling(name: str) -> str:
    """The English Wikipedia romanisation of a Cyrillic name ("Тоннельный" -> "Tonnelny"); other names unchanged."""
    if not _CYRILLIC.search(name):
        return name
    return _WORD.sub(lambda m: _word(1, m.group(0)), name.translate(_TO_RUSSIAN))


def english_spellings(name: str, country: str = "") -> list[str]:
    """English spellings of a Turkic Latin name: the letters folded (:data:`_TURKIC_LATIN`), then the
    country's own letters (:data:`_BY_COUNTRY`). Returns ``[]`` when neither changes the name."""
    if _CYRILLIC.search(name):
        return []
    out = []
    folded = name.translate(_TURKIC_LATIN)
    if folded != name:
        out.append(folded)
    local = name
    for pattern, repl in _BY_COUNTRY.get(country, ()):
        local = pattern.sub(repl, local)
    local = local.translate(_TURKIC_LATIN)
    if local != folded:
        out.append(local)
    return out
