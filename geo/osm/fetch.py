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

Query text comes from :mod:`geo.osm.queries`; queries go through :mod:`geo.osm.overpass_http` (osmnx's endpoint, cache and rate
limit, bounded retries). Frames have :data:`geo.osm.schema.COLUMNS`, EPSG:4326.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from shapely.ops import linemerge

from .. import settings
from ..core.layers import Layer
from ..core.stations import layer_points
from ..errors import DataError, LayerError, QueryError, QueryTooLarge
from . import cache, overpass_http, split
from .elements import assemble_route, elements_to_frames
from .provenance import Provenance, overpass_provenance
from .queries import (
    boundary_query,
    corridor_pieces,
    crossings_query,
    named_route_query,
    query_selectors,
    relation_query,
    render_filter,
    ways_query,
)
from .schema import normalise

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

log = logging.getLogger(__name__)

Request = Callable[[str], dict[str, Any]]


# --------------------------------------------------------------------------- public API


def fetch_named_route(name: str, send: Request | None = None,
                      endpoints: Sequence[str] = ()) -> tuple[gpd.GeoDataFrame, str] | None:
    """The railway an article names without a layer, as OSM's route relation of that name.

    Returns
    -------
    (lines, detail) or None
        The relation's member ways merged into lines, and where they came from; None when
        no ``route=railway``/``route=train`` relation has that name.
    endpoints : sequence of str
        Overpass endpoints to ask, in order (default: :func:`geo.osm.overpass_http.endpoints`).

    Raises
    ------
    NetworkError
        When Overpass cannot be reached (see :func:`geo.osm.overpass_http.request`).
    DataError
        When its answer does not parse into frames (it is not cached).
    """
    session = _Session(send or functools.partial(overpass_http.request, urls=endpoints))
    elements = session(named_route_query(name))
    lines, _ = elements_to_frames(elements)
    if lines.empty:
        return None
    relations = [e for e in elements if e.get("type") == "relation"]
    top: dict[str, Any] = relations[0] if relations else {"id": None, "tags": {"name": name}}
    rel_name = (top.get("tags") or {}).get("name", name)
    route = assemble_route(lines, top.get("id"), rel_name)
    note = f"route relation {top.get('id')} {rel_name!r}, found by the article's name {name!r}"
    return route, overpass_provenance(session.timestamps, note).detail



def fetch_layer(layer: Layer, area: BaseGeometry | None = None, refresh: bool = False,
                endpoints: Sequence[str] = ()) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Provenance]:
    """Fetch a layer's OSM data live from Overpass and cache it.

    Parameters
    ----------
    layer : Layer
    area : shapely geometry, optional
        Clip buffer around the stations: query pieces outside it are skipped.
    refresh : bool
        Send every query again instead of taking its cached answer. Without it,
        cached answers older than ``settings.cache_max_age_days`` are not taken.
    endpoints : sequence of str
        Overpass endpoints to ask, in order (default: :func:`geo.osm.overpass_http.endpoints`).

    Returns
    -------
    (lines, points, provenance)
        The detail reads "OpenStreetMap via Overpass, data as of <osm_base>, fetched <date>; ...";
        the data date is the oldest ``timestamp_osm_base`` of the answers.

    Raises
    ------
    NetworkError
        When Overpass cannot be reached after the retries.
    QueryError
        When Overpass refuses a query of the layer, or it stays too large
        after halving (:class:`QueryTooLarge`); the message names the layer,
        the selector and the fix.
    DataError
        When Overpass returns nothing for the layer's selectors, or an answer
        that does not parse into frames (it is not cached); the message names
        the layer.
    """
    send = functools.partial(overpass_http.request, urls=endpoints)
    session = _Session(_forget_answers(send, refresh, endpoints[0] if endpoints else None))
    try:
        lines, points, note = FETCHERS[layer.kind](layer, session, area)
    except QueryError as exc:
        raise type(exc)(refusal_message(layer, exc), exc.query, exc.server_text) from None
    except DataError as exc:  # a malformed answer, or no boundary: said with the layer
        raise DataError(f"{layer.id}: {exc.message}") from None
    if lines.empty:
        raise DataError(
            f"{layer.id}: Overpass returned no OSM lines for the layer's selectors ({note}): "
            f"check the [osm] table of {layer.path}"
        )
    provenance = overpass_provenance(session.timestamps, note)
    lines, points = normalise(lines), normalise(points)
    cache.write(layer, lines, points, provenance, session.queries)
    return lines, points, provenance


def _forget_answers(send: Request, refresh: bool, endpoint: str | None = None) -> Request:
    """``send``, after deleting the cached answer (from ``endpoint``) to the query when ``refresh`` or when it has
    expired."""
    def run(query: str) -> dict[str, Any]:
        path = overpass_http.cache_file(query, endpoint)
        try:
            age_days = (time.time() - path.stat().st_mtime) / 86400
        except OSError:
            age_days = None
        if age_days is not None and (refresh or age_days >= settings.cache_max_age_days):
            path.unlink(missing_ok=True)
        return send(query)

    return run


def refusal_message(layer: Layer, exc: QueryError) -> str:
    """``exc``'s message with the layer, the ``[osm]`` selectors in the refused query and the fix."""
    keys = query_selectors(layer.osm, exc.query)
    where = f"[osm] {', '.join(f'{k} = {v!r}' for k, v in keys)}" if keys else "[osm]"
    if isinstance(exc, QueryTooLarge):
        return (f"{layer.id}: {exc.message}; the query for {where} in {layer.path} is too large for this server: "
                "use one with more memory or time (--overpass-url), raise osmnx.settings.overpass_memory or "
                "requests_timeout, or build from --osm-dir")
    return f"{layer.id}: {exc.message}; fix {where} in {layer.path}"


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


def fetch_corridor(layer: Layer, run: Callable[[str], list[dict]], area: BaseGeometry | None = None,
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
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
            top: dict[str, Any] = relations[0] if relations else {"id": rel_id, "tags": {"name": name}}
            rel_name = (top.get("tags") or {}).get("name", name)
            route = assemble_route(lines, top.get("id"), rel_name)
            note = f"route relation {top.get('id')} {rel_name!r}: {len(lines)} member ways in {len(route)} parts"
            return route, elements_to_frames([])[1], note
        notes.append(f"route relation {rel_id or name!r} not found")
        log.warning("%s: %s; trying ways near the stations", layer.id, notes[-1])
    if osm.get("way_filter"):
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


def fetch_border(layer: Layer, run: Callable[[str], list[dict]], area: BaseGeometry | None = None,
                 ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """A border's shared boundary ways, its border control nodes and the ways crossing it (``area`` is
    not used: the boundary found first bounds the second query).

    Returns
    -------
    (lines, points, note)
    """
    osm = layer.osm
    boundary, _ = elements_to_frames(run(boundary_query(osm.get("boundary_filter", ""), layer.countries)))
    if boundary.empty:
        raise DataError(
            f"Overpass found no boundary ways shared by {' and '.join(layer.countries)} "
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
        pd.concat([normalise(boundary), normalise(crossing)], ignore_index=True),
        geometry="geometry",
        crs=4326,
    )
    note = f"{len(boundary)} boundary ways, {len(crossing)} crossing ways, {len(nodes)} border control nodes"
    return lines, nodes, note


#: Each layer kind's live fetch (see :mod:`geo.core.kinds`): ``(layer, run, area) -> (lines, points, note)``,
#: where ``run`` sends one Overpass query and returns its elements, and ``area`` bounds the query.
FETCHERS: dict[str, Callable[..., tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]]] = {
    "corridor": fetch_corridor,
    "border": fetch_border,
}
