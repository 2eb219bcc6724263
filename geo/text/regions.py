"""Compass regions: "northeast China", "southern Russia", "Eastern Europe" as one region each.

A direction word before a country or continent names a part of it, not the whole: a reader of
"trade with northeast China" looks at Heilongjiang, not at the middle of China. Each such
region is placed at the median of the GeoNames places in that part of the country (or of the
continent's countries): the places' latitude and longitude ranges (between the
``settings.compass_trim`` and 1 - ``settings.compass_trim`` quantiles) are cut in thirds, and
the region is the third (north, south, east, west), the corner (northeast...) or the middle
(central) it names. So the point always lies among real places of that part.
"""

from __future__ import annotations

import re

import numpy as np

from .. import settings

#: Direction words -> (latitude third, longitude third): 0 south/west, 1 middle, 2 north/east, None any.
_ROWS = {"north": 2, "south": 0, "": None}
_COLS = {"east": 2, "west": 0, "": None}


def _forms(row: str, col: str) -> list[str]:
    """English forms of one direction: "north", "northern"; "northeast", "north-east", "northeastern"."""
    if row and col:
        return [f"{row}{col}", f"{row}-{col}", f"{row} {col}", f"{row}{col}ern", f"{row}-{col}ern"]
    word = row or col
    return [f"{word}ern", word]


#: A direction word (any case) right before a name: "northeast China", "Central Asia", "north-eastern Iran".
DIRECTION_BEFORE = re.compile(
    r"(?i)(?<![\w-])((?:north|south)(?:[\s-]?(?:east|west))?(?:ern)?|(?:east|west)(?:ern)?|central|middle)\s+$")


def region_point(lats: np.ndarray, lons: np.ndarray, row: int | None, col: int | None) -> tuple[float, float] | None:
    """The median of the places in one part of an area, or None when fewer than ``settings.compass_min_places`` lie there.

    Parameters
    ----------
    lats, lons : numpy.ndarray
        The area's places.
    row, col : int or None
        The third of latitude (0 south, 1 middle, 2 north) and of longitude (0 west, 1 middle,
        2 east) the region is in; None for the whole range.
    """
    if len(lats) < settings.compass_min_places:
        return None
    keep = np.ones(len(lats), dtype=bool)
    for values, third in ((lats, row), (lons, col)):
        if third is None:
            continue
        lo, hi = np.quantile(values, [settings.compass_trim, 1.0 - settings.compass_trim])
        step = (hi - lo) / 3.0
        low = -np.inf if third == 0 else lo + third * step
        high = np.inf if third == 2 else lo + (third + 1) * step
        keep &= (values >= low) & (values < high)
    if keep.sum() < settings.compass_min_places:
        return None
    return float(np.median(lats[keep])), float(np.median(lons[keep]))


def compass_regions(name: str, lats: np.ndarray, lons: np.ndarray) -> list[tuple[str, list[str], float, float]]:
    """The compass regions of one area: (display name, names, lat, lon) per direction.

    Examples
    --------
    >>> lats = np.repeat(np.arange(10.0), 10); lons = np.tile(np.arange(10.0), 10)
    >>> regions = {label: (names, lat, lon) for label, names, lat, lon in compass_regions("Examplia", lats, lons)}
    >>> regions["Northern Examplia"]
    (['Northern Examplia', 'North Examplia'], 7.5, 4.5)
    """
    out = []
    for row_word, row in _ROWS.items():
        for col_word, col in _COLS.items():
            if not (row_word or col_word):
                continue
            point = region_point(lats, lons, row, col)
            if point:
                names = [f"{f[:1].upper()}{f[1:]} {name}" for f in _forms(row_word, col_word)]
                out.append((names[0], names, *point))
    point = region_point(lats, lons, 1, 1)
    if point:
        out.append((f"Central {name}", [f"Central {name}", f"Middle {name}"], *point))
    return out
