"""Draw the atlas of a news archive: places sized by mentions (with a month slider), corridors coloured by mentions.

The aggregates come from :mod:`geo.archive.aggregate`. Every name, headline and id is
untrusted text and goes through :func:`geo.maps.escape`.
"""

from __future__ import annotations

import json
import math

import folium
import geopandas as gpd
import pandas as pd
from branca.colormap import LinearColormap
from folium import plugins

from .. import settings
from ..maps.basemap import add_basemap
from ..maps.bounds import layer_bounds
from ..maps.display import display_coords
from ..maps.draw import new_map
from ..maps.page import LegendControl, StoryView
from ..maps.style import MENTION_COLOR, escape

#: Circle radius range in pixels (area proportional to mentions).
MIN_RADIUS, MAX_RADIUS = 3.0, 24.0
#: Colour ramp of corridor segments, from least to most named; segments no place is near are grey.
SEGMENT_COLORS = ["#fee391", "#fe9929", "#cc4c02", "#662506"]
UNNAMED_SEGMENT = "#9e9e9e"
#: A month's circles stay on the slider for a little less than a month (so months do not overlap).
MONTH_DURATION = "P27D"


def radius(mentions: int, most: int) -> float:
    """Circle radius in pixels for ``mentions`` when the most named place has ``most`` (area ~ mentions)."""
    share = math.sqrt(max(int(mentions), 0) / max(int(most), 1))
    return round(MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * share, 1)


def place_popup(row, relations: list[str]) -> str:
    """Popup HTML for a place: counts, dates, corridors within reach and its top headlines (all escaped)."""
    lines = [f"<b>{escape(row.place)}</b>" + (f" ({escape(row.country)})" if row.country else ""),
             f"{int(row.mentions):,} mentions in {int(row.documents):,} documents"]
    if pd.notna(row.first_date):
        lines.append(f"{row.first_date:%Y-%m-%d} to {row.last_date:%Y-%m-%d}")
    lines += [f"<i>{escape(r)}</i>" for r in relations]
    items = "".join(f"<li>{escape(h)}</li>" for h in row.headlines)
    return "<br>".join(lines) + (f"<ol class='cm-headlines'>{items}</ol>" if items else "")


def segment_popup(row, title: str) -> str:
    """Popup HTML for a corridor segment: mentions of the places within reach, and the most named of them."""
    head = f"<b>{escape(row.segment)}</b><br>{escape(title)}<br>"
    if not row.mentions:
        return head + "No place within reach was named."
    named = ", ".join(escape(p) for p in row.top_places)
    return head + f"{int(row.mentions):,} mentions of {int(row.places)} places within reach: {named}"


def atlas_map(places: gpd.GeoDataFrame, months: gpd.GeoDataFrame, segments: gpd.GeoDataFrame,
              links: pd.DataFrame, results: list, *, title: str, subtitle: str = "", tiles: str | None = None,
              within_km: float | None = None) -> folium.Map:
    """The atlas as a folium map.

    Parameters
    ----------
    places, months, segments, links :
        From :func:`geo.archive.aggregate.place_totals`, :func:`~geo.archive.aggregate.place_months`,
        :func:`~geo.archive.aggregate.segment_totals` and :func:`~geo.archive.aggregate.corridor_places`.
    results : list of geo.corridors.LayerResult
    within_km : float
        The distance that put a place on a corridor (stated in the legend).
    """
    within_km = settings.atlas_corridor_km if within_km is None else within_km
    fmap = new_map(title, subtitle, tiles)
    bounds = layer_bounds(results)
    if (tiles or settings.default_tiles) == "none":
        add_basemap(fmap, bounds)
    colormap = _segment_colormap(segments)
    titles = {r.layer.id: r.layer.title for r in results}
    for result in results:
        _add_corridor(fmap, segments[segments["layer"] == result.layer.id], result.layer.title, colormap)
    relations = _relations(links, titles)
    dated = len(months) > 0
    group = folium.FeatureGroup(name="Places named (all time)", show=not dated)
    most = int(places["mentions"].max()) if len(places) else 1
    for row in places.itertuples():
        folium.CircleMarker(
            (row.geometry.y, row.geometry.x), radius=radius(row.mentions, most), color=MENTION_COLOR,
            fill=True, fill_color=MENTION_COLOR, fill_opacity=0.45, weight=1,
            popup=folium.Popup(place_popup(row, relations.get(row.key, [])), max_width=420),
            tooltip=folium.Tooltip(escape(f"{row.place}: {int(row.mentions):,} mentions")),
        ).add_to(group)
    group.add_to(fmap)
    if dated:
        _add_months(fmap, months)
    colormap.caption = f"Corridor segments: mentions of places within {within_km:g} km"
    colormap.add_to(fmap)
    fmap.add_child(LegendControl(_legend(places, dated, within_km)))
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)
    fmap.add_child(StoryView(bounds, bounds))
    return fmap


def _segment_colormap(segments: gpd.GeoDataFrame) -> LinearColormap:
    top = max(int(segments["mentions"].max()) if len(segments) else 0, 1)
    return LinearColormap(SEGMENT_COLORS, vmin=0, vmax=top)


def _add_corridor(fmap: folium.Map, segments: gpd.GeoDataFrame, title: str, colormap: LinearColormap) -> None:
    total = int(segments["mentions"].sum()) if len(segments) else 0
    group = folium.FeatureGroup(name=escape(f"{title} ({total:,} mentions)"), show=True)
    for row in segments.itertuples():
        color = colormap(row.mentions) if row.mentions else UNNAMED_SEGMENT
        for coords in display_coords(row.geometry):
            folium.PolyLine(coords, color=color, weight=6 if row.mentions else 3, opacity=0.9,
                            popup=folium.Popup(segment_popup(row, title), max_width=360),
                            tooltip=folium.Tooltip(escape(f"{row.segment}: {int(row.mentions):,} mentions"))
                            ).add_to(group)
    group.add_to(fmap)


def _relations(links: pd.DataFrame, titles: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in links.itertuples():
        out.setdefault(row.key, []).append(
            f"{float(row.distance_km):,.1f} km from the {titles.get(row.layer, row.layer)} ({row.segment})")
    return out


def _add_months(fmap: folium.Map, months: gpd.GeoDataFrame) -> None:
    """Circles per place and month under a time slider (Leaflet.TimeDimension)."""
    most = int(months["mentions"].max())
    features = []
    for row in months.itertuples():
        body = (f"<b>{escape(row.place)}</b><br>{row.month:%B %Y}: {int(row.mentions):,} mentions "
                f"in {int(row.documents):,} documents")
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(row.geometry.x, 5), round(row.geometry.y, 5)]},
            "properties": {
                "times": [f"{row.month:%Y-%m-%d}"], "popup": body, "icon": "circle",
                "tooltip": escape(f"{row.place}: {int(row.mentions):,} mentions in {row.month:%b %Y}"),
                "iconstyle": {"radius": radius(row.mentions, most), "color": MENTION_COLOR, "weight": 1,
                              "fillColor": MENTION_COLOR, "fillOpacity": 0.55},
            },
        })
    data = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    plugins.TimestampedGeoJson(data.replace("</", "<\\/"), period="P1M", duration=MONTH_DURATION,
                               date_options="MMMM YYYY", auto_play=False, add_last_point=False).add_to(fmap)


def _legend(places: gpd.GeoDataFrame, dated: bool, within_km: float) -> str:
    items = ["<div class='cm-item'><span class='cm-circle'></span> place named in the archive "
             "(area: number of mentions; click for the top headlines)</div>"]
    if dated:
        items.append("<div class='cm-item'><small>The slider shows each month's mentions; "
                     "“Places named (all time)” in the layer list shows the totals.</small></div>")
    items.append(f"<div class='cm-item'><small>{len(places):,} places, {int(places['mentions'].sum()):,} mentions; "
                 f"a place within {within_km:g} km of a corridor counts for its nearest segment.</small></div>")
    items.append(f"<div class='cm-attrib'><small>Data: {settings.ATTRIBUTION}</small></div>")
    return "".join(items)
