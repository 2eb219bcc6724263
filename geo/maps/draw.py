"""Draw built layers and the article's places as an interactive Folium map.

Everything from the article or a layer file that reaches HTML goes through
:func:`escape` (popups and tooltips are inserted into JavaScript template
literals by Folium, so backticks, ``$`` and backslashes are escaped too).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata

import folium
import geopandas as gpd
import shapely
from branca.element import MacroElement, Template
from folium import plugins

from ..corridors import borders
from .. import settings

#: Dash pattern per segment status: in service solid, under construction dashed, planned short dashes.
STATUS_DASH = {"rail": None, "construction": "10 7", "planned": "3 7"}
#: In-service legs with no OSM geometry (drawn straight between stations) are dotted and faint.
SCHEMATIC_DASH = "1 7"
SCHEMATIC_OPACITY = 0.55
STATUS_LABEL = {"rail": "in service", "construction": "under construction", "planned": "planned"}
CROSSING_ICONS = {"rail": ("train", "darkpurple"), "road": ("car", "cadetblue")}
#: Labels of minor stations wait for this zoom at least, so the overview stays legible.
ROLE_RADIUS = {"terminus": 5, "junction": 4.5, "border": 4, "anchor": 5, "station": 3.5}
MENTION_COLOR = "#e08214"
MENTION_PANE = "cmMentions"
#: Mentions of whole corridors (feature class INFRA) are not pinned: their point would be arbitrary.
UNPINNED_CLASSES = ("INFRA",)

#: Display geometry: the zoom level the map must look exact at, and the error allowed there.
TARGET_ZOOM = 12
#: Douglas-Peucker tolerance, in screen pixels at TARGET_ZOOM (rounding adds at most a quarter pixel).
SIMPLIFY_PX = 0.5

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


def escape(text) -> str:
    """Escape untrusted text for HTML that Folium puts inside a JS template literal."""
    out = html.escape("" if text is None else str(text), quote=True)
    return out.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;").replace("{", "&#123;").replace("}", "&#125;")


def _popup(body: str, width: int = 360) -> folium.Popup:
    return folium.Popup(body, max_width=width)


def _tooltip(text: str, **kwargs) -> folium.Tooltip:
    return folium.Tooltip(escape(text), **kwargs)


def slug(text) -> str:
    """A CSS-class-safe ASCII slug of a name (``"Komsomolsk-on-Amur"`` -> ``"komsomolsk-on-amur"``)."""
    folded = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "place"


# --- display geometry --------------------------------------------------------

def display_tolerance(max_abs_lat: float, zoom: int = TARGET_ZOOM) -> tuple[float, int]:
    """(simplify tolerance in degrees, decimals to round to) for lines drawn at ``zoom``.

    One screen pixel at ``zoom`` spans ``360 / (256 * 2**zoom)`` degrees of
    longitude and ``cos(lat)`` times that of latitude (Web Mercator); the
    smaller, at the line's highest latitude, sets both numbers: the tolerance is
    :data:`SIMPLIFY_PX` of it and rounding moves a vertex at most a quarter of it.
    """
    px = 360.0 / (256 * 2 ** zoom) * math.cos(math.radians(min(abs(max_abs_lat), 85.0)))
    decimals = math.ceil(-math.log10(0.5 * px))
    return SIMPLIFY_PX * px, decimals


def display_geometry(geom, zoom: int = TARGET_ZOOM):
    """``geom`` simplified (topology-preserving) and rounded for display at ``zoom``.

    Returns
    -------
    (geometry, decimals)
        The simplified geometry and the number of decimals its coordinates need.
    """
    if geom is None or geom.is_empty:
        return geom, 6
    minx, miny, maxx, maxy = geom.bounds
    tolerance, decimals = display_tolerance(max(abs(miny), abs(maxy)), zoom)
    return shapely.simplify(geom, tolerance, preserve_topology=True), decimals


def display_coords(geom, zoom: int = TARGET_ZOOM) -> list[list[tuple[float, float]]]:
    """(lat, lon) lists, one per part, of a line simplified and rounded for ``zoom``."""
    simple, decimals = display_geometry(geom, zoom)
    parts = []
    for part in getattr(simple, "geoms", [simple]):
        if part.is_empty:
            continue
        coords: list[tuple[float, float]] = []
        for x, y in part.coords:
            point = (round(y, decimals), round(x, decimals))
            if not coords or coords[-1] != point:
                coords.append(point)
        if len(coords) > 1:
            parts.append(coords)
    return parts


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
    fmap.add_child(_Chrome(title, subtitle))
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
    """Draw one built layer (geo.corridors.LayerResult) as a toggleable feature group."""
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


def source_label(source: str, result=None, short: bool = False) -> str:
    """Where a feature's data came from, for legends and popups."""
    if source == "schematic":
        return "schematic" if short else "schematic (drawn through the stations, not from OSM data)"
    if source == "naturalearth":
        return "Natural Earth" if short else "Natural Earth 1:10m boundaries"
    if source in ("osm", "cache"):
        return "OpenStreetMap"
    if source == "snapshot":
        detail = getattr(result, "detail", "")
        return "OSM snapshot" if short or not detail else f"OSM snapshot ({detail})"
    if source == "gazetteer":
        return "GeoNames"
    return source


def label_zoom(row) -> int:
    """The zoom from which a station's name is shown (``label_zoom`` in its layer file)."""
    return int(row.label_zoom)


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
    if row.name_ru:
        body.append(f"Russian side: {escape(row.name_ru)}")
    if row.name_az:
        body.append(f"Azerbaijani side: {escape(row.name_az)}")
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


def pinned(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The places drawn as markers: all but mentions of whole corridors (:data:`UNPINNED_CLASSES`)."""
    if places is None or places.empty or "feature_class" not in places:
        return places
    return places[~places["feature_class"].isin(UNPINNED_CLASSES)]


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


# --- legend ------------------------------------------------------------------

def layer_sources(result) -> list[str]:
    """Plain-text source lines for one layer, per part (line, stations, border, crossings)."""
    frame = result.frame
    out = []
    if result.layer.kind == "border":
        if (frame["kind"] == "border").any():
            out.append("Border line: Natural Earth 1:10m")
        crossings = frame[frame["kind"] == "crossing"]
        if len(crossings):
            parts = []
            computed = crossings[crossings["source"] != "layer file"]
            if len(computed):
                parts.append(f"{len(computed)} computed from {source_label(result.source, result)} ways")
            if (crossings["source"] == "layer file").any():
                parts.append(f"{int((crossings['source'] == 'layer file').sum())} from the layer file")
            out.append("Crossings: " + ", ".join(parts))
        return out
    segments = frame[frame["kind"] == "segment"]
    if len(segments):
        schematic = segments[segments["source"] == "schematic"]
        if len(schematic) == len(segments):
            out.append("Line: schematic (no OSM data)")
        elif len(schematic):
            out.append(f"Line: {source_label(result.source, result)}; schematic for "
                       + ", ".join(schematic["name"]))
        else:
            out.append(f"Line: {source_label(result.source, result)}")
    stations = frame[frame["kind"] == "station"]
    if len(stations):
        from_osm = int((stations["source"] != "gazetteer").sum())
        parts = ([f"{from_osm} at OSM nodes"] if from_osm else []) + (
            [f"{len(stations) - from_osm} at GeoNames/layer-file points"] if from_osm < len(stations) else [])
        out.append("Stations: " + ", ".join(parts))
    return out


def _column(frame: gpd.GeoDataFrame, kind: str, column: str) -> list:
    """Values of ``column`` on the rows of ``kind`` (none when the frame lacks the column)."""
    return list(frame.loc[frame["kind"] == kind, column]) if column in frame else []


def _legend_line(style: dict, label: str) -> str:
    dash = f"stroke-dasharray:{style['dash_array']};" if style.get("dash_array") else ""
    svg = (f"<svg width='28' height='8' aria-hidden='true'><line x1='1' y1='4' x2='27' y2='4' "
           f"style='stroke:{escape(style['color'])};stroke-width:{style['weight']};stroke-opacity:{style['opacity']};{dash}'/></svg>")
    return f"<div class='cm-item'>{svg} {label}</div>"


def legend_html(results: list, places: gpd.GeoDataFrame | None, note: str = "", outlines: bool = False) -> str:
    """The legend's HTML: only the symbols this map uses, and each layer's data sources."""
    items = []
    styles_seen: set[tuple] = set()
    grey = {"color": "#555", "weight": 3, "opacity": 0.9}
    for r in results:
        lines = [f"<small>{escape(s)}</small>" for s in layer_sources(r)]
        items.append(f"<div class='cm-layer'><span class='cm-swatch' style='background:{escape(r.layer.color)}'></span>"
                     f"<b>{escape(r.layer.title)}</b><br>" + "<br>".join(lines) + "</div>")
        for row in r.frame[r.frame["kind"] == "segment"].itertuples():
            key = (row.status, row.source == "schematic" and row.status == "rail")
            styles_seen.add(key)
    for status in ("rail", "construction", "planned"):
        if (status, False) in styles_seen:
            items.append(_legend_line({**grey, "dash_array": STATUS_DASH[status]}, escape(STATUS_LABEL[status])))
    if ("rail", True) in styles_seen:
        items.append(_legend_line({**grey, "weight": 2, "opacity": SCHEMATIC_OPACITY, "dash_array": SCHEMATIC_DASH},
                                  "schematic: no OSM geometry, drawn between stations"))
    roles = {role for r in results for role in _column(r.frame, "station", "role")}
    if roles - {"port"}:
        items.append("<div class='cm-item'><span class='cm-dot'></span> station (names appear as you zoom in)</div>")
    if "port" in roles:
        items.append("<div class='cm-item'><span class='cm-port-icon cm-legend-port'><i class='fa fa-anchor'></i></span> port</div>")
    for mode in sorted({m for r in results for m in _column(r.frame, "crossing", "mode")}):
        icon, color = CROSSING_ICONS.get(mode, ("question", "gray"))
        items.append(f"<div class='cm-item'><span class='cm-pin cm-pin-{color}'><i class='fa fa-{icon}'></i></span> "
                     f"{escape(mode)} border crossing</div>")
    if outlines:
        items.append("<div class='cm-item'><small>Country outlines: Natural Earth 1:10m</small></div>")
    if places is not None:
        shown = pinned(places)
        if len(shown):
            items.append("<div class='cm-item'><span class='cm-circle'></span> place named in the article "
                         "(size: number of mentions; click for the sentences)</div>")
        elif not len(places) and not note:
            items.append("<div class='cm-item'><i>No place named in the article lies in this map's area.</i></div>")
        infra = places[~places.index.isin(shown.index)] if len(places) else places
        if "infra_layer" in infra:
            infra = infra[infra["infra_layer"].isin([r.layer.id for r in results])]
        if len(infra):
            named = ", ".join(f"{escape(r.name)} ({int(r.count)}×)" for r in infra.itertuples())
            items.append(f"<div class='cm-item'><small>Also named in the article: {named}</small></div>")
    if note:
        items.append(f"<div class='cm-item'><small>{escape(note)}</small></div>")
    items.append(f"<div class='cm-attrib'><small>Data: {settings.ATTRIBUTION}</small></div>")
    return "".join(items)


def add_legend(fmap: folium.Map, results: list, places: gpd.GeoDataFrame | None, note: str = "",
               outlines: bool = False) -> None:
    """A legend: colours, dashes and icons, and each layer's data source."""
    add_legend_box(fmap, legend_html(results, places, note, outlines))


def add_legend_box(fmap: folium.Map, body: str) -> None:
    """A legend box in the map's corner holding ``body`` (HTML whose text is already escaped)."""
    fmap.add_child(_Legend(body))


def fit(fmap: folium.Map, bounds) -> None:
    """Fit the map view to (minx, miny, maxx, maxy), keeping clear of the layer control and legend."""
    fmap.add_child(_Fit(bounds))


class _Fit(MacroElement):
    """fitBounds with padding for the controls, scaled to the map's size (so small embeds still fit)."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var s = map.getSize();
      map.fitBounds({{ this.bounds|tojson }}, {animate: false,
        paddingTopLeft: [Math.min(250, s.x * 0.22), Math.min(70, s.y * 0.1)],
        paddingBottomRight: [Math.min(300, s.x * 0.25), Math.min(30, s.y * 0.05)]});
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, bounds):
        super().__init__()
        self._name = "CorridorMapFit"
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.bounds = [[miny, minx], [maxy, maxx]]


class _Chrome(MacroElement):
    """Title box, data attribution and zoom-dependent station labels."""

    _template = Template("""
    {% macro header(this, kwargs) %}
    <style>
      .cm-title{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:14px/1.3 system-ui,sans-serif;max-width:min(60vw,520px)}
      .cm-title h1{font-size:16px;margin:0}.cm-title p{margin:2px 0 0;font-size:12px;color:#444}
      .cm-legend{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:12px/1.35 system-ui,sans-serif;max-width:300px;max-height:45vh;overflow:auto}
      .cm-legend div{margin:3px 0}.cm-legend small{color:#444}.cm-legend svg{vertical-align:middle}
      .cm-swatch{display:inline-block;width:22px;height:5px;margin-right:6px;vertical-align:middle;border-radius:2px}
      .cm-dot{display:inline-block;width:8px;height:8px;border:2px solid #555;border-radius:50%;background:#fff;
        vertical-align:middle;margin:0 8px 0 8px}
      .cm-circle{display:inline-block;width:12px;height:12px;border-radius:50%;background:rgba(224,130,20,.5);
        border:1.5px solid #e08214;vertical-align:middle;margin:0 7px}
      .cm-port-icon{box-sizing:border-box;width:16px;height:16px;border:2px solid #555;border-radius:50%;background:#fff;
        color:#555;font-size:8px;line-height:12px;text-align:center}
      .cm-legend-port{display:inline-block;vertical-align:middle;margin:0 5px}
      .cm-pin{display:inline-block;width:18px;height:18px;border-radius:50% 50% 50% 0;color:#fff;font-size:9px;
        line-height:18px;text-align:center;margin:0 4px;vertical-align:middle}
      .cm-pin-darkpurple{background:#5b396b}.cm-pin-cadetblue{background:#436978}.cm-pin-gray{background:#575757}
      .cm-quote{margin:4px 0;padding-left:6px;border-left:3px solid #e08214}
      .cm-label{background:transparent;border:0;box-shadow:none;padding:0 2px;font:600 11px system-ui,sans-serif;
        color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}
      .cm-label::before{display:none}
      {% for z in range(1, 19) %}.leaflet-container:not(.cm-zoom-ge-{{z}}) .cm-z{{z}}{display:none}
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
        d.setAttribute('role', 'region'); d.setAttribute('aria-label', 'Legend');
        d.innerHTML = {{ this.body|tojson }}; L.DomEvent.disableScrollPropagation(d);
        L.DomEvent.disableClickPropagation(d); return d; };
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
    tiles : str, optional
        ``light`` (default), ``osm`` or ``none`` (Natural Earth outlines, no tile server).

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
    add_legend(fmap, results, shown, note, outlines)
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


# --- text alternative and embedding -------------------------------------------

def describe(results: list, places: gpd.GeoDataFrame | None = None) -> str:
    """A plain-text description of a map, for screen readers and ``alt`` text."""
    sentences = []
    for r in results:
        frame = r.frame
        if r.layer.kind == "border":
            crossings = frame[frame["kind"] == "crossing"]
            named = ", ".join(f"{n} ({m})" for n, m in zip(crossings["name"], crossings["mode"]))
            length = frame.loc[frame["kind"] == "border", "length_km"].sum()
            sentences.append(f"The {r.layer.title} ({length:,.0f} km)"
                             + (f" with {len(crossings)} crossings: {named}." if len(crossings) else "."))
            continue
        stations = frame[frame["kind"] == "station"]
        segments = frame[frame["kind"] == "segment"]
        text = (f"The {r.layer.title} runs {r.length_km:,.0f} km"
                + (f" from {stations['name'].iloc[0]} to {stations['name'].iloc[-1]} through {len(stations)} stations"
                   if len(stations) > 1 else ""))
        unbuilt = segments[segments["status"].isin(["construction", "planned"])]
        if len(unbuilt):
            text += "; " + "; ".join(f"{row.name} is {STATUS_LABEL[row.status]} ({row.length_km:,.0f} km)"
                                     for row in unbuilt.itertuples())
        ports = stations.loc[stations["role"] == "port", "name"]
        if len(ports):
            text += "; ports: " + ", ".join(ports)
        sentences.append(text + ".")
    if places is not None and len(places):
        top = places.sort_values("count", ascending=False)
        sentences.append("Places named in the article: "
                         + ", ".join(f"{r.name} ({int(r.count)}×)" for r in top.itertuples()) + ".")
    return "Map. " + " ".join(sentences)


def embed_snippet(src: str, title: str, description: str, aspect: float = 0.7) -> str:
    """A responsive ``<iframe>`` snippet with a title and a screen-reader text alternative.

    Parameters
    ----------
    src : str
        URL (or relative path) of the map's HTML file as published.
    title : str
        The iframe's ``title`` attribute (announced by screen readers).
    description : str
        The text alternative (e.g. from :func:`describe`), hidden visually.
    aspect : float
        Height / width of the frame.
    """
    ident = f"cm-desc-{slug(src.rsplit('/', 1)[-1].rsplit('.', 1)[0])}"
    return (
        f'<figure class="corridormap-embed" style="margin:1em 0">\n'
        f'  <div style="position:relative;width:100%;height:0;padding-bottom:{aspect * 100:.1f}%;min-height:320px">\n'
        f'    <iframe src="{escape(src)}" title="{escape(title)}" aria-describedby="{ident}" loading="lazy"\n'
        f'      style="position:absolute;top:0;left:0;width:100%;height:100%;border:0" allowfullscreen></iframe>\n'
        f'  </div>\n'
        f'  <figcaption style="font:12px/1.4 system-ui,sans-serif;color:#555">{escape(title)}. '
        f'Data: &copy; OpenStreetMap contributors, GeoNames, Natural Earth.</figcaption>\n'
        f'  <p id="{ident}" style="position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;'
        f'clip:rect(0,0,0,0);white-space:nowrap;border:0">{escape(description)}</p>\n'
        f'</figure>\n'
    )


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def render_html(fmap: folium.Map) -> str:
    """The map as one HTML page, with Folium's random element ids renumbered in order.

    The same map always gives the same bytes, so a map rebuilt from a snapshot
    is identical to the published one and two builds can be diffed.
    """
    html = fmap.get_root().render()
    ids: dict[str, str] = {}
    return _ELEMENT_ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids):032x}"), html)
