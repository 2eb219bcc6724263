"""The data-source chain as a user meets it: live, then cache, then schematic; and local extracts."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest

from geo import cli
from geo.osm import local as osmdata


@pytest.fixture(autouse=True)
def isolated(overpass_env):
    return overpass_env


def _sources(out, layer):
    features = json.loads((out / f"{layer}.geojson").read_text(encoding="utf-8"))["features"]
    return {f["properties"]["source"] for f in features if f["properties"]["kind"] == "segment"}


def test_live_then_cache_then_schematic(tmp_path, fake_overpass, capsys, no_bundle):
    # 1. online: the layer comes from (replayed) Overpass and is cached
    out = tmp_path / "live"
    assert cli.main(["build", "--layer", "bam", "--out", str(out), "--tiles", "none"]) == 0
    assert "bam: osm (OpenStreetMap via Overpass" in capsys.readouterr().out
    assert _sources(out, "bam") == {"osm"}
    # 2. the network goes down: the cache serves the same layer, no request is sent
    fake_overpass.script = [(504, {}, b"")] * 50
    sent = len(fake_overpass.queries)
    out = tmp_path / "cached"
    assert cli.main(["build", "--layer", "bam", "--out", str(out), "--tiles", "none"]) == 0
    assert "bam: cache" in capsys.readouterr().out
    assert _sources(out, "bam") == {"cache"} and len(fake_overpass.queries) == sent


def test_network_down_and_no_cache_falls_back_to_schematic_and_says_so(tmp_path, fake_overpass, capsys, no_bundle):
    fake_overpass.script = [(504, {}, b"")] * 50
    out = tmp_path / "out"
    assert cli.main(["build", "--layer", "bam", "--out", str(out), "--tiles", "none"]) == 0
    captured = capsys.readouterr()
    assert "corridormap: warning: bam:" in captured.err and "drawn schematically" in captured.err
    assert "Traceback" not in captured.err
    assert "bam: schematic" in captured.out
    assert _sources(out, "bam") == {"schematic"}
    assert "schematic" in (out / "bam.html").read_text(encoding="utf-8")


def _caucasus_subset(osm_dir, ids):
    ways, _ = osmdata.read_local(osm_dir)
    ways = ways[ways["osm_id"].isin(ids)].drop_duplicates("osm_id")
    return ways[["osm_id", "railway", "geometry"]].astype({"osm_id": "int64"}).reset_index(drop=True)


def _write_osm_xml(ways: gpd.GeoDataFrame, path) -> None:
    root = ET.Element("osm", version="0.6", generator="corridormap-test")
    node_ids: dict[tuple[float, float], int] = {}
    for geom in ways.geometry:
        for x, y in geom.coords:
            if (x, y) not in node_ids:
                node_ids[(x, y)] = len(node_ids) + 1
                ET.SubElement(root, "node", id=str(node_ids[(x, y)]), lat=str(y), lon=str(x), version="1")
    for osm_id, railway, geom in zip(ways["osm_id"], ways["railway"], ways.geometry):
        way = ET.SubElement(root, "way", id=str(osm_id), version="1")
        for xy in geom.coords:
            ET.SubElement(way, "nd", ref=str(node_ids[xy]))
        ET.SubElement(way, "tag", k="railway", v=railway)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


BORDER_WAYS = [304666833, 444749531]


def test_osm_xml_extract_is_read(tmp_path, osm_dir):
    ways = _caucasus_subset(osm_dir, BORDER_WAYS)
    folder = tmp_path / "extract"
    folder.mkdir()
    _write_osm_xml(ways, folder / "border.osm")
    lines, _ = osmdata.read_local(folder)
    assert sorted(int(i) for i in lines["osm_id"]) == sorted(BORDER_WAYS)
    assert set(lines["railway"]) == {"rail"}


def test_pbf_extract_is_read_and_finds_the_crossing(tmp_path, osm_dir, capsys):
    osmium = pytest.importorskip("osmium", reason="pyosmium writes the test PBF (pip install '.[test]')")
    ways = _caucasus_subset(osm_dir, BORDER_WAYS)
    folder = tmp_path / "extract"
    folder.mkdir()
    writer = osmium.SimpleWriter(str(folder / "border.osm.pbf"))
    node_ids: dict[tuple[float, float], int] = {}
    for geom in ways.geometry:
        for x, y in geom.coords:
            if (x, y) not in node_ids:
                node_ids[(x, y)] = len(node_ids) + 1
                writer.add_node(osmium.osm.mutable.Node(id=node_ids[(x, y)], location=(x, y), version=1))
    for osm_id, railway, geom in zip(ways["osm_id"], ways["railway"], ways.geometry):
        writer.add_way(osmium.osm.mutable.Way(id=int(osm_id), nodes=[node_ids[xy] for xy in geom.coords],
                                              tags={"railway": railway}, version=1))
    writer.close()
    lines, _ = osmdata.read_local(folder)
    assert sorted(int(i) for i in lines["osm_id"]) == sorted(BORDER_WAYS)
    out = tmp_path / "out"
    assert cli.main(["build", "--layer", "ru-az-border", "--osm-dir", str(folder), "--out", str(out), "--tiles", "none"]) == 0
    crossings = [f["properties"] for f in json.loads((out / "ru-az-border.geojson").read_text())["features"]
                 if f["properties"]["kind"] == "crossing"]
    rail = next(c for c in crossings if c["name"] == "Samur – Yalama")
    assert any(str(i) in rail["osm_ids"] for i in BORDER_WAYS)


def test_live_border_uses_osm_boundary_and_places_named_crossings_from_data(tmp_path, fake_overpass, capsys):
    """Online, the border is OSM's admin_level=2 line; crossings come from the ways that cross it."""
    out = tmp_path / "out"
    assert cli.main(["build", "--layer", "ru-az-border", "--out", str(out), "--tiles", "none"]) == 0
    features = json.loads((out / "ru-az-border.geojson").read_text(encoding="utf-8"))["features"]
    border = next(f["properties"] for f in features if f["properties"]["kind"] == "border")
    assert border["source"] == "osm"
    crossings = {f["properties"]["name"]: f for f in features if f["properties"]["kind"] == "crossing"}
    rail = crossings["Samur – Yalama"]["properties"]
    assert rail["source"] == "osm" and rail["position_source"].startswith("computed: OSM ways")
    # the replayed trunk road (way 7000000, at 48.47 E) crosses the border: a road crossing is computed there
    road = [f for f in crossings.values() if "7000000" in f["properties"]["osm_ids"]]
    assert len(road) == 1 and road[0]["properties"]["mode"] == "road"
    assert abs(road[0]["geometry"]["coordinates"][0] - 48.47) < 0.001
    # the named road checkpoints stay, from the layer file, marked approximate
    assert crossings["Yarag-Kazmalyar – Samur"]["properties"]["approximate"] is True


def test_geopackage_with_line_and_point_layers_is_read(tmp_path, osm_dir):
    ways = _caucasus_subset(osm_dir, BORDER_WAYS)
    _, stations = osmdata.read_local(osm_dir)
    stations = stations[stations["name"].isin(["Yalama", "Samur"])].drop_duplicates("osm_id")
    stations = stations[["osm_id", "name", "railway", "geometry"]].astype({"osm_id": "int64"})
    folder = tmp_path / "extract"
    folder.mkdir()
    ways.to_file(folder / "extract.gpkg", layer="rail", driver="GPKG")
    stations.to_file(folder / "extract.gpkg", layer="stations", driver="GPKG")
    lines, points = osmdata.read_local(folder)
    assert sorted(int(i) for i in lines["osm_id"]) == sorted(BORDER_WAYS)
    assert set(points["name"]) == {"Yalama", "Samur"}


def test_network_down_is_tried_once_per_build_not_once_per_layer(tmp_path, fake_overpass, capsys, no_bundle):
    fake_overpass.script = [(504, {}, b"")] * 50
    out = tmp_path / "out"
    assert cli.main(["build", "--out", str(out), "--tiles", "none"]) == 0
    err = capsys.readouterr().err
    from tests.conftest import RETRIES

    assert len(fake_overpass.queries) == RETRIES + 1  # the first layer's attempts, and no more
    warned = [line for line in err.splitlines() if line.startswith("corridormap: warning:")]
    assert len(warned) == 1 and re.match(r"corridormap: warning: [a-z-]+: Overpass \(", warned[0])
    assert warned[0].endswith("drawn schematically; the remaining layers come from the cache or the bundled snapshot, "
                              "or are drawn schematically")
    for layer in ("bam", "north-south", "ru-az-border"):
        assert _sources(out, layer) <= {"schematic"}
