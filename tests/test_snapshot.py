"""Snapshots: write, read back identically, rebuild byte-identically, and fail clearly."""

from __future__ import annotations

import json

import pyogrio
import pytest

from geo.osm import snapshot
from geo.osm.source import Extract, Live, Snapshot, snapshot_layers
from geo.osm.provenance import Provenance
from geo.errors import DataError
from geo.core.layers import load_layer
from geo.core.stations import layer_points
from geo.osm import cache

LAYERS = ["bam", "north-south", "ru-az-border"]


@pytest.fixture(autouse=True)
def isolated(overpass_env):
    return overpass_env


@pytest.fixture
def live_snapshot(fake_overpass, tmp_path):
    """A snapshot of all three layers from the replayed Overpass."""
    return snapshot_layers(LAYERS, tmp_path / "snap")


def _geojson_bytes(frame, folder) -> bytes:
    """The frame as a GeoJSON file (same file name each time: GDAL writes it into the file)."""
    folder.mkdir(parents=True)
    path = folder / "layer.geojson"
    pyogrio.write_dataframe(frame, path, driver="GeoJSON")
    return path.read_bytes()


def test_round_trip_of_live_data_keeps_geometries(live_snapshot):
    for layer_id in LAYERS:
        live = cache.read_entry(load_layer(layer_id))
        live_lines, live_points = live.lines, live.points
        lines, points, provenance = snapshot.read_layer(live_snapshot, layer_id)
        assert provenance.detail == live.provenance.detail and provenance.source == "snapshot"
        assert provenance.data_date == live.provenance.data_date is not None
        assert len(lines) == len(live_lines) and len(points) == len(live_points)
        assert lines.geometry.geom_equals_exact(live_lines.geometry, 0).all()
        assert points.geometry.geom_equals_exact(live_points.geometry, 0).all()
        assert list(lines["osm_id"]) == list(live_lines["osm_id"])
        assert list(lines["name"].fillna("")) == list(live_lines["name"].fillna(""))
        assert lines.crs.to_epsg() == 4326


def test_manifest_records_queries_timestamps_and_attribution(live_snapshot):
    manifest = json.loads((live_snapshot / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["attribution"] == "© OpenStreetMap contributors, ODbL"
    assert manifest["osm_timestamp"] == "2024-06-01T12:00:00Z"
    bam = manifest["layers"]["bam"]
    assert bam["file"] == "bam.gpkg" and bam["source"] == "osm" and bam["lines"] == 1
    assert bam["osm_timestamp"] == "2024-06-01T12:00:00Z" and bam["fetched"]
    assert "->.top" in manifest["queries"]["bam"]["overpass"][0]
    assert manifest["queries"]["bam"]["selectors"]["route_relation_name"] == "Байкало-Амурская магистраль"
    assert all('poly:"' in q for q in manifest["queries"]["north-south"]["overpass"])
    assert "way.wa.wb" in manifest["queries"]["ru-az-border"]["overpass"][0]
    assert sorted(p.name for p in live_snapshot.iterdir()) == sorted([f"{i}.gpkg" for i in LAYERS] + ["manifest.json"])


def test_round_trip_of_local_extract(osm_dir, tmp_path):
    out = snapshot_layers(["north-south"], tmp_path / "snap", osm_dir=osm_dir)
    layer = load_layer("north-south")
    local = Extract(folder=osm_dir).read(layer, layer_points(layer))
    lines, points, provenance = snapshot.read_layer(out, "north-south")
    assert provenance.detail == local.detail and len(lines) == len(local.lines) > 1000
    assert lines.geometry.geom_equals_exact(local.lines.geometry.reset_index(drop=True), 0).all()
    assert {304666833, 444749531} <= set(lines["osm_id"].dropna())


def test_building_twice_from_a_snapshot_gives_byte_identical_geojson(live_snapshot, tmp_path):
    for layer_id in LAYERS:
        first = snapshot.read_layer(live_snapshot, layer_id)
        second = snapshot.read_layer(live_snapshot, layer_id)
        for i, kind in enumerate(("lines", "points")):
            a = _geojson_bytes(first[i], tmp_path / f"{layer_id}-{kind}-1")
            b = _geojson_bytes(second[i], tmp_path / f"{layer_id}-{kind}-2")
            assert a == b and len(a) > 50


def test_two_snapshots_of_the_same_data_give_identical_geojson(live_snapshot, tmp_path):
    again = snapshot_layers(LAYERS, tmp_path / "again")  # from the layer cache this time
    for layer_id in LAYERS:
        a = _geojson_bytes(snapshot.read_layer(live_snapshot, layer_id)[0], tmp_path / f"a-{layer_id}")
        b = _geojson_bytes(snapshot.read_layer(again, layer_id)[0], tmp_path / f"b-{layer_id}")
        assert a == b


def test_sources_reads_a_snapshot(live_snapshot):
    layer = load_layer("ru-az-border")
    data = Snapshot(folder=live_snapshot).read(layer, layer_points(layer))
    assert data.source == "snapshot" and not data.lines.empty and len(data.points) == 2


def test_rewriting_a_snapshot_replaces_it_atomically(live_snapshot, monkeypatch):
    before = (live_snapshot / "manifest.json").read_bytes()

    def broken(path, lines, points):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "write_layer_file", broken)
    with pytest.raises(Exception, match="disk full"):
        snapshot_layers(LAYERS, live_snapshot)
    assert (live_snapshot / "manifest.json").read_bytes() == before, "the old snapshot is intact"
    assert not [p for p in live_snapshot.parent.iterdir() if p.name.startswith(".") and p.is_dir()], \
        "no temporary folder left"


def test_missing_snapshot_folder(tmp_path):
    with pytest.raises(DataError, match=r"not a corridormap snapshot \(no manifest.json\): make one with `corridormap snapshot"):
        snapshot.read_layer(tmp_path / "nowhere", "bam")


def test_snapshot_without_the_layer(live_snapshot, tmp_path):
    out = snapshot.write_snapshot(tmp_path / "one", {"bam": snapshot.read_layer(live_snapshot, "bam")[:2] + (Provenance("osm", "d"),)}, {})
    with pytest.raises(DataError, match=r"has no layer 'north-south' \(it holds: bam\)"):
        snapshot.read_layer(out, "north-south")


def test_corrupt_snapshot_file(live_snapshot):
    path = live_snapshot / "bam.gpkg"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"bam.gpkg is corrupt \(checksum differs from manifest.json\): rebuild it"):
        snapshot.read_layer(live_snapshot, "bam")


def test_missing_snapshot_file(live_snapshot):
    (live_snapshot / "north-south.gpkg").unlink()
    with pytest.raises(DataError, match="is missing north-south.gpkg"):
        snapshot.read_layer(live_snapshot, "north-south")


def test_corrupt_manifest(live_snapshot):
    (live_snapshot / "manifest.json").write_text('{"format": "corridormap-snap', encoding="utf-8")
    with pytest.raises(DataError, match="manifest.json is unreadable or corrupt"):
        snapshot.read_layer(live_snapshot, "bam")


def test_snapshot_refuses_a_layer_without_data(tmp_path):
    with pytest.raises(DataError, match="bam: no OSM data to snapshot"):
        snapshot_layers(["bam"], tmp_path / "snap", source=Live(offline=True))
    assert not (tmp_path / "snap").exists()


def test_published_maps_rebuild_byte_for_byte_from_a_snapshot(tmp_path, osm_dir, example_article, capsys):
    """`corridormap snapshot` then two builds from it: every HTML and GeoJSON file is identical."""
    from geo import cli

    snap = tmp_path / "snap"
    assert cli.main(["snapshot", "--out", str(snap), "--osm-dir", str(osm_dir)]) == 0
    assert "rebuild with: corridormap build ARTICLE --snapshot" in capsys.readouterr().out
    builds = []
    for name in ("first", "second"):
        out = tmp_path / name
        assert cli.main(["build", str(example_article), "--snapshot", str(snap), "--out", str(out)]) == 0
        builds.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert builds[0] == builds[1]
    assert {"bam.html", "north-south.html", "ru-az-border.html", "index.html"} <= set(builds[0])
    index = json.loads(builds[0]["index.geojson"])
    assert {f["properties"]["source"] for f in index["features"] if f["properties"]["kind"] == "segment"} >= {"snapshot"}
