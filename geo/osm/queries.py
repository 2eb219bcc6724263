"""Overpass QL text for a layer's live fetch (pure functions: selectors and polygons in, query text out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from shapely.geometry import LineString, Point, Polygon

from .. import geodesy, settings
from ..core.layers import Layer
from ..errors import LayerError
from . import overpass_http
from .schema import parse_filter

#: Railway ways that are not track (platforms, station areas) are left out of routes.
NOT_TRACK = '["railway"!~"^(platform|platform_edge|station|halt|stop)$"]'


def layer_queries(layer: Layer, points: Sequence[tuple[float, float]] | None = None) -> list[str]:
    """The Overpass queries a live fetch of ``layer`` starts with (for manifests and review): its kind's
    entry in :data:`QUERIES`.

    For a border, the second-stage query (around the boundary found by the
    first) is given with ``{poly}`` in place of its polygons.
    """
    return QUERIES[layer.kind](layer, points)


def border_queries(layer: Layer, points: Sequence[tuple[float, float]] | None = None) -> list[str]:
    """A border's queries: its countries' shared boundary, then the crossings near it (``{poly}``)."""
    osm = layer.osm
    return [boundary_query(osm.get("boundary_filter", ""), layer.countries),
            crossings_query(osm.get("crossing_node_filter", ""), osm.get("crossing_way_filters", []), None)]


def corridor_queries(layer: Layer, points: Sequence[tuple[float, float]] | None = None) -> list[str]:
    """A corridor's queries: its route relation, and its ways in pieces along ``points`` (its waypoints)."""
    osm = layer.osm
    out = []
    if osm.get("route_relation_name") or osm.get("route_relation_id"):
        out.append(relation_query(osm.get("route_relation_name"), osm.get("route_relation_id")))
    if osm.get("way_filter") and points:
        for piece in corridor_pieces(points, float(osm.get("query_buffer_km", 10)), settings.overpass_piece_km):
            out.append(ways_query(osm["way_filter"], piece))
    return out


def render_filter(selector: str) -> str:
    """An Overpass tag selector, re-rendered from its parsed parts.

    Raises
    ------
    LayerError
        When ``selector`` holds text that is not a ``["key"op"value"]`` selector.
    """
    parts = parse_filter(selector)
    out = "".join(f'["{k}"]' if op is None else f'["{k}"{op}"{v}"]' for k, op, v in parts)
    if re.sub(r"\s+", "", out) != re.sub(r"\s+", "", selector or ""):
        raise LayerError(f"Overpass selector {selector!r} is malformed: write it as [\"key\"=\"value\"][\"key\"~\"regex\"]")
    return out


def query_selectors(osm: dict, query: str) -> list[tuple[str, str]]:
    """The ``[osm]`` keys of a layer file (with their values) whose selectors appear in ``query``."""
    found = []
    for key, value in osm.items():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or not item.strip():
                continue
            try:
                text = quote(item) if key == "route_relation_name" else render_filter(item)
            except LayerError:
                continue
            if text in query:
                found.append((key, item))
    return found


def quote(text: str) -> str:
    """An Overpass QL string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def poly_string(polygon: Polygon) -> str:
    """``poly:`` coordinates ("lat lon lat lon ...", 6 decimals) of a polygon's exterior."""
    return " ".join(f"{y:.6f} {x:.6f}" for x, y in polygon.exterior.coords)


def relation_query(name: str | None = None, relation_id: int | None = None) -> str:
    """Member ways (with geometry) of a ``route=railway`` relation and its child routes."""
    if relation_id:
        top = f"rel({int(relation_id)})"
    elif name:
        top = f'rel["route"="railway"]["name"={quote(name)}]'
    else:
        raise ValueError("relation_query needs a relation name or id")
    return (
        f"{overpass_http.query_header()};"
        f"{top}->.top;"
        '(.top;rel(r.top)["route"="railway"];)->.route;'
        ".route out tags;"
        f'way(r.route)["railway"]{NOT_TRACK};'
        "out geom;"
    )


def named_route_query(name: str) -> str:
    """Member ways (with geometry) of the ``route=railway``/``route=train`` relations called ``name``.

    The name is matched against ``name``, ``name:en`` and ``alt_name``, ignoring case, with any
    dash for a dash ("Amur-Yakutsk Mainline" finds "Amur–Yakutsk Mainline").
    """
    words = [re.escape(w) for w in re.split(r"\s*[-–—]\s*|\s+", name.strip()) if w]
    pattern = "^" + "[-–— ]+".join(words) + "$"
    tops = "".join(f'rel["route"~"^(railway|train)$"][{quote(key)}~{quote(pattern)},i];'
                   for key in ("name", "name:en", "alt_name"))
    return (
        f"{overpass_http.query_header()};"
        f"({tops})->.top;"
        '(.top;rel(r.top)["route"~"^(railway|train)$"];)->.route;'
        ".route out tags;"
        f'way(r.route)["railway"]{NOT_TRACK};'
        "out geom;"
    )


def ways_query(way_filter: str, polygon: Polygon) -> str:
    """Ways matching ``way_filter`` inside ``polygon``, with geometry."""
    return f'{overpass_http.query_header()};way{render_filter(way_filter)}(poly:"{poly_string(polygon)}");out geom;'


def boundary_query(boundary_filter: str, countries: Sequence[str]) -> str:
    """Land ways shared by the boundary relations of two countries (``ISO3166-1`` codes)."""
    if len(countries) != 2:
        raise LayerError(f"a border needs two countries, not {list(countries)}")
    flt = render_filter(boundary_filter or '["boundary"="administrative"]["admin_level"="2"]')
    a, b = (c.upper() for c in countries)
    return (
        f"{overpass_http.query_header()};"
        f'rel{flt}["ISO3166-1"={quote(a)}]->.a;'
        f'rel{flt}["ISO3166-1"={quote(b)}]->.b;'
        "way(r.a)->.wa;way(r.b)->.wb;"
        'way.wa.wb["maritime"!="yes"];'
        "out geom;"
    )


def crossings_query(node_filter: str, way_filters: Sequence[str], polygon: Polygon | None) -> str:
    """Border control nodes and candidate crossing ways inside ``polygon`` (``{poly}`` when None)."""
    poly = "{poly}" if polygon is None else poly_string(polygon)
    parts = []
    if node_filter:
        parts.append(f'node{render_filter(node_filter)}(poly:"{poly}");')
    for flt in way_filters:
        parts.append(f'way{render_filter(flt)}(poly:"{poly}");')
    return f"{overpass_http.query_header()};({''.join(parts)});out geom;"


def corridor_pieces(points: Sequence[tuple[float, float]], buffer_km: float, piece_km: float) -> list[Polygon]:
    """Small polygons covering ``buffer_km`` around the line through ``points``.

    The line (densified along geodesics) is cut into pieces of at most
    ``piece_km``; each piece is buffered in an azimuthal equidistant
    projection centred on it, so each polygon stays small and accurate.

    Parameters
    ----------
    points : sequence of (lon, lat)
    buffer_km, piece_km : float
    """
    coords = geodesy.densify(points, step_km=min(10.0, piece_km / 2))
    pieces = []
    for chunk in geodesy.chunk_line(coords, piece_km):
        geom = LineString(chunk) if len(chunk) > 1 else Point(chunk[0])
        # vertices of a nearly straight piece are dropped; the buffer grows to cover them
        pieces.append(geodesy.buffer_km(geom, buffer_km, segment_km=0, simplify_m=200.0))
    return pieces


#: Each layer kind's Overpass queries (see :mod:`geo.core.kinds`): ``(layer, waypoints) -> query texts``.
QUERIES: dict[str, Callable[[Layer, Sequence[tuple[float, float]] | None], list[str]]] = {
    "corridor": corridor_queries,
    "border": border_queries,
}
