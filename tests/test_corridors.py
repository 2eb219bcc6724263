"""Corridors routed over real OSM rail data: ../shared/osm, else the bundled snapshot (the ``osm_dir`` fixture)."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import shape
from shapely.ops import linemerge

from geo.core import layers
from geo.corridors import build as corridors
from geo import geodesy
from tests.conftest import need_shared


@pytest.fixture(scope="module")
def bam(osm_dir):
    return corridors.build_layer(layers.load_layer("bam"), osm_dir=osm_dir)


@pytest.fixture(scope="module")
def north_south(osm_dir):
    return corridors.build_layer(layers.load_layer("north-south"), osm_dir=osm_dir)


@pytest.fixture(scope="module")
def border(osm_dir):
    return corridors.build_layer(layers.load_layer("ru-az-border"), osm_dir=osm_dir)


def _segments(result):
    return result.frame[result.frame["kind"] == "segment"]


def test_bam_follows_the_osm_line(bam, osm_dir):
    segs = _segments(bam)
    assert (segs["source"] == "osm").all(), segs[["name", "source", "schematic_reason"]]
    line = linemerge(list(segs.geometry))
    # drawn as rail, not a straight line between the ends
    assert len(line.coords) > 10_000
    assert 4100 <= bam.length_km <= 4500
    traced = osm_dir / "rail" / "bam_taishet_sovetskaya_gavan.geojson"
    if not traced.exists():  # the bundled snapshot: the same trace, reduced
        traced = need_shared("osm/rail/bam_taishet_sovetskaya_gavan.geojson")
    source = shape(json.loads(traced.read_text())["features"][0]["geometry"])
    source_km = geodesy.geodesic_length_km(source)
    assert abs(bam.length_km - source_km) / source_km < 0.02
    for row in bam.frame[bam.frame["kind"] == "station"].itertuples():
        dist = geodesy.distance_to_line_km(line, row.geometry.x, row.geometry.y)
        assert dist <= 5.0 or row.name in ("Bratsk", "Komsomolsk-on-Amur"), (row.name, dist)
    # the two stations off the line are reported with their snap distance, within the stated limit
    snaps = segs.set_index("start")["snap_start_km"]
    assert 5 < snaps["Komsomolsk-on-Amur"] <= 15


def test_main_bam_stations_are_labelled(bam):
    names = set(bam.frame.loc[bam.frame["kind"] == "station", "name"])
    assert {"Tayshet", "Ust-Kut", "Severobaykalsk", "Tynda", "Komsomolsk-on-Amur", "Vanino", "Sovetskaya Gavan"} <= names


def test_north_south_routes_over_azerbaijani_ways(north_south):
    segs = _segments(north_south).set_index("name")
    az = ["Samur – Yalama", "Yalama – Khachmaz", "Khachmaz – Baku", "Baku – Alat", "Alat – Astara"]
    assert (segs.loc[az, "source"] == "osm").all()
    assert 500 <= segs.loc[az, "length_km"].sum() <= 600
    # the Russian part follows the traced line, Iran south of Astara has no rail data: schematic, and said so
    assert segs.loc["Makhachkala – Derbent", "source"] == "osm"
    assert 100 < segs.loc["Makhachkala – Derbent", "length_km"] < 160
    iran = segs.loc[["Astara – Rasht", "Rasht – Qazvin", "Qazvin – Tehran", "Tehran – Bandar Abbas"]]
    assert (iran["source"] == "schematic").all()
    assert iran["schematic_reason"].str.contains("no rail within").all()
    assert segs.loc["Astara – Rasht", "status"] == "construction"


def test_stations_snap_to_osm_station_nodes(north_south):
    stations = north_south.frame[north_south.frame["kind"] == "station"].set_index("name")
    assert stations.loc["Yalama", "osm_id"] == 4595155621
    assert stations.loc["Derbent", "position_source"].startswith("OpenStreetMap node")
    # Samur (RU) station: 48.4829 E, 41.8253 N
    assert geodesy.geodesic_distance_km(48.4829, 41.8253, *stations.loc["Samur", "geometry"].coords[0]) < 0.5


def test_samur_yalama_rail_crossing_found_from_geometry(border):
    crossings = border.frame[border.frame["kind"] == "crossing"].set_index("name")
    rail = crossings.loc["Samur – Yalama"]
    assert rail["mode"] == "rail" and not rail["approximate"]
    assert "304666833" in rail["osm_ids"] or "444749531" in rail["osm_ids"]
    # within 2 km of the line between the Samur (RU) and Yalama (AZ) stations
    from shapely.geometry import LineString
    pair = LineString([(48.48288, 41.82529), (48.58079, 41.76287)])
    dist = geodesy.distance_to_line_km(pair, rail.geometry.x, rail.geometry.y)
    assert dist < 2.0
    assert {"Yarag-Kazmalyar – Samur", "Tagirkent-Kazmalyar"} <= set(crossings.index)
    line = border.frame[border.frame["kind"] == "border"].iloc[0]
    assert 200 < line["length_km"] < 400


def test_without_osm_data_corridors_are_schematic_and_say_so(no_bundle):
    result = corridors.build_layer(layers.load_layer("bam"), offline=True)
    segs = _segments(result)
    assert result.source == "schematic"
    assert (segs["source"] == "schematic").all()
    assert "schematic" in result.detail
