"""Name keys: how place names are folded before lookup, so spelling differences do not matter."""

from __future__ import annotations

import re
import unicodedata

from .invisible import INVISIBLE_CHARS

_APOSTROPHES = "'’‘`´ʼʹʻ\"“”«»"
_DASHES = "-‐‑‒–—―−_/"
_FOLD_TABLE = str.maketrans({**{c: "" for c in _APOSTROPHES + "." + INVISIBLE_CHARS}, **{c: " " for c in _DASHES + ","}})
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def fold(name: str) -> str:
    """Return the matching key of a place name.

    Lower case, no diacritics, no apostrophes, dots or invisible characters (zero-width,
    soft hyphens, direction marks), dashes and commas as spaces, single spaces. Cyrillic is kept (lower-cased).

    Examples
    --------
    >>> fold("Ust’-Kut") == fold("Ust'-Kut") == fold("UST-KUT") == "ust kut"
    True
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().translate(_FOLD_TABLE)
    return " ".join(text.split())


def is_cyrillic(name: str) -> bool:
    """Return True if ``name`` contains Cyrillic letters."""
    return bool(_CYRILLIC.search(name))
