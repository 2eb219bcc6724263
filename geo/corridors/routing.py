"""Route corridors over a rail network built from OSM ways.

Pure functions: lines in, graph out; graph and waypoints in, routed legs out.
Lengths are geodesic (WGS84 ellipsoid, :class:`pyproj.Geod`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point

from .. import settings
from ..geodesy import KM_PER_DEG, geodesic_distance_km


def _node(xy) -> tuple[float, float]:
    return (round(float(xy[0]), 6), round(float(xy[1]), 6))


def _line_parts(geom) -> Iterable[LineString]:
    if isinstance(geom, LineString):
        yield geom
    elif isinstance(geom, MultiLineString):
        yield from geom.geoms
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from _line_parts(part)


def rail_graph(lines: Iterable, *, join_gap_km: float | None = None) -> nx.Graph:
    """Build an undirected rail graph from line geometries.

    Nodes are vertex coordinates (lon, lat) rounded to 1e-6 degrees, so ways
    that share an OSM node share a graph node. Edges carry ``length_m``.
    Dangling line ends within ``join_gap_km`` of another part of the network
    are joined (gaps between separately traced lines), marked ``joined=True``.

    Parameters
    ----------
    lines : iterable of shapely LineString or MultiLineString
    join_gap_km : float, optional
        Default ``settings.join_gap_km``.
    """
    graph = nx.Graph()
    starts, ends = [], []
    for geom in lines:
        for part in _line_parts(geom):
            coords = [_node(c) for c in part.coords]
            for a, b in zip(coords[:-1], coords[1:]):
                if a != b:
                    starts.append(a)
                    ends.append(b)
    if not starts:
        return graph
    start_xy = np.array(starts)
    end_xy = np.array(ends)
    lengths = geodesic_distance_km(start_xy[:, 0], start_xy[:, 1], end_xy[:, 0], end_xy[:, 1]) * 1000.0
    graph.add_edges_from((s, e, {"length_m": float(w)}) for s, e, w in zip(starts, ends, lengths))
    _join_gaps(graph, settings.join_gap_km if join_gap_km is None else join_gap_km)
    return graph


def _join_gaps(graph: nx.Graph, gap_km: float) -> None:
    if gap_km <= 0:
        return
    component = {n: i for i, comp in enumerate(nx.connected_components(graph)) for n in comp}
    nodes = list(graph.nodes)
    tree = shapely.STRtree(shapely.points(np.array(nodes)))
    for end in [n for n in nodes if graph.degree(n) == 1]:
        radius = gap_km / (KM_PER_DEG * max(np.cos(np.radians(end[1])), 0.1))
        idx = tree.query(Point(end), predicate="dwithin", distance=radius)
        others = [nodes[i] for i in idx if component[nodes[i]] != component[end]]
        if not others:
            continue
        arr = np.array(others)
        dist = geodesic_distance_km(end[0], end[1], arr[:, 0], arr[:, 1])
        best = int(np.argmin(dist))
        if dist[best] <= gap_km:
            graph.add_edge(end, others[best], length_m=float(dist[best] * 1000.0), joined=True)


@dataclass(frozen=True)
class Snap:
    """Where a waypoint meets the rail network."""

    node: tuple[float, float]
    distance_km: float


@dataclass(frozen=True)
class Leg:
    """One routed (or unroutable) leg between consecutive waypoints."""

    start: str
    end: str
    geometry: LineString | None  # None when no rail path was found
    length_km: float
    start_snap_km: float | None
    end_snap_km: float | None
    reason: str = ""  # why the leg could not be routed


class RailNetwork:
    """A rail graph with a spatial index for snapping waypoints.

    Parameters
    ----------
    graph : networkx.Graph
        As built by :func:`rail_graph`.
    snap_limit_km : float, optional
        Refuse snaps farther than this (default ``settings.snap_limit_km``).
    """

    def __init__(self, graph: nx.Graph, snap_limit_km: float | None = None):
        self.graph = graph
        self.snap_limit_km = settings.snap_limit_km if snap_limit_km is None else snap_limit_km
        self.nodes = list(graph.nodes)
        self.component = {n: i for i, comp in enumerate(nx.connected_components(graph)) for n in comp}
        self.tree = shapely.STRtree(shapely.points(np.array(self.nodes))) if self.nodes else None

    def candidates(self, lon: float, lat: float) -> dict[int, Snap]:
        """Nearest node per connected component within the snap limit."""
        if self.tree is None:
            return {}
        radius = self.snap_limit_km / (KM_PER_DEG * max(np.cos(np.radians(lat)), 0.1))
        idx = self.tree.query(Point(lon, lat), predicate="dwithin", distance=radius)
        if len(idx) == 0:
            return {}
        arr = np.array([self.nodes[i] for i in idx])
        dist = geodesic_distance_km(lon, lat, arr[:, 0], arr[:, 1])
        best: dict[int, Snap] = {}
        for i, d in zip(idx, dist):
            node = self.nodes[i]
            comp = self.component[node]
            if d <= self.snap_limit_km and (comp not in best or d < best[comp].distance_km):
                best[comp] = Snap(node, float(d))
        return best

    def route(self, start: tuple[str, float, float], end: tuple[str, float, float]) -> Leg:
        """Shortest rail path between two named waypoints ``(name, lon, lat)``."""
        (name_a, lon_a, lat_a), (name_b, lon_b, lat_b) = start, end
        cands_a = self.candidates(lon_a, lat_a)
        cands_b = self.candidates(lon_b, lat_b)
        if not cands_a or not cands_b:
            missing = [n for n, c in ((name_a, cands_a), (name_b, cands_b)) if not c]
            return Leg(name_a, name_b, None, 0.0, None, None,
                       f"no rail within {self.snap_limit_km:g} km of {' and '.join(missing)}")
        shared = set(cands_a) & set(cands_b)
        if not shared:
            return Leg(name_a, name_b, None, 0.0, min(s.distance_km for s in cands_a.values()),
                       min(s.distance_km for s in cands_b.values()), "the rail data does not connect them")
        comp = min(shared, key=lambda c: cands_a[c].distance_km + cands_b[c].distance_km)
        snap_a, snap_b = cands_a[comp], cands_b[comp]
        path = nx.shortest_path(self.graph, snap_a.node, snap_b.node, weight="length_m")
        length = nx.path_weight(self.graph, path, weight="length_m") / 1000.0
        geom = LineString(path) if len(path) > 1 else None
        return Leg(name_a, name_b, geom, length, snap_a.distance_km, snap_b.distance_km,
                   "" if geom is not None else "both waypoints snap to the same rail node")


def route_waypoints(network: RailNetwork, waypoints: Sequence[tuple[str, float, float]]) -> list[Leg]:
    """Route each consecutive pair of ``(name, lon, lat)`` waypoints."""
    return [network.route(a, b) for a, b in zip(waypoints[:-1], waypoints[1:])]
