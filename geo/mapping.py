"""Draw built layers and the article's places as an interactive Folium map.

Everything from the article or a layer file that reaches HTML goes through
:func:`escape` (popups and tooltips are inserted into JavaScript template
literals by Folium, so backticks, ``$`` and backslashes are escaped too).
"""

from __future__ import annotations

import html
import json
import math

import folium
import geopandas as gpd
from branca.element import MacroElement, Template
from folium import plugins

from . import borders, settings

STATUS_DASH = {"rail": None, "construction": "10 8", "planned": "2 8"}
SCHEMATIC_DASH = "1 10"
CROSSING_ICONS = {"rail": ("train", "darkpurple"), "road": ("car", "purple")}
ROLE_RADIUS = {"terminus": 6, "junction": 5, "port": 5, "border": 5, "anchor": 6, "station": 4}
MENTION_COLOR = "#e08214"

#: Base maps: key -> (xyzservices provider name, label in the layer control).
TILES = {
    "light": ("Esri.WorldGrayCanvas", "Light grey (Esri)"),
    "osm": ("OpenStreetMap.Mapnik", "OpenStreetMap"),
}
OPENRAILWAYMAP = (
    "https://{s}.tiles.openrailwaymap.org/standard/{z}/{x}/{y}.png",
    'Map style: &copy; <a href="https://www.openrailwaymap.org/">OpenRailwayMap</a> (CC-BY-SA); '
    "data &copy; OpenStreetMap contributors",
)


def escape(text) -> str:
    """Escape untrusted text for HTML that Folium puts inside a JS template literal."""
    out = html.escape("" if text is None else str(text), quote=True)
    return out.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;").replace("{", "&#123;").replace("}", "&#125;")


def _popup(body: str, width: int = 360) -> folium.Popup:
    return folium.Popup(body, max_width=width)


def _tooltip(text: str, **kwargs) -> folium.Tooltip:
    return folium.Tooltip(escape(text), **kwargs)


def new_map(title: str, subtitle: str = "", tiles: str | None = None) -> folium.Map:
    """An empty map with base layers, scale bar, fullscreen, title and data attribution.

    Parameters
    ----------
    tiles : str
        ``"light"`` (default), ``"osm"`` or ``"none"`` (country
        outlines from Natural Earth, no tile server).
    """
    tiles = (tiles or settings.default_tiles).lower()
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_start=4, location=(50, 80))
    if tiles != "none":
        order = [tiles] + [t for t in TILES if t != tiles]
        for key in order:
            provider, name = TILES[key]
            folium.TileLayer(provider, name=name, control=True).add_to(fmap)
        folium.TileLayer(OPENRAILWAYMAP[0], attr=OPENRAILWAYMAP[1], name="OpenRailwayMap (rail overlay)",
                         overlay=True, show=False, max_zoom=19).add_to(fmap)
    plugins.Fullscreen(position="topleft").add_to(fmap)
    fmap.add_child(_Chrome(title, subtitle))
    return fmap


def add_outlines(fmap: folium.Map, bounds) -> None:
    """Draw Natural Earth country outlines around ``bounds`` (for ``--tiles none``)."""
    frame = borders.outline_frame(bounds)
    folium.GeoJson(
        frame[["name", "geometry"]].to_json(),
        name="Countries (Natural Earth)",
        style_function=lambda _: {"color": "#999", "weight": 1, "fillColor": "#f4f1ea", "fillOpacity": 1},
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        control=False,
    ).add_to(fmap)


def add_layer(fmap: folium.Map, result, show: bool = True) -> folium.FeatureGroup:
    """Draw one built layer (geo.corridors.LayerResult) as a toggleable feature group."""
    layer = result.layer
    group = folium.FeatureGroup(name=f"{escape(layer.title)} — {escape(result.source)}", show=show)
    frame = result.frame
    for row in frame[frame["kind"].isin(["segment", "border"])].itertuples():
        _draw_line(group, layer, row, result)
    for row in frame[frame["kind"] == "station"].itertuples():
        _draw_station(group, layer, row)
    for row in frame[frame["kind"] == "crossing"].itertuples():
        _draw_crossing(group, layer, row)
    group.add_to(fmap)
    return group


def _draw_line(group, layer, row, result) -> None:
    schematic = row.source == "schematic"
    dash = SCHEMATIC_DASH if schematic else STATUS_DASH.get(getattr(row, "status", "rail") or "rail")
    coords = _line_coords(row.geometry)
    facts = [f"<b>{escape(row.name)}</b>", escape(layer.title)]
    if row.kind == "segment":
        facts.append(f"Status: {escape(row.status)}")
        facts.append(f"Length: {row.length_km:,.0f} km (geodesic)")
        if schematic:
            facts.append(f"<i>Schematic</i>: straight line between stations ({escape(row.schematic_reason)})")
        if isinstance(row.note, str) and row.note:
            facts.append(escape(row.note))
    else:
        facts.append(f"Length: {row.length_km:,.0f} km")
    facts.append(f"Source: {escape(_source_label(row.source, result))}")
    for part in coords:
        folium.PolyLine(
            part, color=layer.color, weight=layer.weight if not schematic else max(2, layer.weight - 1),
            opacity=0.9, dash_array=dash, popup=_popup("<br>".join(facts)),
            tooltip=_tooltip(f"{row.name} ({'schematic' if schematic else row.source})"),
            class_name=f"cm-line cm-{row.kind}",
        ).add_to(group)


def _line_coords(geom) -> list[list[tuple[float, float]]]:
    parts = getattr(geom, "geoms", [geom])
    return [[(round(y, 5), round(x, 5)) for x, y in part.coords] for part in parts if not part.is_empty]


def _source_label(source: str, result) -> str:
    if source == "schematic":
        return "schematic (drawn through the stations, not from OSM data)"
    if source == "naturalearth":
        return "Natural Earth 1:10m boundaries"
    return f"{source}: {result.detail}"


def _draw_station(group, layer, row) -> None:
    body = [f"<b>{escape(row.name)}</b>"]
    if row.local_name and row.local_name != row.name:
        body.append(escape(row.local_name))
    body.append(f"{escape(layer.title)} · {escape(row.role)}")
    if isinstance(row.note, str) and row.note:
        body.append(escape(row.note))
    body.append(f"Position: {escape(row.position_source)}")
    folium.CircleMarker(
        (row.geometry.y, row.geometry.x), radius=ROLE_RADIUS.get(row.role, 4), color=layer.color,
        fill=True, fill_color="#ffffff", fill_opacity=1, weight=2, popup=_popup("<br>".join(body)),
        tooltip=_tooltip(row.name, permanent=True, direction="right",
                         class_name=f"cm-label cm-z{int(row.label_zoom)}"),
        class_name="cm-station",
    ).add_to(group)


def _draw_crossing(group, layer, row) -> None:
    icon, color = CROSSING_ICONS.get(row.mode, ("question", "gray"))
    body = [
        f"<b>{escape(row.name)}</b>",
        f"Russian side: {escape(row.name_ru)}",
        f"Azerbaijani side: {escape(row.name_az)}",
        f"Mode: {escape(row.mode)}",
        f"Capacity: {escape(row.capacity or 'not stated in the sources used here')}",
        f"Position: {escape(row.position_source)}{' (approximate)' if row.approximate else ''}",
    ]
    folium.Marker(
        (row.geometry.y, row.geometry.x), popup=_popup("<br>".join(body)),
        tooltip=_tooltip(f"{row.name} ({row.mode} crossing)"),
        icon=folium.Icon(icon=icon, prefix="fa", color=color),
    ).add_to(group)


def add_mentions(fmap: folium.Map, places: gpd.GeoDataFrame, name: str = "Places in the article") -> folium.FeatureGroup:
    """Draw the article's places: one marker each, sized by mention count, quoting its sentences."""
    group = folium.FeatureGroup(name=name, show=True)
    for row in places.itertuples():
        folium.CircleMarker(
            (row.geometry.y, row.geometry.x), radius=4 + 3 * math.sqrt(row.count), color=MENTION_COLOR,
            fill=True, fill_color=MENTION_COLOR, fill_opacity=0.55, weight=1,
            popup=_popup(mention_popup(row), width=420), tooltip=_tooltip(f"{row.name} ({row.count}×)"),
            class_name="cm-mention",
        ).add_to(group)
    group.add_to(fmap)
    return group


def mention_popup(row) -> str:
    """Popup HTML for one mentioned place: names, country, links, relation, quoted sentences."""
    head = f"<b>{escape(row.name)}</b>"
    if row.local_name and row.local_name != row.name:
        head += f" ({escape(row.local_name)})"
    lines = [head, f"Country: {escape(row.country or '—')} · mentioned {int(row.count)}×"]
    links = []
    if row.geonames_id:
        links.append(f'<a href="https://www.geonames.org/{int(row.geonames_id)}" target="_blank" rel="noopener">GeoNames</a>')
    lat, lon = round(row.geometry.y, 5), round(row.geometry.x, 5)
    links.append(f'<a href="https://www.openstreetmap.org/?mlat={lat}&amp;mlon={lon}#map=10/{lat}/{lon}" '
                 'target="_blank" rel="noopener">OpenStreetMap</a>')
    lines.append(" · ".join(links))
    relation = getattr(row, "relation", None)
    if isinstance(relation, str) and relation:
        lines.append(escape(relation[0].upper() + relation[1:]))
    quotes = []
    for sentence, start, end in list(row.quotes)[:5]:
        quotes.append(
            "<blockquote style='margin:4px 0;padding-left:6px;border-left:3px solid #e08214'>"
            f"{escape(sentence[:start])}<mark>{escape(sentence[start:end])}</mark>{escape(sentence[end:])}"
            "</blockquote>"
        )
    if len(row.quotes) > 5:
        quotes.append(f"<i>and {len(row.quotes) - 5} more sentences</i>")
    return "<br>".join(lines) + "".join(quotes)


def add_legend(fmap: folium.Map, results: list, places: gpd.GeoDataFrame | None, note: str = "") -> None:
    """A legend: colours, dashes and icons, and each layer's data source."""
    items = []
    for r in results:
        items.append(
            f"<div><span class='cm-swatch' style='background:{escape(r.layer.color)}'></span>"
            f"<b>{escape(r.layer.title)}</b><br><small>Source: {escape(_source_label(r.source, r))}</small></div>"
        )
    items.append("<div><span class='cm-swatch cm-dash'></span>under construction / planned</div>")
    items.append("<div><span class='cm-swatch cm-dot'></span>schematic: no OSM data, drawn through stations</div>")
    if any((r.frame["kind"] == "crossing").any() for r in results):
        items.append("<div><i class='fa fa-train'></i> rail crossing &nbsp; <i class='fa fa-car'></i> road crossing</div>")
    if places is not None:
        if len(places):
            items.append(f"<div><span class='cm-swatch cm-circle'></span>place named in the article (size: mentions)</div>")
        else:
            items.append("<div><i>No places found in the article.</i></div>")
    if note:
        items.append(f"<div><small>{escape(note)}</small></div>")
    items.append(f"<div class='cm-attrib'><small>Data: {settings.ATTRIBUTION}</small></div>")
    fmap.add_child(_Legend("".join(items)))


def fit(fmap: folium.Map, bounds) -> None:
    """Fit the map view to (minx, miny, maxx, maxy)."""
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([(miny, minx), (maxy, maxx)], padding=(20, 20))


class _Chrome(MacroElement):
    """Title box, data attribution and zoom-dependent station labels."""

    _template = Template("""
    {% macro header(this, kwargs) %}
    <style>
      .cm-title{background:rgba(255,255,255,.92);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:14px/1.3 system-ui,sans-serif;max-width:60vw}
      .cm-title h1{font-size:16px;margin:0}.cm-title p{margin:2px 0 0;font-size:12px;color:#444}
      .cm-legend{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:12px/1.4 system-ui,sans-serif;max-width:300px;max-height:45vh;overflow:auto}
      .cm-legend div{margin:3px 0}
      .cm-swatch{display:inline-block;width:22px;height:4px;margin-right:6px;vertical-align:middle}
      .cm-swatch.cm-dash{background:repeating-linear-gradient(90deg,#555 0 6px,transparent 6px 10px)}
      .cm-swatch.cm-dot{background:repeating-linear-gradient(90deg,#555 0 2px,transparent 2px 6px)}
      .cm-swatch.cm-circle{width:10px;height:10px;border-radius:50%;background:#e08214}
      .cm-label{background:transparent;border:0;box-shadow:none;font:600 11px system-ui,sans-serif;
        color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff}
      .cm-label::before{display:none}
      {% for z in range(5, 15) %}.leaflet-container:not(.cm-zoom-ge-{{z}}) .cm-z{{z}}{display:none}
      {% endfor %}
    </style>
    {% endmacro %}
    {% macro script(this, kwargs) %}
    (function(map){
      var title = L.control({position: 'topright'});
      title.onAdd = function(){ var d = L.DomUtil.create('div', 'cm-title');
        d.innerHTML = {{ this.title_html|tojson }}; return d; };
      title.addTo(map);
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      map.attributionControl.addAttribution({{ this.attribution|tojson }});
      function zoomClasses(){ var z = map.getZoom(), c = map.getContainer();
        for (var k = 0; k <= 20; k++) { c.classList.toggle('cm-zoom-ge-' + k, z >= k); } }
      map.on('zoomend', zoomClasses); map.whenReady(zoomClasses);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self._name = "CorridorMapChrome"
        self.title_html = f"<h1>{escape(title)}</h1>" + (f"<p>{escape(subtitle)}</p>" if subtitle else "")
        self.attribution = settings.ATTRIBUTION


class _Legend(MacroElement):
    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var legend = L.control({position: 'bottomright'});
      legend.onAdd = function(){ var d = L.DomUtil.create('div', 'cm-legend');
        d.innerHTML = {{ this.body|tojson }}; L.DomEvent.disableScrollPropagation(d); return d; };
      legend.addTo(map);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, body: str):
        super().__init__()
        self._name = "CorridorMapLegend"
        self.body = body


def build_map(results: list, places: gpd.GeoDataFrame | None = None, *, title: str, subtitle: str = "",
              tiles: str | None = None, note: str = "") -> folium.Map:
    """Draw layers and places on one map fitted to the layers.

    Parameters
    ----------
    results : list of geo.corridors.LayerResult
    places : GeoDataFrame, optional
        From :func:`geo.join.relate` or :func:`geo.places.mention_frame`; those
        inside the map's extent are drawn.

    Returns
    -------
    folium.Map
        Displays inline in a notebook; ``.save(path)`` writes one HTML file.
    """
    bounds = layer_bounds(results)
    fmap = new_map(title, subtitle, tiles)
    if (tiles or settings.default_tiles).lower() == "none":
        add_outlines(fmap, bounds)
    for result in results:
        add_layer(fmap, result)
    shown = None
    if places is not None:
        shown = places_in(places, bounds)
        add_mentions(fmap, shown)
    add_legend(fmap, results, shown, note)
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)
    fit(fmap, bounds)
    return fmap


def layer_bounds(results: list, pad_frac: float = 0.05) -> tuple[float, float, float, float]:
    """Bounds of all layers' features, padded by a fraction of their size."""
    minx, miny, maxx, maxy = gpd.GeoSeries(
        [g for r in results for g in r.frame.geometry if g is not None and not g.is_empty], crs=4326
    ).total_bounds
    dx, dy = max(maxx - minx, 0.2) * pad_frac, max(maxy - miny, 0.2) * pad_frac
    return (minx - dx, miny - dy, maxx + dx, maxy + dy)


def places_in(places: gpd.GeoDataFrame, bounds) -> gpd.GeoDataFrame:
    """The places inside ``bounds`` (minx, miny, maxx, maxy)."""
    if places.empty:
        return places
    minx, miny, maxx, maxy = bounds
    inside = places.geometry.x.between(minx, maxx) & places.geometry.y.between(miny, maxy)
    return places[inside]
