"""Benchmark the local OSM path on the team's shared data.

For each corridor layer built from ``../shared/osm`` (env ``CORRIDORMAP_SHARED``):
time to load (``geo.osm.local.read_local``), to build the rail graph and route the
stations (``geo.corridors.routing``), and to simplify (shapely, preserve_topology, ~0.0005°),
with the routed lengths. Then a small ``.osm.pbf`` is made from the Caucasus
ways in a temporary folder (never committed) and read with each available
reader: pyogrio's OSM driver, pyosmium, and osmnx's XML reader for the same data.

Run: ``python benchmarks/osm_bench.py``
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import quoteattr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from geo.osm import local as osmdata  # noqa: E402
from geo.core.layers import load_layer  # noqa: E402
from geo.core.stations import layer_points  # noqa: E402
from geo.geodesy import geodesic_length_km
from geo.corridors.routing import RailNetwork, rail_graph, route_waypoints  # noqa: E402
from geo.geodesy import line_buffer_km  # noqa: E402

SIMPLIFY_DEG = 0.0005
CORRIDORS = ("bam", "north-south")


@contextmanager
def timer(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start


def shared_folder() -> Path:
    folder = Path(os.environ.get("CORRIDORMAP_SHARED") or REPO.parent / "shared")
    if not (folder / "osm").is_dir():
        sys.exit(f"shared data not found at {folder}: set CORRIDORMAP_SHARED")
    return folder


def bench_layer(layer_id: str, osm_dir: Path) -> None:
    layer = load_layer(layer_id)
    points = layer_points(layer)
    area = line_buffer_km(points, float(layer.osm.get("clip_buffer_km", 50)))
    t: dict[str, float] = {}
    osmdata._read_file.cache_clear()  # cold read
    with timer(t, "load"):
        lines, pts = osmdata.read_local(osm_dir, area)
    with timer(t, "graph"):
        network = RailNetwork(rail_graph(lines.geometry))
    waypoints = [(s.name, x, y) for s, (x, y) in zip(layer.stations, points)]
    with timer(t, "route"):
        legs = route_waypoints(network, waypoints)
    routed = [leg.geometry for leg in legs if leg.geometry is not None]
    vertices = int(shapely.get_num_coordinates(lines.geometry.values).sum())
    with timer(t, "simplify"):
        simple = shapely.simplify(lines.geometry.values, SIMPLIFY_DEG, preserve_topology=True)
        simple_routes = shapely.simplify(routed, SIMPLIFY_DEG, preserve_topology=True)
    after = int(shapely.get_num_coordinates(simple).sum())
    print(f"\n== {layer_id}: {len(lines)} lines ({vertices:,} vertices), {len(pts)} points, "
          f"graph {network.graph.number_of_nodes():,} nodes / {network.graph.number_of_edges():,} edges")
    print(f"   load {t['load']:.2f} s | graph {t['graph']:.2f} s | route {t['route']:.3f} s | "
          f"simplify {t['simplify']:.3f} s ({vertices:,} -> {after:,} vertices)")
    total = 0.0
    for leg, simple_leg in zip([l for l in legs if l.geometry is not None], simple_routes):
        total += leg.length_km
        print(f"   {leg.start:>20} -> {leg.end:<20} {leg.length_km:8.1f} km "
              f"(simplified {geodesic_length_km(simple_leg):8.1f} km)")
    for leg in legs:
        if leg.geometry is None:
            print(f"   {leg.start:>20} -> {leg.end:<20}   not routed: {leg.reason}")
    print(f"   routed total {total:,.1f} km")


# ---------------------------------------------------------------------- PBF readers


def write_osm_xml(ways: gpd.GeoDataFrame, path: Path) -> tuple[int, int]:
    """Write ways as OSM XML; vertices at the same coordinate share one node."""
    node_ids: dict[tuple[float, float], int] = {}
    way_rows = []
    for osm_id, railway, geom in zip(ways["osm_id"], ways["railway"], ways.geometry):
        refs = []
        for x, y in geom.coords:
            key = (round(x, 7), round(y, 7))
            refs.append(node_ids.setdefault(key, len(node_ids) + 1))
        way_rows.append((int(osm_id), railway, refs))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"corridormap-bench\">\n")
        for (x, y), nid in node_ids.items():
            fh.write(f'  <node id="{nid}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>\n')
        for wid, railway, refs in way_rows:
            fh.write(f'  <way id="{wid}" version="1">\n')
            fh.writelines(f'    <nd ref="{r}"/>\n' for r in refs)
            fh.write(f'    <tag k="railway" v={quoteattr(str(railway))}/>\n  </way>\n')
        fh.write("</osm>\n")
    return len(node_ids), len(way_rows)


def read_pyosmium(path: Path) -> gpd.GeoDataFrame:
    import osmium

    rows, geoms = [], []
    for obj in osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("railway")):
        if obj.is_way():
            geoms.append(shapely.linestrings([(n.lon, n.lat) for n in obj.nodes]))
            rows.append({"osm_id": obj.id, "railway": obj.tags.get("railway")})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def read_pyogrio_lines(path: Path) -> gpd.GeoDataFrame:
    import pyogrio

    return pyogrio.read_dataframe(path, layer="lines")


def bench_pbf(osm_dir: Path) -> None:
    ways = gpd.read_file(osm_dir / "rail" / "caucasus_rail_ways.geojson")
    tmp = Path(tempfile.mkdtemp(prefix="corridormap-bench-"))
    try:
        xml, pbf = tmp / "caucasus.osm", tmp / "caucasus.osm.pbf"
        t0 = time.perf_counter()
        n_nodes, n_ways = write_osm_xml(ways, xml)
        print(f"\n== PBF readers: {n_ways:,} Caucasus ways, {n_nodes:,} nodes "
              f"(OSM XML written in {time.perf_counter() - t0:.2f} s, {xml.stat().st_size / 1e6:.1f} MB)")
        made_by = None
        if shutil.which("osmium"):
            t0 = time.perf_counter()
            subprocess.run(["osmium", "cat", "--overwrite", "-o", str(pbf), str(xml)], check=True)
            made_by = f"osmium-tool cat, {time.perf_counter() - t0:.2f} s"
        else:
            try:
                import osmium

                t0 = time.perf_counter()
                with osmium.SimpleWriter(str(pbf)) as writer:
                    for obj in osmium.FileProcessor(str(xml)):
                        writer.add(obj)
                made_by = f"pyosmium SimpleWriter, {time.perf_counter() - t0:.2f} s"
            except ImportError:
                print("   no osmium-tool and no pyosmium: cannot make a PBF (apt install osmium-tool or pip install osmium)")
                return
        print(f"   PBF {pbf.stat().st_size / 1e6:.2f} MB ({made_by})")
        readers = [
            ("pyogrio OSM driver, layer 'lines'", lambda: read_pyogrio_lines(pbf)),
            ("geo.osm.local._read_pbf (pyogrio: lines+multilines+points)", lambda: osmdata._read_pbf(pbf)),
            ("pyosmium FileProcessor + locations", lambda: read_pyosmium(pbf)),
            ("osmnx features_from_xml on the .osm (geo.osm.local)", lambda: osmdata._read_osm_xml(xml)),
        ]
        for name, read in readers:
            try:
                t0 = time.perf_counter()
                frame = read()
                took = time.perf_counter() - t0
            except ImportError as exc:
                print(f"   {name:<58} unavailable ({exc})")
                continue
            n_lines = int(frame.geometry.geom_type.isin(["LineString", "MultiLineString"]).sum())
            km = float(sum(geodesic_length_km(g) for g in frame.geometry if g.geom_type != "Point"))
            print(f"   {name:<58} {took:6.2f} s  {n_lines:5d} lines  {km:8,.0f} km")
        src_km = float(sum(geodesic_length_km(g) for g in ways.geometry))
        print(f"   {'(source GeoJSON)':<58} {'':>8}  {len(ways):5d} lines  {src_km:8,.0f} km")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    osm = shared_folder() / "osm"
    print(f"corridormap OSM benchmark on {osm}")
    for layer_id in CORRIDORS:
        bench_layer(layer_id, osm)
    bench_pbf(osm)


if __name__ == "__main__":
    main()
