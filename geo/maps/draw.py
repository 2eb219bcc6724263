"""Draw built layers and the article's places as an interactive Folium map.

Everything from the article or a layer file that reaches HTML goes through
:func:`escape`; popups and labels travel as JSON strings (:mod:`geo.maps.elements`).
Markers are inline HTML/SVG (no icon font), at least :data:`TAP_PX` wide to tap.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import folium
import geopandas as gpd
from branca.element import Figure
from folium import plugins
from folium.utilities import JsCode

from .. import settings
from ..core.kinds import kind_of
from ..core.names import fold, variant_key
from ..corridors.article_infra import LINE_KIND as INFRA_LINE
from ..corridors.article_infra import POINT_KIND as INFRA_POINT
from .areas import area_labels
from .basemap import KeepInside, add_basemap, basemap_area
from .border_fit import border_rows, opening_zoom, position_words, snap_crossings
from .bounds import layer_bounds, places_in
from .display import display_coords  # noqa: F401  (re-exported for notebooks)
from .elements import DivIcon, EncodedLine, FeatureGroup, Label, Marker, Popup, Spread, compact
from .legend import SCHEMATIC_WORDS, border_line_words, legend_html, result_source_words, source_words
from .naming import at_named_crossing, crossing_sides, label_key, with_article_names
from .page import LAYERS_OPEN_PX, Chrome, LegendControl, StoryView, slim
from .style import (
    CROSSING_ICONS,
    LABEL_PRIORITY,
    ROLE_RADIUS,
    SCHEMATIC_DASH,
    SCHEMATIC_OPACITY,
    STATUS_DASH,
    STATUS_LABEL,
    escape,
    icon_svg,
    label_zoom,
    pinned,
    slug,
    source_label,
)
from .view import opening_view

if TYPE_CHECKING:
    from ..core.layers import Layer
    from ..corridors.build import LayerResult

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
#: Smallest tap target for markers, in CSS pixels.
TAP_PX = 32


# --- the map -----------------------------------------------------------------

def new_map(title: str, subtitle: str = "", tiles: str | None = None) -> folium.Map:
    """An empty map with base layers, scale bar, fullscreen, title and data attribution.

    Parameters
    ----------
    tiles : str
        ``"light"`` (default), ``"osm"`` or ``"none"`` (an offline base map from Natural Earth,
        see :mod:`geo.maps.basemap`). The chosen base map is shown; the other stays one click
        away in the layer control, with an OpenRailwayMap overlay.
    """

    tiles = _tiles(tiles)
    fmap = folium.Map(tiles=None, control_scale=True, zoom_start=4, location=(50, 80),
                      zoom_snap=0.25)  # fractional zooms: the opening view fits the story, not the next power of two
    slim(fmap)
    if tiles != "none":
        for key, (provider, name) in TILES.items():
            folium.TileLayer(provider, name=name, control=True, show=key == tiles).add_to(fmap)
        folium.TileLayer(OPENRAILWAYMAP[0], attr=OPENRAILWAYMAP[1], name="OpenRailwayMap (rail overlay, online)",
                         overlay=True, show=False, max_zoom=19).add_to(fmap)
    plugins.Fullscreen(position="topleft").add_to(fmap)
    fmap.add_child(Chrome(title, subtitle))
    cast(Figure, fmap.get_root()).title = escape(title)  # the page's <title>: tabs, bookmarks, screen readers
    return fmap


def base_tiles(fmap: folium.Map) -> list[folium.TileLayer]:
    """The base tile layers of ``fmap`` (not overlays)."""
    return [child for child in fmap._children.values()
            if isinstance(child, folium.TileLayer) and not child.overlay]


def _tiles(tiles: str | None) -> str:
    tiles = (tiles or settings.default_tiles).lower()
    if tiles not in TILE_CHOICES:
        raise ValueError(f"unknown base map {tiles!r}: choose one of {', '.join(TILE_CHOICES)}")
    return tiles


def _marker(where, html: str, size: int, class_name: str) -> folium.Marker:
    """A point marker drawn as inline HTML in a box at least :data:`TAP_PX` wide (its tap target)."""
    box = max(TAP_PX, size)
    icon = DivIcon(html=html, icon_size=(box, box), icon_anchor=(box // 2, box // 2),
                          class_name=f"cm-marker {class_name}")
    return Marker(where, icon=icon)


def add_layer(fmap: folium.Map, result: LayerResult, show: bool = True, unlabelled: frozenset = frozenset(),
              spread: list | None = None, labels: set | None = None, sides: list | None = None
              ) -> folium.FeatureGroup:
    """Draw one built layer (geo.corridors.build.LayerResult) as a toggleable feature group.

    Station names in ``unlabelled`` (romanisation keys, :func:`geo.core.names.variant_key`) get no
    label of their own: an article place of that name is labelled instead; nor do stations at a
    crossing named after them (``sides``, :func:`geo.maps.naming.crossing_sides`). A label whose text
    is in ``labels`` (:func:`geo.maps.naming.label_key`) is not drawn again; drawn ones are added.
    Port and crossing markers are appended to ``spread`` (markers that spread apart when stacked,
    see :class:`geo.maps.elements.Spread`).
    """
    spread = [] if spread is None else spread
    labels = set() if labels is None else labels
    sides = crossing_sides([result]) if sides is None else sides
    layer = result.layer
    group = FeatureGroup(name=escape(layer.title), show=show)
    frame = result.frame
    for row in frame[frame["kind"].isin(["segment", "border"])].itertuples():
        _draw_line(group, layer, row, result)
    border = border_rows(frame)
    line_words = border_line_words(result) if len(border) else ""
    for row in snap_crossings(frame).loc[lambda f: f["kind"] == "crossing"].itertuples():
        spread.append(_draw_crossing(group, layer, row, labelled=_first(labels, row.name), line_words=line_words))
    for row in frame[frame["kind"] == "station"].itertuples():
        labelled = (variant_key(row.name) not in unlabelled and fold(row.name) not in unlabelled
                    and not at_named_crossing(row.name, row.geometry.y, row.geometry.x, sides))
        marker = _draw_station(group, layer, row, labelled=labelled and _first(labels, row.name))
        if row.role == "port":  # a DivIcon marker (stations are circle markers, which cannot be spread)
            spread.append(marker)
    for row in frame[frame["kind"].isin([INFRA_LINE, INFRA_POINT])].itertuples():
        marker = _draw_named_infrastructure(group, layer, row)
        if marker is not None:
            spread.append(marker)
    DRAWERS[layer.kind](group, layer, frame, labels)
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


def line_facts(layer: Layer, row: Any, result: LayerResult) -> list[str]:
    """Popup lines (escaped HTML) for one segment or border line: what it is, how long, and from where.

    A schematic leg says that its length is a straight line between stations, not the track.
    """
    facts = [f"<b>{escape(row.name)}</b>", escape(layer.title)]
    if row.kind == "segment":
        facts.append(f"Status: {escape(STATUS_LABEL.get(row.status, row.status))}")
        if row.source == "schematic":
            facts.append(f"<i>{SCHEMATIC_WORDS[0].upper() + SCHEMATIC_WORDS[1:]}</i>: {row.length_km:,.0f} km "
                         f"as the crow flies ({escape(row.schematic_reason)})")
        else:
            facts.append(f"Length: {row.length_km:,.0f} km of track (OpenStreetMap geometry, geodesic)")
        if isinstance(row.note, str) and row.note:
            facts.append(escape(row.note))
    else:
        facts.append(f"Length: {row.length_km:,.0f} km")
    facts.append(f"Source: {escape(row_source_words(row.source, result))}")
    return facts


def row_source_words(source: str, result: LayerResult) -> str:
    """Where one drawn line's data came from, in plain words (no paths, no counts)."""
    return source_words(source) if source in ("schematic", "naturalearth") else result_source_words(result)


def _draw_line(group, layer, row, result) -> None:
    schematic = row.source == "schematic"
    line = EncodedLine(row.geometry, **_line_style(layer, row), class_name=f"cm-line cm-{row.kind}")
    if line.empty:
        return
    line.add_child(Popup("<br>".join(line_facts(layer, row, result))))
    hover = f"{row.name} ({SCHEMATIC_WORDS if schematic else source_label(row.source, result, short=True)})"
    line.add_child(Label(escape(hover)))
    line.add_to(group)


def infrastructure_facts(row: Any) -> list[str]:
    """Popup lines (escaped HTML) for a line or crossing the article names without a layer."""
    ends = list(row.ends) if isinstance(row.ends, (list, tuple)) else []
    what = "line" if row.kind == INFRA_LINE else "crossing or bridge"
    facts = [f"<b>{escape(row.name)}</b>", f"Named in the article; no layer file or OSM route for this {what}"]
    if ends:
        facts.append("Between: " + escape(" – ".join(ends)))
    if row.kind == INFRA_LINE:
        facts.append(f"<i>{SCHEMATIC_WORDS[0].upper() + SCHEMATIC_WORDS[1:]}</i>: {row.length_km:,.0f} km as the crow "
                     f"flies ({escape(row.schematic_reason)})")
    facts.append(f"Source: {escape(source_label(row.source))}")
    return facts


def _draw_named_infrastructure(group, layer, row):
    """A named line as a labelled schematic line, a named crossing or bridge as a labelled point (its marker)."""
    popup = Popup("<br>".join(infrastructure_facts(row)))
    label = Label(escape(row.name), kind="crossing", priority=LABEL_PRIORITY["crossing"], gap=15,
                  class_name=f"cm-label-{slug(row.name)}")
    if row.kind == INFRA_LINE:
        line = EncodedLine(row.geometry, color=layer.color, weight=layer.weight, opacity=SCHEMATIC_OPACITY + 0.2,
                           dash_array=STATUS_DASH["planned"], class_name="cm-line cm-infrastructure-line")
        if line.empty:
            return None
        line.add_child(popup)
        line.add_child(Label(escape(f"{row.name} ({SCHEMATIC_WORDS})")))
        line.add_to(group)
        middle = row.geometry.interpolate(0.5, normalized=True)
        anchor = Marker((middle.y, middle.x), icon=DivIcon(html="", icon_size=(0, 0), class_name="cm-anchor"))
        anchor.add_child(label)
        anchor.add_to(group)
        return None
    html = f"<span class='cm-pin' style='background:{escape(layer.color)}'>{icon_svg('train', 13)}</span>"
    marker = _marker((row.geometry.y, row.geometry.x), html, 26, "cm-crossing cm-infrastructure-point")
    marker.add_child(popup)
    marker.add_child(label)
    return marker.add_to(group)


def _draw_station(group, layer, row, labelled: bool = True):
    body = [f"<b>{escape(row.name)}</b>"]
    if isinstance(row.local_name, str) and row.local_name and row.local_name != row.name:
        body.append(escape(row.local_name))
    body.append(f"{escape(layer.title)} · {escape(row.role)}")
    if isinstance(row.note, str) and row.note:
        body.append(escape(row.note))
    body.append(f"Position: {escape(row.position_source)}")
    where = (row.geometry.y, row.geometry.x)
    if row.role == "port":
        html = (f"<div class='cm-port-icon' style='color:{escape(layer.color)};border-color:{escape(layer.color)}'>"
                f"{icon_svg('anchor', 12)}</div>")
        marker = _marker(where, html, 18, "cm-port")
        gap: float = 11
    else:
        radius = ROLE_RADIUS.get(row.role, 3.5)
        marker = folium.CircleMarker(where, radius=radius, color=layer.color, fill=True, fill_color="#ffffff",
                                     fill_opacity=1, weight=2, class_name=f"cm-station cm-role-{slug(row.role)}")
        marker.options = compact(marker.options)
        gap = radius + 4
    marker.add_child(Popup("<br>".join(body)))
    if labelled:
        marker.add_child(Label(escape(row.name), kind="station", priority=LABEL_PRIORITY["station"], gap=gap,
                               zoom=label_zoom(row), class_name=f"cm-label-{slug(row.name)}"))
    return marker.add_to(group)


def _first(labels: set, name: str) -> bool:
    """True (and ``name`` noted in ``labels``) when no label of that text is on the map yet."""
    key = label_key(name)
    if key in labels:
        return False
    labels.add(key)
    return True


def _draw_crossing(group, layer, row, labelled: bool = True, line_words: str = "") -> folium.Marker:
    icon, color = CROSSING_ICONS.get(row.mode, ("question", "#575757"))
    body = [f"<b>{escape(row.name)}</b>"]
    if isinstance(row.side_names, str) and row.side_names:
        body.append(f"Names on each side: {escape(row.side_names)}")
    body += [
        f"Mode: {escape(row.mode)}",
        f"Capacity: {escape(row.capacity or 'not stated in the sources used here')}",
        f"Position: {escape(row.position_source)}{' (approximate)' if row.approximate else ''}",
    ]
    if not math.isnan(getattr(row, "true_lat", math.nan)):  # moved onto the border as drawn
        body.append(f"Drawn on the border line ({escape(line_words)}); true position "
                    f"{position_words(row.true_lat, row.true_lon)} (approximate)")
    html = f"<span class='cm-pin' style='background:{escape(color)}'>{icon_svg(icon, 13)}</span>"
    marker = _marker((row.geometry.y, row.geometry.x), html, 26, f"cm-crossing cm-crossing-{slug(row.mode)}")
    marker.add_child(Popup("<br>".join(body)))
    if labelled:
        marker.add_child(Label(escape(row.name), kind="crossing", priority=LABEL_PRIORITY["crossing"], gap=15,
                               class_name=f"cm-label-{slug(row.name)}"))
    marker.add_to(group)
    return marker


def _draw_nothing_more(group, layer, frame, labels: set | None = None) -> None:
    """A corridor's drawing is its features' (lines, stations, ports): nothing more."""


#: A border map names its two countries about this far from its crossings when it opens at
#: :data:`geo.settings.border_open_zoom` (about 90 px), and as many pixels away when it opens farther out.
COUNTRY_NAME_REACH_DEG = 0.03


def _draw_country_names(group, layer, frame, labels: set | None = None) -> None:
    """The two countries of a border map, named on each side of its crossings."""
    from .basemap import country_label_points

    crossings = frame[frame["kind"] == "crossing"]
    anchor = crossings if len(crossings) else frame[frame["kind"] == "border"]
    if not len(anchor) or not getattr(layer, "countries", None):
        return
    labels = set() if labels is None else labels
    near = anchor.geometry.union_all().centroid
    reach = COUNTRY_NAME_REACH_DEG * 2 ** (settings.border_open_zoom - opening_zoom(frame, near.y))  # the same pixels
    for name, point in country_label_points(layer.countries, near, reach_deg=reach, clear_deg=reach / 2):
        if not _first(labels, name):
            continue
        marker = Marker((point.y, point.x), icon=DivIcon(html="", icon_size=(0, 0),
                                                                      class_name="cm-anchor"))
        marker.add_child(Label(escape(name), kind="country", priority=LABEL_PRIORITY["country"], gap=0,
                               direction="center", class_name=f"cm-label-{slug(name)}"))
        marker.add_to(group)


#: What each layer kind's drawing adds to its features (see :mod:`geo.core.kinds`): ``(group, layer, frame)``.
DRAWERS = {
    "corridor": _draw_nothing_more,
    "border": _draw_country_names,
}


def mention_radius(count: int) -> float:
    """Marker radius in pixels: area grows with the number of mentions, capped."""
    return round(min(4 + 3 * math.sqrt(max(int(count), 1)), 18), 1)


def add_mentions(fmap: folium.Map, places: gpd.GeoDataFrame, name: str = "Places in the article",
                 spread: list | None = None, labels: set | None = None, sides: list | None = None
                 ) -> folium.FeatureGroup:
    """Draw the article's towns and sites (:func:`geo.maps.style.pinned`): a dot sized by mention count
    (appended to ``spread``), a label, and a popup quoting the sentences. Countries and regions get no
    circle: the legend lists them. A place at a crossing named after it (``sides``), or whose name is
    already in ``labels``, keeps its dot but gets no second label."""
    labels = set() if labels is None else labels
    sides = sides or []
    group = FeatureGroup(name=name, show=True)
    shown = pinned(places)
    markers = [] if spread is None else spread
    for row in shown.sort_values("count", ascending=False).itertuples():
        size = round(2 * mention_radius(row.count))
        html = f"<span class='cm-place-dot' style='width:{size}px;height:{size}px'></span>"
        marker = _marker((row.geometry.y, row.geometry.x), html, size, f"cm-mention cm-place-{slug(row.name)}")
        marker.options["zIndexOffset"] = 1000 + int(row.count)
        marker.add_child(Popup(mention_popup(row), max_width=420))
        if not at_named_crossing(row.name, row.geometry.y, row.geometry.x, sides) and _first(labels, row.name):
            marker.add_child(Label(escape(row.name), kind="place", priority=LABEL_PRIORITY["place"],
                                   gap=size / 2 + 4, class_name=f"cm-place-{slug(row.name)}"))
        marker.add_to(group)
        markers.append(marker)
    group.add_to(fmap)
    return group


def add_areas(fmap: folium.Map, labels: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
              name: str = "Countries, regions and seas in the article", seen: set | None = None
              ) -> folium.FeatureGroup | None:
    """Name the article's areas (:func:`geo.maps.areas.area_labels`): a label each, whose click opens
    the popup quoting the sentences; none whose text is already in ``seen``."""
    seen = set() if seen is None else seen
    labels = labels[[_first(seen, n) for n in labels["name"]]] if len(labels) else labels
    if not len(labels):
        return None
    group = FeatureGroup(name=name, show=True)
    for idx, label in labels.iterrows():
        row = next(places.loc[[idx]].itertuples())
        marker = Marker((label.geometry.y, label.geometry.x),
                        icon=DivIcon(html="", icon_size=(0, 0), class_name="cm-anchor"))
        marker.add_child(Popup(mention_popup(row), max_width=420))
        kind = "country" if label["kind"] == "country" else "area"
        marker.add_child(Label(escape(label["name"]), kind=kind, priority=LABEL_PRIORITY[kind], gap=0,
                               direction="center", class_name=f"cm-area-{label['kind']} cm-area-{slug(label['name'])}"))
        marker.add_to(group)
    group.add_to(fmap)
    return group


def mention_popup(row: Any) -> str:
    """Popup HTML for one mentioned place: names, country, links, relation, quoted sentences."""
    head = f"<b>{escape(row.name)}</b>"
    if isinstance(row.local_name, str) and row.local_name and row.local_name != row.name:
        head += f" ({escape(row.local_name)})"
    lines = [head, f"Country: {escape(row.country or '—')} · mentioned {int(row.count)}×"]
    if getattr(row, "set_by_hand", False) is True:
        lines.append("<i>Position set by hand (corrections file), not found by the geocoder</i>")
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
               outlines: bool = False, not_drawn: dict[str, list[str]] | None = None, title: str = "",
               subtitle: str = "", areas: bool = False) -> None:
    """A legend: colours, dashes and icons, each layer's data source, and the article's places not drawn
    (behind a button on phones, with the map's title)."""
    fmap.add_child(LegendControl(legend_html(results, places, note, outlines, not_drawn, areas), title, subtitle))


def build_map(results: list, places: gpd.GeoDataFrame | None = None, *, title: str, subtitle: str = "",
              tiles: str | None = None, note: str = "", not_drawn: dict[str, list[str]] | None = None) -> folium.Map:
    """Draw layers and places on one map that opens on the story (see :func:`geo.maps.view.opening_view`).

    Parameters
    ----------
    results : list of geo.corridors.build.LayerResult
    places : GeoDataFrame, optional
        From :func:`geo.corridors.relate.relate` or :func:`geo.text.mention_frame.mention_frame`; those
        inside the map's extent are drawn.
    tiles : str, optional
        ``light`` (default), ``osm`` or ``none`` (offline Natural Earth base map, no tile server).
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
    places = with_article_names(places, results)
    fmap = new_map(title, subtitle, tiles)
    shown = None if places is None else places_in(places, bounds)
    view = opening_view(results, shown)
    labels = area_labels(places, bounds)
    named = {str(iso).upper() for r in results if kind_of(r.layer).on_crossings
             for iso in (getattr(r.layer, "countries", None) or ())}  # border maps name their two countries
    unnamed = frozenset(labels.loc[labels["kind"] == "country", "country"].str.upper()) | named
    if outlines:
        add_basemap(fmap, bounds, unnamed=unnamed)
    else:  # the same base map, shown when the tiles do not load (offline, blocked tile server)
        add_basemap(fmap, bounds, unnamed=unnamed, fallback_for=base_tiles(fmap))
    drawn = frozenset() if shown is None or not len(shown) else frozenset(
        variant_key(n) for n in pinned(shown)["name"])
    spread: list = []
    seen: set = set()  # one label per text on a map
    sides = crossing_sides(results)
    for result in results:
        add_layer(fmap, result, unlabelled=drawn, spread=spread, labels=seen, sides=sides)
    if shown is not None:
        add_mentions(fmap, shown, spread=spread, labels=seen, sides=sides)
    areas = None
    if places is not None:
        named = {str(iso).upper() for r in results for iso in (getattr(r.layer, "countries", None) or ())}
        areas = add_areas(fmap, labels[~((labels["kind"] == "country") & labels["country"].str.upper().isin(named))],
                          places, seen=seen)
    if spread:
        Spread(spread).add_to(fmap)
    add_legend(fmap, results, shown, note, outlines, not_drawn, title, subtitle, areas=areas is not None)
    whole = "Show the whole line" if view.framed_on == "story" else "Show the whole map"
    fmap.add_child(StoryView(view.story, view.whole, view.max_zoom, whole))
    if outlines:  # after the opening view: Leaflet pans into new max bounds at once
        fmap.add_child(KeepInside(basemap_area(bounds)))
    folium.LayerControl(collapsed=JsCode(f"document.documentElement.clientWidth < {LAYERS_OPEN_PX}"),  # type: ignore[arg-type]  # folium renders a JsCode option as code; its hint says bool
                        position="topleft").add_to(fmap)
    return fmap
