"""Turn a layer definition plus its OSM data into drawable features.

``build_layer`` is the step "layer file -> GeoDataFrame": one row per drawn
thing, with ``layer``, ``kind`` (segment, station, crossing, border),
``name`` and ``source`` (osm, snapshot, cache, schematic, naturalearth).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point
from shapely.ops import linemerge

from .. import progress
from ..core.layers import Layer
from ..core.names import fold
from ..core.stations import layer_points, station_point
from ..errors import QueryError
from ..geodesy import distance_to_line_km, geodesic_distance_km, geodesic_length_km, great_circle
from ..geonames import country_name
from ..osm.budget import network_budget
from ..osm.schema import apply_filter
from ..osm.source import LayerData, Source, data_source
from . import borders, route_cache

if TYPE_CHECKING:
    from ..core.layers import Segment

#: How far an OSM station node may be from the gazetteer point to be taken as the station.
STATION_MATCH_KM = 25.0
#: How far a computed border crossing may be from a named one to be merged with it.
CROSSING_MATCH_KM = 5.0


@dataclass
class LayerResult:
    """A built layer: its features and where its data came from."""

    layer: Layer
    frame: gpd.GeoDataFrame
    source: str
    detail: str
    warnings: list[str] = field(default_factory=list)
    network_failed: bool = False
    query_error: QueryError | None = None
    data_date: str | None = None  # the OSM data's date at its precision ("2026-04"), when known

    @property
    def length_km(self) -> float:
        """Total corridor length (sum of its segments), km."""
        seg = self.frame[self.frame["kind"] == "segment"]
        return float(seg["length_km"].sum()) if len(seg) else 0.0


def _match_osm_station(station, lon: float, lat: float, points: gpd.GeoDataFrame):
    """The OSM station node for a layer station: same name, nearest, within STATION_MATCH_KM."""
    if points.empty or "name" not in points:
        return None
    wanted = {fold(station.name), fold(station.local_name)} - {""}
    names = points["name"].fillna("").map(fold)
    is_station = points["railway"].isin(["station", "halt"]) if "railway" in points else True
    hits = points[is_station & names.map(lambda n: any(n == w or n.startswith(w + " ") for w in wanted))]
    best = _nearest(lon, lat, hits, STATION_MATCH_KM)
    return None if best is None else hits.iloc[best]


def station_frame(layer: Layer, points: gpd.GeoDataFrame | None = None, source: str = "osm") -> gpd.GeoDataFrame:
    """One row per layer station, placed at its OSM node when the data has it, else its gazetteer point."""
    rows = []
    for station in layer.stations:
        lon, lat, position_source = station_point(station, layer)
        node = _match_osm_station(station, lon, lat, points) if points is not None else None
        osm_id = None
        row_source = "gazetteer"
        if node is not None:
            lon, lat = node.geometry.x, node.geometry.y
            osm_id = int(node["osm_id"]) if pd.notna(node["osm_id"]) else None
            position_source = f"OpenStreetMap node {osm_id} ({node['name']})"
            row_source = source
        rows.append(dict(
            layer=layer.id, kind="station", name=station.name, local_name=station.local_name,
            country=station.country, role=station.role, note=station.note,
            geonames_id=station.geonames_id, osm_id=osm_id, position_source=position_source,
            source=row_source, label_zoom=station.label_zoom, geometry=Point(lon, lat),
        ))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def schematic_leg(a: tuple[float, float], b: tuple[float, float], facts: Segment, start: str) -> LineString:
    """A schematic leg from ``a`` to ``b`` (lon, lat): great circles through the segment's ``via`` points
    of the layer file (given from its ``from`` station), so that a leg between two coastal stations
    can stay on land."""
    via = [(lon, lat) for lat, lon in getattr(facts, "via", ()) or ()]
    if via and facts.start != start:
        via.reverse()
    points = [a, *via, b]
    coords: list = []
    for (lon1, lat1), (lon2, lat2) in zip(points[:-1], points[1:]):
        part = list(great_circle(lon1, lat1, lon2, lat2).coords)
        coords += part[1:] if coords else part
    return LineString(coords)


def corridor_frame(layer: Layer, data: LayerData, stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Route the corridor over its rail data; legs without rail are drawn schematically."""
    from . import routing  # networkx (~0.4 s to import): only when a layer is routed, not read from the cache

    lines = apply_filter(data.lines, layer.osm.get("way_filter", "")) if not data.lines.empty else data.lines
    network = routing.RailNetwork(routing.rail_graph(lines.geometry)) if not lines.empty else None
    waypoints = [(r.name, r.geometry.x, r.geometry.y) for r in stations.itertuples()]
    rows = []
    for (name_a, lon_a, lat_a), (name_b, lon_b, lat_b) in zip(waypoints[:-1], waypoints[1:]):
        facts = layer.segment(name_a, name_b)
        by_rail = facts.status != "ferry"
        leg = network.route((name_a, lon_a, lat_a), (name_b, lon_b, lat_b)) if network is not None and by_rail else None
        if leg is not None and leg.geometry is not None:
            geom, source, reason = leg.geometry, data.source, ""
            snaps = (leg.start_snap_km, leg.end_snap_km)
        else:
            geom, source = schematic_leg((lon_a, lat_a), (lon_b, lat_b), facts, name_a), "schematic"
            reason = (leg.reason if leg is not None else "a sea crossing: drawn as a straight line" if facts.status == "ferry"
                      else "no OSM rail data for this layer")
            snaps = (None, None)
        rows.append(dict(
            layer=layer.id, kind="segment", name=f"{name_a} – {name_b}", start=name_a, end=name_b,
            status=facts.status, note=facts.note, source=source, schematic_reason=reason,
            length_km=round(geodesic_length_km(geom), 1),
            snap_start_km=None if snaps[0] is None else round(snaps[0], 2),
            snap_end_km=None if snaps[1] is None else round(snaps[1], 2),
            geometry=geom,
        ))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _border_line(layer: Layer, data: LayerData):
    """The border as drawn: OSM boundary ways when the data has them, else Natural Earth."""
    if not data.lines.empty and "boundary" in data.lines.columns:
        ways = data.lines[data.lines["boundary"] == "administrative"]
        if len(ways):
            return linemerge(list(ways.geometry)), data.source
    return borders.shared_border(*layer.countries), "naturalearth"


def _crossing_points(border_line, data: LayerData) -> dict[str, gpd.GeoDataFrame]:
    """Where rail and road ways cross the border, and OSM border-control nodes near it, by mode."""
    lines = data.lines
    if "boundary" in lines.columns:
        lines = lines[lines["boundary"] != "administrative"]
    found = {}
    for mode, key, selector in (("rail", "railway", '["railway"="rail"]'),
                                ("road", "highway", '["highway"~"^(motorway|trunk|primary)$"]')):
        tagged = lines[lines[key].notna()] if key in lines.columns else lines.iloc[0:0]
        found[mode] = borders.line_crossings(border_line, apply_filter(tagged, selector))
    return found


def _border_control_nodes(border_line, data: LayerData, max_km: float = 2.0) -> gpd.GeoDataFrame:
    points = data.points
    if points.empty or "barrier" not in points.columns:
        return points.iloc[0:0]
    nodes = points[points["barrier"] == "border_control"]
    near = [distance_to_line_km(border_line, p.x, p.y) <= max_km for p in nodes.geometry]
    return nodes[near]


def border_frame(layer: Layer, data: LayerData) -> gpd.GeoDataFrame:
    """The shared border line and its crossings: the named ones, placed from the data where it has them.

    A named crossing takes the position of the nearest computed crossing of its mode
    (a way crossing the border line) or, failing that, of the nearest OSM
    ``barrier=border_control`` node, within ``CROSSING_MATCH_KM``; crossings the data
    shows that the layer file does not name are added.
    """
    border_line, line_source = _border_line(layer, data)
    rows = [dict(
        layer=layer.id, kind="border", name=layer.title, source=line_source,
        length_km=round(geodesic_length_km(border_line), 1), geometry=border_line,
    )]
    computed = _crossing_points(border_line, data)
    controls = _border_control_nodes(border_line, data)
    used: set[tuple[str, int]] = set()
    used_nodes: set[int] = set()
    for crossing in layer.crossings:
        lon, lat = crossing.lon, crossing.lat
        position_source, approximate, osm_ids, source = crossing.position_source, crossing.approximate, [], "layer file"
        found = computed[crossing.mode]
        best = _nearest(lon, lat, found, CROSSING_MATCH_KM)
        node = _nearest(lon, lat, controls, CROSSING_MATCH_KM, exclude=used_nodes) if best is None else None
        if best is not None:
            used.add((crossing.mode, best))
            point = found.geometry.iloc[best]
            lon, lat, osm_ids, approximate = point.x, point.y, found["osm_ids"].iloc[best], False
            position_source = f"computed: OSM ways {', '.join(map(str, osm_ids))} cross the border line"
            source = data.source
        elif node is not None:
            used_nodes.add(node)
            row = controls.iloc[node]
            lon, lat, approximate, source = row.geometry.x, row.geometry.y, False, data.source
            osm_ids = [int(row["osm_id"])] if pd.notna(row["osm_id"]) else []
            position_source = f"OpenStreetMap border control node {', '.join(map(str, osm_ids))}"
        rows.append(dict(
            layer=layer.id, kind="crossing", name=crossing.name, side_names=crossing.side_names(country_name),
            mode=crossing.mode, capacity=crossing.capacity, approximate=approximate,
            position_source=position_source, osm_ids=",".join(map(str, osm_ids)), source=source,
            geometry=Point(lon, lat),
        ))
    for mode, found in computed.items():
        for i, (point, osm_ids) in enumerate(zip(found.geometry, found["osm_ids"])):
            if (mode, i) not in used:
                rows.append(dict(
                    layer=layer.id, kind="crossing", name=f"{mode} crossing (OSM ways {', '.join(map(str, osm_ids))})",
                    side_names="", mode=mode, capacity="", approximate=False,
                    position_source="computed from OSM ways crossing the border line",
                    osm_ids=",".join(map(str, osm_ids)), source=data.source, geometry=point,
                ))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _nearest(lon: float, lat: float, frame: gpd.GeoDataFrame, max_km: float, exclude: AbstractSet[int] = frozenset()) -> int | None:
    """Row position of the point in ``frame`` nearest to (lon, lat) within ``max_km``, or None."""
    if frame.empty:
        return None
    dist = geodesic_distance_km(lon, lat, frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    for i in np.argsort(dist):
        if dist[i] > max_km:
            return None
        if int(i) not in exclude:
            return int(i)
    return None


def corridor_features(layer: Layer, data: LayerData) -> gpd.GeoDataFrame:
    """A corridor's features: its segments (OSM track or schematic legs) and its stations."""
    stations = station_frame(layer, data.points, data.source)
    frame = pd.concat([corridor_frame(layer, data, stations), stations], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


#: Each layer kind's features from its OSM data (see :mod:`geo.core.kinds`): ``(layer, data) -> frame``
#: with the feature columns (``layer``, ``kind``, ``name``, ``source``, ``geometry``...).
BUILDERS: dict[str, Callable[[Layer, LayerData], gpd.GeoDataFrame]] = {
    "corridor": corridor_features,
    "border": border_frame,
}


def layer_cache_key(layer: Layer, source: Source) -> str | None:
    """The key :func:`build_layer` caches the layer under (see :mod:`geo.corridors.route_cache`).

    None when its data cannot be identified before it is fetched (a live fetch, or none).
    """
    data_key = source.fingerprint(layer)
    return route_cache.route_key(layer, data_key) if data_key is not None else None


def build_layer(layer: Layer, source: Source | None = None, **source_options) -> LayerResult:
    """Build one layer's features from its data source.

    Parameters
    ----------
    layer : Layer
        From :func:`geo.core.layers.load_layer`.
    source : Source, optional
        Where its OSM data comes from (:mod:`geo.osm.source`); without it, the source
        :func:`geo.osm.source.data_source` makes of ``source_options`` (``osm_dir``, ``snapshot_dir``,
        ``offline``, ``refresh``, ...; none: live).

    Returns
    -------
    LayerResult
        Read back from :mod:`geo.corridors.route_cache` when the layer file and its input
        data are unchanged since it was last built (unless ``source.refresh``).
    """
    source = source or data_source(**source_options)
    key = layer_cache_key(layer, source)
    cached = route_cache.read(layer, key) if key is not None and not source.refresh else None
    if cached is not None:
        return LayerResult(layer, cached.frame.copy(), cached.source, cached.detail, list(cached.warnings),
                           data_date=cached.data_date)
    data = source.read(layer, layer_points(layer))
    frame = BUILDERS[layer.kind](layer, data)
    date = data.provenance.data_date.text if data.provenance.data_date is not None else None
    if key is not None and not data.network_failed and data.query_error is None:
        route_cache.write(layer, key, frame, data.source, data.detail, data.warnings, date)
    return LayerResult(layer, frame, data.source, data.detail, data.warnings, data.network_failed, data.query_error,
                       date)


def named_route_result(name: str, lines: gpd.GeoDataFrame, detail: str) -> LayerResult:
    """A layer for a railway the article names that has no layer file: OSM's route relation of that name.

    Parameters
    ----------
    name : str
        The name as the article gives it.
    lines : GeoDataFrame
        The relation's merged member ways (:func:`geo.osm.fetch.fetch_named_route`).
    detail : str
        Where the lines came from.
    """
    layer_id = "route-" + "-".join(fold(name).split())
    layer = Layer(id=layer_id, kind="corridor", title=name, subtitle="OpenStreetMap route relation",
                  description=f"Drawn from OpenStreetMap because the article names it and no layer file describes it: {detail}",
                  color="#4d4d4d", weight=3, path=Path(f"<OpenStreetMap: {name}>"), aliases=(name,))
    rows = [dict(layer=layer_id, kind="segment", name=name, start="", end="", status="rail", note="", source="osm",
                 schematic_reason="", length_km=round(geodesic_length_km(geom), 1), snap_start_km=None,
                 snap_end_km=None, geometry=geom) for geom in lines.geometry]
    return LayerResult(layer, gpd.GeoDataFrame(rows, geometry="geometry", crs=4326), "osm", detail)


def build_layers(layers: list[Layer], source: Source | None = None, **source_options) -> list[LayerResult]:
    """Build each layer from ``source`` (else :func:`geo.osm.source.data_source` of ``source_options``: ``osm_dir``,
    ``offline``, ``network_budget_s``...; see :func:`geo.corridors.build.build_layer`).

    Live fetches share one network time budget (the source's ``network_budget_s``, default
    ``settings.network_budget_s``; see :mod:`geo.osm.budget`). When a live fetch
    fails for want of a network or of time, the remaining layers are built
    offline (cache, then schematic) instead of each waiting out its own
    retries, and the failing layer's one warning says so.
    A query the server refuses concerns its layer alone: that layer is drawn
    schematically with the server's reason, the others are still fetched.

    Raises
    ------
    QueryError
        When a query was refused and no layer has any OSM data: there is
        nothing to draw but schematics, so the server's reason is the error.
    """
    results = []
    source = source or data_source(**source_options)
    with network_budget(getattr(source, "network_budget_s", None)):
        for layer in layers:
            progress.step(f"building layer {layer.id}")
            result = build_layer(layer, source)
            if result.network_failed and source.live:
                source = source.without_network()
                # its last warning is the network failure (geo.osm.source): one line with what follows from it
                result.warnings[-1] += ("; the remaining layers come from the cache or the bundled snapshot, "
                                            "or are drawn schematically")
            results.append(result)
    refused = [r.query_error for r in results if r.query_error is not None]
    if refused and all(r.source == "schematic" for r in results):
        raise refused[0]
    return results
