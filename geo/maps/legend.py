"""Words on and about a map: the legend's HTML, the text alternative, and the embed snippet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd

from .. import settings
from ..core.kinds import kind_of
from ..corridors.article_infra import LINE_KIND, POINT_KIND
from .border_fit import accuracy_words, border_accuracy_m, border_rows
from .coverage import not_drawn_html
from .style import (
    CROSSING_ICONS,
    SCHEMATIC_DASH,
    SCHEMATIC_OPACITY,
    STATUS_DASH,
    STATUS_LABEL,
    escape,
    icon_svg,
    pinned,
    slug,
)

if TYPE_CHECKING:
    from ..corridors.build import LayerResult

#: What a schematic leg is, in legends, popups and the text alternative.
SCHEMATIC_WORDS = "straight line between stations, not the track"


def length_split(frame: gpd.GeoDataFrame) -> tuple[float, float]:
    """(km of OSM track, km of schematic straight line) over a layer's segments."""
    segments = frame[frame["kind"] == "segment"]
    schematic = segments["source"] == "schematic"
    return float(segments.loc[~schematic, "length_km"].sum()), float(segments.loc[schematic, "length_km"].sum())


def length_words(frame: gpd.GeoDataFrame) -> str:
    """A layer's length told honestly, e.g. "1,189 km of OSM track + 2,725 km straight line between stations, not the track"."""
    track, straight = length_split(frame)
    if not straight:
        return f"{track:,.0f} km of OSM track"
    if not track:
        return f"{straight:,.0f} km {SCHEMATIC_WORDS}"
    return f"{track:,.0f} km of OSM track + {straight:,.0f} km {SCHEMATIC_WORDS}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def month_words(date: str | None) -> str:
    """"2026-04-17" or "2026-04" -> "April 2026"; "2026" -> "2026"; "" when unknown."""
    if not date:
        return ""
    parts = str(date).split("-")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0] if parts[0].isdigit() else ""


#: What each kind of data source is called in legends and popups, before its date.
SOURCE_KINDS = {
    "bundled": ("OpenStreetMap", "bundled with corridormap"),
    "snapshot": ("OpenStreetMap", "from a saved snapshot"),
    "extract": ("OpenStreetMap", "from a local extract"),
    "live": ("OpenStreetMap", "fetched from Overpass"),
    "naturalearth": ("Natural Earth 1:10m", ""),
    "schematic": ("No OpenStreetMap data: straight lines between stations", ""),
}


def source_words(kind: str, date: str | None = None) -> str:
    """A data source in plain words, e.g. ``("bundled", "2026-04")`` -> "OpenStreetMap, April 2026, bundled
    with corridormap". No paths, no counts; ``kind`` is a key of :data:`SOURCE_KINDS`."""
    name, how = SOURCE_KINDS.get(kind, (str(kind), ""))
    return ", ".join(part for part in (name, month_words(date), how) if part)


def source_kind(result: LayerResult) -> tuple[str, str | None]:
    """(kind for :func:`source_words`, data date) of one built layer, from its source and detail."""
    from ..osm.provenance import BUNDLED_DETAIL

    source, detail = getattr(result, "source", ""), str(getattr(result, "detail", "") or "")
    date = getattr(result, "data_date", None)
    if source == "snapshot":
        return ("bundled" if detail.startswith(BUNDLED_DETAIL) else "snapshot"), date
    if source in ("osm", "cache"):
        return ("extract" if detail.startswith("local OSM extract") else "live"), date
    return source, date


def result_source_words(result: LayerResult) -> str:
    """:func:`source_words` for one built layer."""
    return source_words(*source_kind(result))


def border_line_words(result: LayerResult) -> str:
    """What a border layer's line is and how accurate, in plain words: "Natural Earth 1:10m, accurate to about 1 km"."""
    rows = border_rows(result.frame)
    source = str(rows["source"].iloc[0]) if len(rows) else "naturalearth"
    name = source_words(source) if source in settings.border_scale else result_source_words(result)  # else OSM
    return f"{name}, accurate to {accuracy_words(border_accuracy_m(source))}"


def layer_sources(result: LayerResult) -> list[str]:
    """Plain-text source lines for one layer, per part (line, stations, border, crossings)."""
    frame = result.frame
    out = []
    if kind_of(result.layer).on_crossings:
        if (frame["kind"] == "border").any():
            out.append("Border: " + border_line_words(result))
        crossings = frame[frame["kind"] == "crossing"]
        if len(crossings):
            computed = (crossings["source"] != "layer file").any()
            by_hand = (crossings["source"] == "layer file").any()
            out.append("Crossings: " + "; ".join(
                ([f"where roads and railways cross the border ({result_source_words(result)})"] if computed else [])
                + (["placed from the layer file"] if by_hand else [])))
        return out
    named = frame[frame["kind"].isin([LINE_KIND, POINT_KIND])]
    if len(named):
        out.append("Schematic: straight lines between the places the article names as ends, not the track")
    segments = frame[frame["kind"] == "segment"]
    if len(segments):
        out.append("Length: " + length_words(frame))
        schematic = segments[segments["source"] == "schematic"]
        if len(schematic) == len(segments):
            out.append("Line: " + source_words("schematic"))
        elif len(schematic):
            out.append(f"Line: {result_source_words(result)}; straight lines for " + _folded(list(schematic["name"])))
        else:
            out.append(f"Line: {result_source_words(result)}")
    return out


def _folded(names: list[str], keep: int = 2) -> str:
    """A list told in full when short, else its first ``keep`` names and how many more."""
    if len(names) <= keep + 1:
        return ", ".join(names)
    return ", ".join(names[:keep]) + f" and {len(names) - keep} more legs"


def _column(frame: gpd.GeoDataFrame, kind: str, column: str) -> list:
    """Values of ``column`` on the rows of ``kind`` (none when the frame lacks the column)."""
    return list(frame.loc[frame["kind"] == kind, column]) if column in frame else []


def _legend_line(style: dict, label: str) -> str:
    dash = f"stroke-dasharray:{style['dash_array']};" if style.get("dash_array") else ""
    svg = (f"<svg width='28' height='8' aria-hidden='true'><line x1='1' y1='4' x2='27' y2='4' "
           f"style='stroke:{escape(style['color'])};stroke-width:{style['weight']};stroke-opacity:{style['opacity']};{dash}'/></svg>")
    return f"<div class='cm-item'>{svg} {label}</div>"


def _layer_items(results: list) -> tuple[list[str], set[tuple]]:
    """Each layer's swatch and data sources, and the (status, schematic) line styles its segments use."""
    items = []
    styles_seen: set[tuple] = set()
    for r in results:
        lines = [f"<small>{escape(s)}</small>" for s in layer_sources(r)]
        items.append(f"<div class='cm-layer'><span class='cm-swatch' style='background:{escape(r.layer.color)}'></span>"
                     f"<b>{escape(r.layer.title)}</b><br>" + "<br>".join(lines) + "</div>")
        for row in r.frame[r.frame["kind"] == "segment"].itertuples():
            key = (row.status, row.source == "schematic" and row.status == "rail")
            styles_seen.add(key)
    return items, styles_seen


def _line_items(styles_seen: set[tuple]) -> list[str]:
    """The legend lines for the line styles ``styles_seen`` (see :func:`_layer_items`)."""
    items = []
    grey = {"color": "#555", "weight": 3, "opacity": 0.9}
    for status in ("rail", "construction", "planned", "ferry"):
        if (status, False) in styles_seen:
            items.append(_legend_line({**grey, "dash_array": STATUS_DASH[status]}, escape(STATUS_LABEL[status])))
    if ("rail", True) in styles_seen:
        items.append(_legend_line({**grey, "weight": 2, "opacity": SCHEMATIC_OPACITY, "dash_array": SCHEMATIC_DASH},
                                  f"schematic: no OSM geometry; {SCHEMATIC_WORDS}"))
    return items


def _symbol_items(results: list) -> list[str]:
    """The legend items for the stations, ports and border crossings the layers of ``results`` draw."""
    items = []
    roles = {role for r in results for role in _column(r.frame, "station", "role")}
    if roles - {"port"}:
        items.append("<div class='cm-item'><span class='cm-dot'></span> station (names appear as you zoom in)</div>")
    if "port" in roles:
        items.append(f"<div class='cm-item'><span class='cm-port-icon cm-legend-port'>{icon_svg('anchor', 12)}</span> "
                     "port</div>")
    for mode in sorted({m for r in results for m in _column(r.frame, "crossing", "mode")}):
        icon, color = CROSSING_ICONS.get(mode, ("question", "#575757"))
        items.append(f"<div class='cm-item'><span class='cm-pin' style='background:{escape(color)}'>"
                     f"{icon_svg(icon, 12)}</span> {escape(mode)} border crossing</div>")
    return items


def _place_items(results: list, places: gpd.GeoDataFrame, note: str, areas: bool) -> list[str]:
    """The legend items for the places named in the article (pinned, area labels, infrastructure named)."""
    items = []
    shown = pinned(places)
    if len(shown):
        items.append("<div class='cm-item'><span class='cm-circle'></span> place named in the article "
                     "(size: number of mentions; click it or its name for the sentences)</div>")
    elif not len(places) and not note:
        items.append("<div class='cm-item'><i>No place named in the article lies in this map's area.</i></div>")
    if areas:
        items.append("<div class='cm-item'><span class='cm-legend-area'>Country</span> "
                     "<span class='cm-legend-area cm-legend-region'>region, sea</span> named in the article "
                     "(click the name for the sentences)</div>")
    infra = places[~places.index.isin(shown.index)] if len(places) else places
    if "infra_layer" in infra:
        infra = infra[infra["infra_layer"].isin([r.layer.id for r in results])]
    if len(infra):
        named = ", ".join(f"{escape(r.name)} ({int(r.count)}×)" for r in infra.itertuples())
        items.append(f"<div class='cm-item'><small>Also named in the article: {named}</small></div>")
    return items


def legend_html(results: list, places: gpd.GeoDataFrame | None, note: str = "", outlines: bool = False,
                not_drawn: dict[str, list[str]] | None = None, areas: bool = False) -> str:
    """The legend's HTML: only the symbols this map uses, each layer's data sources, and the places not drawn
    (``not_drawn``: reason -> names, see :func:`geo.maps.coverage.not_drawn`); ``areas`` when the map labels
    countries, regions or seas the article names."""
    items, styles_seen = _layer_items(results)
    items += _line_items(styles_seen)
    items += _symbol_items(results)
    if outlines:
        items.append("<div class='cm-item'><small>Base map: Natural Earth 1:10m land, lakes and borders</small></div>")
    if places is not None:
        items += _place_items(results, places, note, areas)
    if note:
        items.append(f"<div class='cm-item'><small>{escape(note)}</small></div>")
    if not_drawn:
        items.append(not_drawn_html(not_drawn))
    items.append(f"<div class='cm-attrib'><small>Data: {settings.ATTRIBUTION}</small></div>")
    return "".join(items)



def describe(results: list, places: gpd.GeoDataFrame | None = None) -> str:
    """A plain-text description of a map, for screen readers and ``alt`` text."""
    sentences = []
    for r in results:
        frame = r.frame
        if kind_of(r.layer).on_crossings:
            crossings = frame[frame["kind"] == "crossing"]
            named = ", ".join(f"{n} ({m})" for n, m in zip(crossings["name"], crossings["mode"]))
            sentences.append(f"The {r.layer.title}"  # no length: a border is not a route
                             + (f" with {len(crossings)} crossings: {named}." if len(crossings) else "."))
            continue
        named = frame[frame["kind"].isin([LINE_KIND, POINT_KIND])]
        if len(named):
            sentences.append("Named in the article and drawn between their ends: " + ", ".join(named["name"]) + ".")
            continue
        stations = frame[frame["kind"] == "station"]
        segments = frame[frame["kind"] == "segment"]
        text = (f"The {r.layer.title} runs"
                + (f" from {stations['name'].iloc[0]} to {stations['name'].iloc[-1]} through {len(stations)} stations"
                   if len(stations) > 1 else "")
                + (f": {length_words(frame)}" if len(segments) else ""))
        unbuilt = segments[segments["status"].isin(["construction", "planned"])] if len(segments) else segments
        if len(unbuilt):
            text += "; " + "; ".join(f"{row.name} is {STATUS_LABEL[row.status]} ({row.length_km:,.0f} km"
                                     + (", drawn as a straight line)" if row.source == "schematic" else ")")
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


def embed_snippet(src: str, title: str, description: str, aspect: float = 0.7, subtitle: str = "") -> str:
    """A responsive ``<iframe>`` snippet with a title and a screen-reader text alternative.

    The caption carries the title (and ``subtitle``): on phones the map hides its own title box.

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
        f'  <figcaption style="font:12px/1.4 system-ui,sans-serif;color:#555"><b>{escape(title)}</b>. '
        + (f'{escape(subtitle)}. ' if subtitle else '')
        + 'Data: &copy; OpenStreetMap contributors, GeoNames, Natural Earth.</figcaption>\n'
        f'  <p id="{ident}" style="position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;'
        f'clip:rect(0,0,0,0);white-space:nowrap;border:0">{escape(description)}</p>\n'
        f'</figure>\n'
    )
