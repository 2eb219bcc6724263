"""Draw built layers and the article's places as an interactive Folium map.

Everything from the article or a layer file that reaches HTML goes through
:func:`escape` (popups and tooltips are inserted into JavaScript template
literals by Folium, so backticks, ``$`` and backslashes are escaped too).
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
from folium import plugins

from .. import settings
from ..corridors import borders
from ..export import layer_bounds, places_in
from .display import display_coords
from .legend import legend_html
from .page import Chrome, LegendControl, fit
from .style import (CROSSING_ICONS, MENTION_COLOR, MENTION_PANE, ROLE_RADIUS, STATUS_DASH, SCHEMATIC_DASH,
                    SCHEMATIC_OPACITY, STATUS_LABEL, escape, label_zoom, pinned, slug, source_label)

#: Base maps: key -> (xyzservices provider name, label in the layer control).
TILES = {
    "light": ("Esri.WorldGrayCanvas", "Light grey (Esri)"),
    "osm": ("OpenStreetMap.Mapnik", "OpenStreetMap"),
}
TILE_CHOICES = (*TILES, "none")
OPENRAILWAYMAP = (
    "https://{s}.tiles.openrailwaymap.org/standard/{z}/{x}/{y}.png",
    'Map style: &copy; <a href="https://www.openrailwaymap.org/">OpenRailwayMap</a> (CC-BY-SA); '
    "data &copy; OpenStreetMap contributors",
)



def _popup(body: str, width: int = 360) -> folium.Popup:
    return folium.Popup(body, max_width=width)


def _tooltip(text: str, **kwargs) -> folium.Tooltip:
    return folium.Tooltip(escape(text), **kwargs)



# --- the map -----------------------------------------------------------------

def new_map(title: str, subtitle: str = "", tiles: str | None = None) -> folium.Map:
    """An empty map with base layers, scale bar, fullscreen, title and data attribution.

    Parameters
    ----------
    tiles : str
        ``"light"`` (default), ``"osm"`` or ``"none"`` (country outlines from
        Natural Earth, no tile server). The chosen base map is shown; the other
        stays one click away in the layer control, with an OpenRailwayMap overlay.
    """
    tiles = _tiles(tiles)
    fmap = folium.Map(tiles=None, control_scale=True, zoom_start=4, location=(50, 80))
    if tiles != "none":
        for key, (provider, name) in TILES.items():
            folium.TileLayer(provider, name=name, control=True, show=key == tiles).add_to(fmap)
        folium.TileLayer(OPENRAILWAYMAP[0], attr=OPENRAILWAYMAP[1], name="OpenRailwayMap (rail overlay, online)",
                         overlay=True, show=False, max_zoom=19).add_to(fmap)
    plugins.Fullscreen(position="topleft").add_to(fmap)
    fmap.add_child(Chrome(title, subtitle))
    return fmap


def _tiles(tiles: str | None) -> str:
    tiles = (tiles or settings.default_tiles).lower()
    if tiles not in TILE_CHOICES:
        raise ValueError(f"unknown base map {tiles!r}: choose one of {', '.join(TILE_CHOICES)}")
    return tiles


def add_outlines(fmap: folium.Map, bounds) -> None:
    """Draw Natural Earth country outlines around ``bounds`` (for ``--tiles none``)."""
    frame = borders.outline_frame(bounds)
    folium.GeoJson(
        frame[["name", "geometry"]].to_json(),
        name="Countries (Natural Earth)",
        style_function=lambda _: {"color": "#9a968c", "weight": 1, "fillColor": "#f4f1ea", "fillOpacity": 1},
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        control=False,
    ).add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(
        "<style>.folium-map.leaflet-container{background:#dbe7ef}</style>"), name="cm_sea")


def add_layer(fmap: folium.Map, result, show: bool = True) -> folium.FeatureGroup:
    """Draw one built layer (geo.corridors.build.LayerResult) as a toggleable feature group."""
    layer = result.layer
    group = folium.FeatureGroup(name=escape(layer.title), show=show)
    frame = result.frame
    for row in frame[frame["kind"].isin(["segment", "border"])].itertuples():
        _draw_line(group, layer, row, result)
    for row in frame[frame["kind"] == "station"].itertuples():
        _draw_station(group, layer, row)
    for row in frame[frame["kind"] == "crossing"].itertuples():
        _draw_crossing(group, layer, row)
    group.add_to(fmap)
    return group


def _line_style(layer, row) -> dict:
    schematic = row.source == "schematic"
    status = getattr(row, "status", None) if row.kind == "segment" else None
    status = status if isinstance(status, str) and status in STATUS_DASH else "rail"
    dash = STATUS_DASH[status] if status != "rail" or not schematic else SCHEMATIC_DASH
    return dict(
        color=layer.color, weight=max(2, layer.weight - 1) if schematic else layer.weight,
        opacity=SCHEMATIC_OPACITY if schematic else 0.9, dash_array=dash,
    )


def _draw_line(group, layer, row, result) -> None:
    schematic = row.source == "schematic"
    facts = [f"<b>{escape(row.name)}</b>", escape(layer.title)]
    if row.kind == "segment":
        facts.append(f"Status: {escape(STATUS_LABEL.get(row.status, row.status))}")
        facts.append(f"Length: {row.length_km:,.0f} km (geodesic)")
        if schematic:
            facts.append(f"<i>Schematic</i>: straight line between stations ({escape(row.schematic_reason)})")
        if isinstance(row.note, str) and row.note:
            facts.append(escape(row.note))
    else:
        facts.append(f"Length: {row.length_km:,.0f} km")
    facts.append(f"Source: {escape(source_label(row.source, result))}")
    coords = display_coords(row.geometry)
    if not coords:
        return
    folium.PolyLine(
        coords if len(coords) > 1 else coords[0], **_line_style(layer, row), popup=_popup("<br>".join(facts)),
        tooltip=_tooltip(f"{row.name} ({'schematic' if schematic else source_label(row.source, result, short=True)})"),
        class_name=f"cm-line cm-{row.kind}",
    ).add_to(group)


def _draw_station(group, layer, row) -> None:
    body = [f"<b>{escape(row.name)}</b>"]
    if isinstance(row.local_name, str) and row.local_name and row.local_name != row.name:
        body.append(escape(row.local_name))
    body.append(f"{escape(layer.title)} · {escape(row.role)}")
    if isinstance(row.note, str) and row.note:
        body.append(escape(row.note))
    body.append(f"Position: {escape(row.position_source)}")
    where = (row.geometry.y, row.geometry.x)
    label = _tooltip(row.name, permanent=True, direction="right", offset=(6, 0),
                     class_name=f"cm-label cm-z{label_zoom(row)}")
    if row.role == "port":
        icon = folium.DivIcon(
            html=f"<div class='cm-port-icon' style='color:{escape(layer.color)};border-color:{escape(layer.color)}'>"
                 "<i class='fa fa-anchor'></i></div>",
            icon_size=(16, 16), icon_anchor=(8, 8), class_name="cm-port",
        )
        folium.Marker(where, icon=icon, popup=_popup("<br>".join(body)), tooltip=label).add_to(group)
        return
    folium.CircleMarker(
        where, radius=ROLE_RADIUS.get(row.role, 3.5), color=layer.color,
        fill=True, fill_color="#ffffff", fill_opacity=1, weight=2, popup=_popup("<br>".join(body)),
        tooltip=label, class_name=f"cm-station cm-role-{slug(row.role)}",
    ).add_to(group)


def _draw_crossing(group, layer, row) -> None:
    icon, color = CROSSING_ICONS.get(row.mode, ("question", "gray"))
    body = [f"<b>{escape(row.name)}</b>"]
    if isinstance(row.side_names, str) and row.side_names:
        body.append(f"Names on each side: {escape(row.side_names)}")
    body += [
        f"Mode: {escape(row.mode)}",
        f"Capacity: {escape(row.capacity or 'not stated in the sources used here')}",
        f"Position: {escape(row.position_source)}{' (approximate)' if row.approximate else ''}",
    ]
    folium.Marker(
        (row.geometry.y, row.geometry.x), popup=_popup("<br>".join(body)),
        tooltip=_tooltip(f"{row.name} ({row.mode} crossing)"),
        icon=folium.Icon(icon=icon, prefix="fa", color=color),
    ).add_to(group)


def mention_radius(count: int) -> float:
    """Marker radius in pixels: area grows with the number of mentions, capped."""
    return round(min(4 + 3 * math.sqrt(max(int(count), 1)), 18), 1)


def add_mentions(fmap: folium.Map, places: gpd.GeoDataFrame, name: str = "Places in the article") -> folium.FeatureGroup:
    """Draw the article's places: one marker each, sized by mention count, quoting its sentences."""
    # The article's places sit above the corridor icons (marker pane, 600) and below tooltips (650).
    folium.map.CustomPane(MENTION_PANE, z_index=620, pointer_events=True).add_to(fmap)
    group = folium.FeatureGroup(name=name, show=True)
    shown = pinned(places)
    for row in shown.sort_values("count", ascending=False).itertuples():
        marker = folium.CircleMarker(
            (row.geometry.y, row.geometry.x), radius=mention_radius(row.count), color=MENTION_COLOR,
            fill=True, fill_color=MENTION_COLOR, fill_opacity=0.5, weight=1.5,
            popup=_popup(mention_popup(row), width=420), tooltip=_tooltip(f"{row.name} ({int(row.count)}×)"),
            class_name=f"cm-mention cm-place-{slug(row.name)}",
        )
        marker.options["pane"] = MENTION_PANE
        marker.add_to(group)
    group.add_to(fmap)
    return group


def mention_popup(row) -> str:
    """Popup HTML for one mentioned place: names, country, links, relation, quoted sentences."""
    head = f"<b>{escape(row.name)}</b>"
    if isinstance(row.local_name, str) and row.local_name and row.local_name != row.name:
        head += f" ({escape(row.local_name)})"
    lines = [head, f"Country: {escape(row.country or '—')} · mentioned {int(row.count)}×"]
    links = []
    gid = getattr(row, "geonames_id", None)
    if gid is not None and not (isinstance(gid, float) and math.isnan(gid)):
        links.append(f'<a href="https://www.geonames.org/{int(gid)}" target="_blank" rel="noopener">GeoNames {int(gid)}</a>')
    lat, lon = round(row.geometry.y, 5), round(row.geometry.x, 5)
    links.append(f'<a href="https://www.openstreetmap.org/?mlat={lat}&amp;mlon={lon}#map=10/{lat}/{lon}" '
                 'target="_blank" rel="noopener">OpenStreetMap</a>')
    lines.append(" · ".join(links))
    relation = getattr(row, "relation", None)
    if isinstance(relation, str) and relation:
        lines.append("<i>" + escape(relation[0].upper() + relation[1:]) + "</i>")
    quotes = []
    for sentence, start, end in list(row.quotes)[:5]:
        quotes.append(
            "<blockquote class='cm-quote'>"
            f"{escape(sentence[:start])}<mark>{escape(sentence[start:end])}</mark>{escape(sentence[end:])}"
            "</blockquote>"
        )
    if len(row.quotes) > 5:
        quotes.append(f"<i>and {len(row.quotes) - 5} more sentences</i>")
    return "<br>".join(lines) + "".join(quotes)


def add_legend(fmap: folium.Map, results: list, places: gpd.GeoDataFrame | None, note: str = "",
               outlines: bool = False, not_drawn: dict[str, list[str]] | None = None) -> None:
    """A legend: colours, dashes and icons, each layer's data source, and the article's places not drawn."""
    fmap.add_child(LegendControl(legend_html(results, places, note, outlines, not_drawn)))


def build_map(results: list, places: gpd.GeoDataFrame | None = None, *, title: str, subtitle: str = "",
              tiles: str | None = None, note: str = "", not_drawn: dict[str, list[str]] | None = None) -> folium.Map:
    """Draw layers and places on one map fitted to the layers.

    Parameters
    ----------
    results : list of geo.corridors.build.LayerResult
    places : GeoDataFrame, optional
        From :func:`geo.corridors.relate.relate` or :func:`geo.text.mention_frame.mention_frame`; those
        inside the map's extent are drawn.
    tiles : str, optional
        ``light`` (default), ``osm`` or ``none`` (Natural Earth outlines, no tile server).
    not_drawn : dict, optional
        The article's mentions this map draws no marker for, by reason (:func:`geo.maps.coverage.not_drawn`):
        listed in the legend.

    Returns
    -------
    folium.Map
        Displays inline in a notebook; ``.save(path)`` writes one HTML file.
    """
    bounds = layer_bounds(results)
    outlines = _tiles(tiles) == "none"
    fmap = new_map(title, subtitle, tiles)
    if outlines:
        add_outlines(fmap, bounds)
    for result in results:
        add_layer(fmap, result)
    shown = None
    if places is not None:
        shown = places_in(places, bounds)
        add_mentions(fmap, shown)
    add_legend(fmap, results, shown, note, outlines, not_drawn)
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)
    fit(fmap, bounds)
    return fmap
