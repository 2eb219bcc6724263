"""Live OpenStreetMap data for a layer through Overpass, with a disk cache.

Three kinds of layer, three kinds of query (the selectors come from the
layer file's ``[osm]`` table):

- a corridor with ``route_relation_name`` (or ``route_relation_id``): the
  ``route=railway`` relation and its member ways with geometry (osmnx's
  ``features`` module cannot return route relations as lines, osmnx #654),
  assembled here with :func:`shapely.ops.linemerge`;
- a corridor with ``way_filter`` (or a relation that is not found): ways
  matching the filter within ``query_buffer_km`` of the station line, one
  ``poly:`` query per piece of that line (never one huge bounding box);
- a border (``kind = "border"``): the ways the two countries' admin_level=2
  boundary relations share, then ``barrier=border_control`` nodes and the
  rail and road ways near that line that cross it.

Queries go through :mod:`geo.overpass_api` (osmnx's endpoint, cache and rate
limit, bounded retries). Frames have :data:`geo.layercache.COLUMNS`, EPSG:4326.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.ops import linemerge

from . import cache as layercache, overpass_http as overpass_api, split
from .. import settings
from ..errors import DataError, LayerError, QueryError, QueryTooLarge
from ..corridors.layers import Layer
from .local import parse_filter

log = logging.getLogger(__name__)

GEOD = Geod(ellps="WGS84")
SOURCE = "overpass"
DETAIL_PREFIX = "OpenStreetMap via Overpass"
_DETAIL_TIME = re.compile(r"data as of (\S+?),")
_NOT_TRACK = '["railway"!~"^(platform|platform_edge|station|halt|stop)$"]'

Request = Callable[[str], dict[str, Any]]


# --------------------------------------------------------------------------- public API


def load_cached(layer: Layer) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str] | None:
    """The layer's data from the disk cache of earlier live fetches.

    Returns
    -------
    (lines, points, detail) or None
        None when the layer was never fetched (or its definition changed since).

    Raises
    ------
    DataError
        When the cache file is corrupt or truncated; it is deleted first, so
        the layer is fetched again.
    """
    return layercache.read(layer)


def fetch_layer(layer: Layer, area=None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """Fetch a layer's OSM data live from Overpass and cache it.

    Parameters
    ----------
    layer : Layer
    area : shapely geometry, optional
        Clip buffer around the stations: query pieces outside it are skipped.

    Returns
    -------
    (lines, points, detail)
        ``detail`` reads "OpenStreetMap via Overpass, data as of <osm_base>, fetched <date>; ...".

    Raises
    ------
    NetworkError
        When Overpass cannot be reached after the retries.
    QueryError
        When Overpass refuses a query of the layer, or it stays too large
        after halving (:class:`QueryTooLarge`); the message names the layer,
        the selector and the fix.
    DataError
        When Overpass returns nothing for the layer's selectors.
    """
    session = _Session(overpass_api.request)
    try:
        if layer.kind == "border":
            lines, points, note = fetch_border(layer, session)
        else:
            lines, points, note = fetch_corridor(layer, session, area)
    except QueryError as exc:
        raise type(exc)(refusal_message(layer, exc), exc.query, exc.server_text) from None
    if lines.empty:
        raise DataError(
            f"{layer.id}: Overpass returned no OSM lines for the layer's selectors ({note}): "
            f"check the [osm] table of {layer.path}"
        )
    detail = make_detail(session.timestamps, note)
    lines, points = layercache.normalise(lines), layercache.normalise(points)
    layercache.write(layer, lines, points, detail, session.queries)
    return lines, points, detail


def layer_queries(layer: Layer, points: Sequence[tuple[float, float]] | None = None) -> list[str]:
    """The Overpass queries a live fetch of ``layer`` starts with (for manifests and review).

    For a border, the second-stage query (around the boundary found by the
    first) is given with ``{poly}`` in place of its polygons.
    """
    osm = layer.osm
    out = []
    if layer.kind == "border":
        out.append(boundary_query(osm.get("boundary_filter", ""), layer.countries))
        out.append(crossings_query(osm.get("crossing_node_filter", ""), osm.get("crossing_way_filters", []), None))
        return out
    if osm.get("route_relation_name") or osm.get("route_relation_id"):
        out.append(relation_query(osm.get("route_relation_name"), osm.get("route_relation_id")))
    if osm.get("way_filter") and points:
        for piece in corridor_pieces(points, float(osm.get("query_buffer_km", 10)), settings.overpass_piece_km):
            out.append(ways_query(osm["way_filter"], piece))
    return out


def osm_timestamp(detail: str) -> str | None:
    """The OSM data timestamp in a detail string made by :func:`make_detail`, or None."""
    match = _DETAIL_TIME.search(detail or "")
    return match.group(1) if match else None


def make_detail(timestamps: Sequence[str], note: str = "", fetched: datetime | None = None) -> str:
    """"OpenStreetMap via Overpass, data as of <oldest osm_base>, fetched <date>; <note>"."""
    fetched = fetched or datetime.now(timezone.utc)
    as_of = min(t for t in timestamps if t) if any(timestamps) else "unknown"
    detail = f"{DETAIL_PREFIX}, data as of {as_of}, fetched {fetched.date().isoformat()}"
    return f"{detail}; {note}" if note else detail


# --------------------------------------------------------------------------- fetchers


@dataclass
class _Session:
    """Sends queries and remembers them with the data timestamps of their answers."""

    send: Request
    queries: list[str] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)

    def __call__(self, query: str) -> list[dict[str, Any]]:
        data = self.send(query)
        self.queries.append(query)
        stamp = (data.get("osm3s") or {}).get("timestamp_osm_base")
        if stamp:
            self.timestamps.append(str(stamp))
        return data["elements"]


def fetch_corridor(layer: Layer, run: Callable[[str], list[dict]], area=None):
    """Lines of a corridor: its route relation, else ways near its stations.

    Returns
    -------
    (lines, points, note)
    """
    osm = layer.osm
    name, rel_id = osm.get("route_relation_name"), osm.get("route_relation_id")
    notes = []
    if name or rel_id:
        elements = run(relation_query(name, rel_id))
        lines, _ = elements_to_frames(elements)
        relations = [e for e in elements if e.get("type") == "relation"]
        if not lines.empty:
            top = relations[0] if relations else {"id": rel_id, "tags": {"name": name}}
            rel_name = (top.get("tags") or {}).get("name", name)
            route = assemble_route(lines, top.get("id"), rel_name)
            note = f"route relation {top.get('id')} {rel_name!r}: {len(lines)} member ways in {len(route)} parts"
            return route, elements_to_frames([])[1], note
        notes.append(f"route relation {rel_id or name!r} not found")
        log.warning("%s: %s; trying ways near the stations", layer.id, notes[-1])
    if osm.get("way_filter"):
        from ..corridors.stations import layer_points

        buffer_km = float(osm.get("query_buffer_km", 10))
        pieces = corridor_pieces(layer_points(layer), buffer_km, settings.overpass_piece_km)
        if area is not None:
            pieces = [p for p in pieces if p.intersects(area)]
        elements = []
        for piece in pieces:
            elements.extend(split.run_piece(run, lambda p: ways_query(osm["way_filter"], p), piece))
        lines, _ = elements_to_frames(elements)
        notes.append(f"{len(lines)} ways {render_filter(osm['way_filter'])} within {buffer_km:g} km of the stations")
        return lines, elements_to_frames([])[1], "; ".join(notes)
    if not notes:
        raise LayerError(f"{layer.path}: [osm] needs route_relation_name, route_relation_id or way_filter for a live fetch")
    return elements_to_frames([])[0], elements_to_frames([])[1], "; ".join(notes)


def fetch_border(layer: Layer, run: Callable[[str], list[dict]]):
    """A border's shared boundary ways, its border control nodes and the ways crossing it.

    Returns
    -------
    (lines, points, note)
    """
    osm = layer.osm
    boundary, _ = elements_to_frames(run(boundary_query(osm.get("boundary_filter", ""), layer.countries)))
    if boundary.empty:
        raise DataError(
            f"{layer.id}: Overpass found no boundary ways shared by {' and '.join(layer.countries)} "
            f"({render_filter(osm.get('boundary_filter', ''))}): check 'countries' and [osm] in {layer.path}"
        )
    border_line = linemerge(list(boundary.geometry))
    buffer_km = float(osm.get("query_buffer_km", 5))
    pieces = []
    for part in getattr(border_line, "geoms", [border_line]):
        simple = part.simplify(0.005)
        pieces.extend(corridor_pieces(list(simple.coords), buffer_km + 0.6, settings.overpass_piece_km))
    elements = []
    for piece in pieces:
        elements.extend(split.run_piece(
            run, lambda p: crossings_query(osm.get("crossing_node_filter", ""), osm.get("crossing_way_filters", []), p),
            piece))
    ways, nodes = elements_to_frames(elements)
    crossing = ways[ways.intersects(border_line)] if not ways.empty else ways
    lines = gpd.GeoDataFrame(
        pd.concat([layercache.normalise(boundary), layercache.normalise(crossing)], ignore_index=True),
        geometry="geometry",
        crs=4326,
    )
    note = f"{len(boundary)} boundary ways, {len(crossing)} crossing ways, {len(nodes)} border control nodes"
    return lines, nodes, note


def refusal_message(layer: Layer, exc: QueryError) -> str:
    """``exc``'s message with the layer, the ``[osm]`` selectors in the refused query and the fix."""
    keys = query_selectors(layer.osm, exc.query)
    where = f"[osm] {', '.join(f'{k} = {v!r}' for k, v in keys)}" if keys else "[osm]"
    if isinstance(exc, QueryTooLarge):
        return (f"{layer.id}: {exc.message}; the query for {where} in {layer.path} is too large for this server: "
                "use one with more memory or time (--overpass-url), raise osmnx.settings.overpass_memory or "
                "requests_timeout, or build from --osm-dir")
    return f"{layer.id}: {exc.message}; fix {where} in {layer.path}"


def query_selectors(osm: dict[str, Any], query: str) -> list[tuple[str, str]]:
    """The ``[osm]`` keys of a layer file (and their values) whose selectors appear in ``query``."""
    found = []
    for key, value in osm.items():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or not item.strip():
                continue
            text = quote(item) if key == "route_relation_name" else _rendered(item)
            if text and text in query:
                found.append((key, item))
    return found


def _rendered(selector: str) -> str:
    try:
        return render_filter(selector)
    except LayerError:
        return ""


# --------------------------------------------------------------------------- queries (pure)


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


def quote(text: str) -> str:
    """An Overpass QL string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def poly_string(polygon: Polygon) -> str:
    """``poly:`` coordinates ("lat lon lat lon ...", 6 decimals) of a polygon's exterior."""
    return " ".join(f"{y:.6f} {x:.6f}" for x, y in polygon.exterior.coords)


def relation_query(name: str | None = None, relation_id: int | None = None) -> str:
    """Member ways (with geometry) of a ``route=railway`` relation and its child routes."""
    top = f"rel({int(relation_id)})" if relation_id else f'rel["route"="railway"]["name"={quote(name)}]'
    return (
        f"{overpass_api.query_header()};"
        f"{top}->.top;"
        '(.top;rel(r.top)["route"="railway"];)->.route;'
        ".route out tags;"
        f'way(r.route)["railway"]{_NOT_TRACK};'
        "out geom;"
    )


def ways_query(way_filter: str, polygon: Polygon) -> str:
    """Ways matching ``way_filter`` inside ``polygon``, with geometry."""
    return f'{overpass_api.query_header()};way{render_filter(way_filter)}(poly:"{poly_string(polygon)}");out geom;'


def boundary_query(boundary_filter: str, countries: Sequence[str]) -> str:
    """Land ways shared by the boundary relations of two countries (``ISO3166-1`` codes)."""
    if len(countries) != 2:
        raise LayerError(f"a border needs two countries, not {list(countries)}")
    flt = render_filter(boundary_filter or '["boundary"="administrative"]["admin_level"="2"]')
    a, b = (c.upper() for c in countries)
    return (
        f"{overpass_api.query_header()};"
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
    return f"{overpass_api.query_header()};({''.join(parts)});out geom;"


# --------------------------------------------------------------------------- geometry (pure)


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
    coords = densify(points, step_km=min(10.0, piece_km / 2))
    pieces = []
    for chunk in chunk_line(coords, piece_km):
        geom = LineString(chunk) if len(chunk) > 1 else Point(chunk[0])
        pieces.append(buffer_km_local(geom, buffer_km))
    return pieces


def densify(points: Sequence[tuple[float, float]], step_km: float = 10.0) -> list[tuple[float, float]]:
    """Points along the geodesics between consecutive ``points``, at most ``step_km`` apart."""
    points = [(float(x), float(y)) for x, y in points]
    out = points[:1]
    for (x1, y1), (x2, y2) in zip(points[:-1], points[1:]):
        dist_km = GEOD.inv(x1, y1, x2, y2)[2] / 1000.0
        n = int(np.ceil(dist_km / step_km)) - 1
        if n > 0:
            out.extend(GEOD.npts(x1, y1, x2, y2, n))
        out.append((x2, y2))
    return out


def chunk_line(coords: Sequence[tuple[float, float]], piece_km: float) -> list[list[tuple[float, float]]]:
    """Cut a vertex list into runs at most ``piece_km`` long (geodesic), sharing end vertices."""
    if len(coords) < 2:
        return [list(coords)]
    arr = np.asarray(coords, dtype=float)
    steps = GEOD.inv(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])[2] / 1000.0
    chunks, current, length = [], [tuple(arr[0])], 0.0
    for xy, step in zip(arr[1:], steps):
        if length + step > piece_km and len(current) > 1:
            chunks.append(current)
            current, length = [current[-1]], 0.0
        current.append(tuple(xy))
        length += step
    chunks.append(current)
    return chunks


def buffer_km_local(geom, buffer_km: float) -> Polygon:
    """Buffer a (small) geometry by ``buffer_km`` in a local azimuthal equidistant projection."""
    centre = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs(4326, aeqd, always_xy=True)
    back = Transformer.from_crs(aeqd, 4326, always_xy=True)
    slack_m = 200.0  # vertices of a nearly straight piece are dropped; the buffer grows to cover them
    local = _reproject(geom, fwd).simplify(slack_m)
    return _reproject(local.buffer(buffer_km * 1000.0 + slack_m, quad_segs=4), back)


def _reproject(geom, transformer: Transformer):
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def elements_to_frames(elements: Sequence[dict[str, Any]], file: str = SOURCE) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Overpass ``out geom`` elements to (lines, points) frames; each element once.

    Ways become LineStrings (from their ``geometry``), tagged nodes Points;
    relations are skipped (their member ways come as ways).
    """
    lines, points, seen = [], [], set()
    for el in elements:
        kind, osm_id = el.get("type"), el.get("id")
        if (kind, osm_id) in seen:
            continue
        seen.add((kind, osm_id))
        tags = el.get("tags") or {}
        row = {
            "osm_id": osm_id,
            "name": tags.get("name"),
            "railway": tags.get("railway"),
            "usage": tags.get("usage"),
            "highway": tags.get("highway"),
            "barrier": tags.get("barrier"),
            "boundary": tags.get("boundary"),
            "file": file,
        }
        if kind == "way":
            coords = [(g["lon"], g["lat"]) for g in el.get("geometry") or [] if g]
            if len(coords) >= 2:
                lines.append({**row, "geometry": LineString(coords)})
        elif kind == "node" and tags and "lat" in el:
            points.append({**row, "geometry": Point(el["lon"], el["lat"])})
    return _frame(lines), _frame(points)


def _frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in layercache.COLUMNS}, geometry="geometry", crs=4326)
    return gpd.GeoDataFrame(rows, columns=layercache.COLUMNS, geometry="geometry", crs=4326)


def assemble_route(ways: gpd.GeoDataFrame, relation_id: int | None, name: str | None) -> gpd.GeoDataFrame:
    """Merge a route relation's member ways into as few lines as they allow.

    Returns
    -------
    GeoDataFrame
        One row per merged part, longest first, ``osm_id`` the relation id,
        ``railway``/``usage`` the commonest among the member ways.
    """
    geoms = list(ways.drop_duplicates("osm_id").geometry)
    merged = linemerge(geoms)
    parts = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
    parts.sort(key=lambda g: (-GEOD.geometry_length(g), g.coords[0]))

    def commonest(col: str):
        values = [v for v in ways[col] if v]
        return Counter(values).most_common(1)[0][0] if values else None

    rows = [
        {"osm_id": relation_id, "name": name, "railway": commonest("railway"), "usage": commonest("usage"),
         "file": f"{SOURCE}:relation/{relation_id}", "geometry": part}
        for part in parts
    ]
    return _frame(rows)
