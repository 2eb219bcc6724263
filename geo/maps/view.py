"""The opening view of a map: framed on the story, not on the whole line.

Pure functions of the built layers and the article's places; the page opens on
:func:`story_bounds` and keeps the whole extent one button away.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from .. import settings
from ..core.kinds import kind_of
from ..geodesy import distance_to_line_km
from .border_fit import opening_zoom
from .bounds import layer_bounds
from .style import pinned


@dataclass(frozen=True)
class View:
    """Where a map opens: ``story`` bounds, the ``whole`` extent, and the closest opening zoom."""

    story: tuple[float, float, float, float]
    whole: tuple[float, float, float, float]
    max_zoom: int | None = None
    #: What the opening view shows, for the "whole map" button's label.
    framed_on: str = "whole"


def story_places(results: list, places: gpd.GeoDataFrame | None, near_km: float | None = None) -> gpd.GeoDataFrame | None:
    """The article's towns and sites (not countries or regions) within ``near_km`` of a drawn line."""
    if places is None or not len(places):
        return None
    near_km = settings.story_near_km if near_km is None else near_km
    points = pinned(places)  # towns and sites: countries and regions are not pinned
    lines = [row.geometry for r in results for row in r.frame.itertuples()
             if row.kind in ("segment", "border") and row.geometry is not None and not row.geometry.is_empty]
    if not lines or not len(points):
        return None
    near = [any(distance_to_line_km(line, p.x, p.y) <= near_km for line in lines) for p in points.geometry]
    return points[near]


def _bounds(geoms) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = gpd.GeoSeries(list(geoms), crs=4326).total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def border_zoom(results: list, lat: float) -> int:
    """The closest a border map may open: :data:`geo.settings.border_open_zoom`, and no closer than its
    least accurate border line is good for at ``lat`` (:func:`geo.maps.border_fit.opening_zoom`)."""
    return min([settings.border_open_zoom, *(opening_zoom(r.frame, lat) for r in results)])


def opening_view(results: list, places: gpd.GeoDataFrame | None = None) -> View:
    """The view a map opens on.

    * A map of border layers only opens on their crossings (closest zoom
      :data:`geo.settings.border_open_zoom`, a view a few tens of km across, or the closest
      its border data is good for: :func:`border_zoom`).
    * Otherwise, on the article's places on or near the drawn lines (at least two
      of them, see :func:`story_places`), at zoom :data:`geo.settings.story_max_zoom` at most.
    * Otherwise on everything drawn.
    """
    whole = layer_bounds(results)
    if results and all(kind_of(r.layer).on_crossings for r in results):
        crossings = [g for r in results for g in r.frame.loc[r.frame["kind"] == "crossing"].geometry]
        if crossings:
            framed = _bounds(crossings)
            return View(framed, whole, border_zoom(results, (framed[1] + framed[3]) / 2), "crossings")
    story = story_places(results, places)
    if story is not None and len(story) >= 2:
        return View(_bounds(story.geometry), whole, settings.story_max_zoom, "story")
    return View(whole, whole)
