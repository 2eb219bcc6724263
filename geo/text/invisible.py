"""Invisible characters: removed before recognition, with offsets mapped back to the original text.

Every default ignorable code point (the Unicode property ``Default_Ignorable_Code_Point``:
zero-width spaces and joiners, soft hyphens, word joiners, byte-order marks, the
bidirectional controls, variation selectors such as U+FE0F, tag characters U+E0000-E007F
...) changes nothing a reader sees but splits a name for the tokenizer and the gazetteer
("Baku\\u200b", "Derbent\\u200e", "\\u00adMoscow", "Baku\\U000e0041"). :func:`visible` drops
them and keeps the way back, so mention spans still index the text as read.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import regex

#: Runs of default ignorable code points, by the Unicode property (not a list that ages).
_INVISIBLE = regex.compile(r"\p{Default_Ignorable_Code_Point}+")


@dataclass(frozen=True)
class Visible:
    """A text without its invisible characters, and the map back to the original's offsets.

    ``text[i]`` is ``original[position(i)]``. The map is one entry per run of removed
    characters, so it costs nothing for ordinary text.
    """

    original: str
    text: str
    clean_starts: tuple[int, ...] = (0,)  # where each visible stretch starts in ``text``
    original_starts: tuple[int, ...] = (0,)  # ... and in ``original``

    def position(self, i: int) -> int:
        """Offset in ``original`` of the character at offset ``i`` of ``text``."""
        j = bisect_right(self.clean_starts, i) - 1
        return self.original_starts[j] + (i - self.clean_starts[j])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]``: from its first to just after its last visible character."""
        if end <= start:
            return self.position(start), self.position(start)
        return self.position(start), self.position(end - 1) + 1


def visible(text: str) -> Visible:
    """Remove the invisible characters of ``text``, keeping the way back (see :class:`Visible`).

    Examples
    --------
    >>> v = visible("Baku\\u200b and \\u00adMoscow")
    >>> v.text
    'Baku and Moscow'
    >>> start, end = v.span(9, 15)
    >>> "Baku\\u200b and \\u00adMoscow"[start:end]
    'Moscow'
    """
    if not _INVISIBLE.search(text):
        return Visible(text, text)
    pieces, clean_starts, original_starts = [], [], []
    pos = clean = 0
    for m in _INVISIBLE.finditer(text):
        if m.start() > pos:
            clean_starts.append(clean)
            original_starts.append(pos)
            pieces.append(text[pos:m.start()])
            clean += m.start() - pos
        pos = m.end()
    clean_starts.append(clean)
    original_starts.append(pos)
    pieces.append(text[pos:])
    return Visible(text, "".join(pieces), tuple(clean_starts), tuple(original_starts))
