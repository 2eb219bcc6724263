"""Smaller Overpass queries: a ``poly:`` piece the server ran out of memory or time on is halved.

The halves are asked for in turn, each halved again when it is still too
large, at most ``settings.overpass_split_depth`` times; then the server's
words are passed on. Elements found in both halves are kept once later
(``elements_to_frames`` drops repeats).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shapely.geometry import Polygon, box

from .. import settings
from ..errors import QueryTooLarge

log = logging.getLogger(__name__)


def halves(polygon: Polygon) -> list[Polygon]:
    """``polygon`` cut across the middle of its longer bounding-box side (two or more polygons)."""
    minx, miny, maxx, maxy = polygon.bounds
    if maxx - minx >= maxy - miny:
        mid = (minx + maxx) / 2
        cuts = [box(minx, miny, mid, maxy), box(mid, miny, maxx, maxy)]
    else:
        mid = (miny + maxy) / 2
        cuts = [box(minx, miny, maxx, mid), box(minx, mid, maxx, maxy)]
    out: list[Polygon] = []
    for cut in cuts:
        part = polygon.intersection(cut)
        out.extend(g for g in getattr(part, "geoms", [part]) if isinstance(g, Polygon) and not g.is_empty)
    return out


def run_piece(
    run: Callable[[str], list[dict[str, Any]]],
    make_query: Callable[[Polygon], str],
    piece: Polygon,
    depth: int | None = None,
) -> list[dict[str, Any]]:
    """The elements of ``make_query(piece)``, halving the piece while the server finds it too large.

    Parameters
    ----------
    run : callable
        Sends a query and returns its elements (raises :class:`QueryTooLarge`).
    make_query : callable
        The query for one polygon.
    piece : Polygon
    depth : int, optional
        Halvings still allowed (default ``settings.overpass_split_depth``).

    Raises
    ------
    QueryTooLarge
        When a piece halved ``depth`` times is still too large; the message says so.
    """
    depth = int(settings.overpass_split_depth) if depth is None else depth
    try:
        return run(make_query(piece))
    except QueryTooLarge as exc:
        if depth <= 0:
            raise QueryTooLarge(
                f"{exc.message} (the query area was already halved {settings.overpass_split_depth} times)",
                exc.query, exc.server_text,
            ) from None
        log.warning("Overpass found a query too large (%s); asking for its area in halves", exc.server_text)
        elements: list[dict[str, Any]] = []
        for half in halves(piece):
            elements.extend(run_piece(run, make_query, half, depth - 1))
        return elements
