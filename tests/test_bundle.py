"""The OSM snapshot shipped in the package: sound against its manifest, used offline, and refreshable.

These run on a fresh clone (no ../shared, no network); the comparison with the
full OSM line runs when ../shared is present.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shlex
import shutil
import socket
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import CRS
from shapely.geometry import LineString, shape
from shapely.ops import linemerge

from geo import cli, settings
from geo.core.layers import load_layer
from geo.core.stations import layer_points
from geo.errors import NetworkError
from geo.osm import bundle, cache, overpass_http, snapshot
from geo.osm.source import Live
from geo.osm.provenance import overpass_provenance
from geo.osm.schema import frame_from_rows
from tests.conftest import REPO, need_shared

SHIPPED = ("bam", "north-south", "ru-az-border")
FAR_AWAY = '''
id = "far-away"
kind = "corridor"
title = "A line in the South Atlantic"

[style]
color = "#000000"

[osm]
way_filter = '["railway"="rail"]'

[[stations]]
name = "West"
lat = -40.0
lon = -20.0
country = "SH"

[[stations]]
name = "East"
lat = -40.0
lon = -19.0
country = "SH"
'''


def _readme_build_args(out: Path) -> list[str]:
    """The `corridormap build ...` part of the README's first command, writing to ``out``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if line.startswith("python3 -m venv"))
    build = next(part for part in first.split("&&") if "corridormap build" in part)
    args = shlex.split(build)[1:]  # drop .venv/bin/corridormap
    return [str(out) if a == "output/" else a for a in args]


def _without_dns(mp: pytest.MonkeyPatch) -> list[str]:
    """Make every name lookup fail at once, as on a machine with no network; returns the names looked up."""
    looked_up: list[str] = []

    def no_dns(host, *args, **kwargs):
        looked_up.append(str(host))
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    mp.setattr(socket, "getaddrinfo", no_dns)
    mp.setattr(socket, "gethostbyname", no_dns)
    return looked_up


@pytest.fixture
def offline_dns(monkeypatch):
    return _without_dns(monkeypatch)


# --------------------------------------------------------------------------- the bundled snapshot itself


def test_bundled_snapshot_matches_its_manifest():
    folder = Path(settings.bundled_snapshot_dir)
    assert bundle.check_bundled(folder) == []
    manifest = snapshot.read_manifest(folder)
    assert set(SHIPPED) <= set(manifest["layers"])
    files = {p.name for p in folder.iterdir()}
    assert files == {snapshot.MANIFEST, manifest["places"]["file"]} | {e["file"] for e in manifest["layers"].values()}, \
        "no stray or missing files"
    assert manifest["places"]["rows"] > 10_000 and manifest["places"]["osm_date"] == manifest["osm_date"]["date"]
    for layer_id in SHIPPED:
        entry = manifest["layers"][layer_id]
        assert entry["sha256"] == snapshot.file_sha256(folder / entry["file"])
        assert bundle.read_bundled(layer_id)[2].data_date.text == manifest["osm_date"]["date"], layer_id
    assert manifest["osm_date"]["note"], "the manifest says how the data date is known"
    assert manifest["reduced"]["zoom"] == settings.bundled_zoom
    assert "OpenStreetMap contributors" in manifest["attribution"] and "ODbL" in manifest["license"]
    assert sum(p.stat().st_size for p in folder.iterdir()) <= settings.bundled_max_bytes == 5_000_000


def test_the_database_licence_is_stated_in_the_repository():
    text = (REPO / "geo" / "data" / "README.md").read_text(encoding="utf-8")
    assert "Open Database License" in text and "OpenStreetMap contributors" in text
    assert "corridormap snapshot --bundled" in text


def test_a_damaged_bundle_is_found_by_the_check_and_not_used(tmp_path, monkeypatch):
    copy = tmp_path / "snapshot"
    shutil.copytree(settings.bundled_snapshot_dir, copy)
    with open(copy / "bam.gpkg", "r+b") as fh:
        fh.seek(2000)
        fh.write(b"\x00corrupt\x00")
    assert any("bam.gpkg is corrupt" in p for p in bundle.check_bundled(copy))
    monkeypatch.setattr(settings, "bundled_max_bytes", 1_000_000)
    assert any("over the 1 MB budget" in p for p in bundle.check_bundled(copy))
    monkeypatch.setattr(settings, "bundled_snapshot_dir", copy)
    layer = load_layer("bam")
    data = Live(offline=True).read(layer, layer_points(layer))
    assert data.source == "schematic"
    assert any("bundled OSM snapshot is damaged" in w for w in data.warnings)


def test_reduction_keeps_line_ends_and_stays_within_a_pixel():
    # a wiggly 2 km line with a vertex every ~1 m
    coords = [(48.5 + i * 1e-5, 41.8 + (3e-5 if i % 2 else 0.0)) for i in range(2001)]
    frame = frame_from_rows([{"osm_id": 1, "railway": "rail", "geometry": LineString(coords)}])
    reduced = bundle.reduce_frame(frame, zoom=14, decimals=5).geometry.iloc[0]
    assert len(reduced.coords) < len(coords) / 20
    assert reduced.coords[0] == pytest.approx(coords[0]) and reduced.coords[-1] == pytest.approx(coords[-1])
    pixel = bundle.zoom_tolerance_deg(14) * math.cos(math.radians(41.8))  # one pixel north-south at 41.8 N
    assert reduced.hausdorff_distance(LineString(coords)) <= pixel + 1e-5


def test_reduction_keeps_junctions_so_routes_stay_the_same():
    """A branch leaving a straight main line at a vertex the simplification would drop: the junction stays."""
    from geo.corridors.routing import RailNetwork, rail_graph, route_waypoints

    main = LineString([(48.0 + i * 0.001, 41.8) for i in range(101)])  # 8 km straight: simplifies to its ends
    branch = LineString([(48.05, 41.8), (48.05, 41.9)])  # leaves at the middle vertex
    frame = frame_from_rows([{"osm_id": 1, "geometry": main}, {"osm_id": 2, "geometry": branch}])
    reduced = bundle.reduce_frame(frame, zoom=14, decimals=5)
    assert (48.05, 41.8) in list(reduced.geometry.iloc[0].coords)
    stops = [("A", 48.0, 41.8), ("B", 48.05, 41.9)]
    full, small = (route_waypoints(RailNetwork(rail_graph(f.geometry)), stops)[0] for f in (frame, reduced))
    assert small.length_km == pytest.approx(full.length_km, rel=1e-3)


# --------------------------------------------------------------------------- where the data comes from


def _cache_bam(as_of: str) -> None:
    layer = load_layer("bam")
    lines = frame_from_rows([{"osm_id": 7, "railway": "rail", "usage": "main",
                              "geometry": LineString([(97.99, 55.93), (140.29, 48.97)])}])
    cache.write(layer, lines, frame_from_rows([]), overpass_provenance([as_of]), [])


def test_offline_the_bundle_is_used_unless_the_cache_is_newer():
    layer = load_layer("bam")
    data = Live(offline=True).read(layer, layer_points(layer))
    assert data.source == "snapshot" and data.detail.startswith("bundled with corridormap: OSM data as of 2026-04")
    assert len(data.lines) >= 1 and not data.warnings
    _cache_bam("2001-01-01T00:00:00Z")  # older than the bundle: the bundle wins
    assert Live(offline=True).read(layer, layer_points(layer)).source == "snapshot"
    _cache_bam("2099-01-01T00:00:00Z")  # newer: the cache wins
    assert Live(offline=True).read(layer, layer_points(layer)).source == "cache"


def test_no_dns_ends_the_live_fetch_at_once(overpass_env, offline_dns):
    with pytest.raises(NetworkError, match=r"overpass.invalid.*host name does not resolve"):
        overpass_http.request(overpass_http.query_header() + "node(1);out;")
    assert overpass_env == [], "no retries, no waiting"


# --------------------------------------------------------------------------- the README's first command


@pytest.fixture(scope="module")
def readme_build(tmp_path_factory):
    """Run the README's first build on a machine with no DNS and no ../shared: (output folder, stdout, lookups)."""
    mp = pytest.MonkeyPatch()
    looked_up = _without_dns(mp)
    mp.setattr(settings, "cache_dir", tmp_path_factory.mktemp("cache"))
    out = tmp_path_factory.mktemp("output")
    stdout = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(_readme_build_args(out))
    finally:
        mp.undo()
    assert code == 0
    return out, stdout.getvalue(), looked_up


def _bam_segments(out: Path) -> list[dict]:
    features = json.loads((out / "bam.geojson").read_text(encoding="utf-8"))["features"]
    return [f for f in features if f["properties"]["kind"] == "segment"]


def test_readme_first_command_builds_real_geometry_offline(readme_build):
    out, stdout, looked_up = readme_build
    assert _readme_build_args(out)[1].startswith("examples/"), "the README builds the example article"
    for name in ("bam", "north-south", "ru-az-border", "index"):
        assert (out / f"{name}.html").is_file() and (out / f"{name}.geojson").is_file()
    assert "bam: snapshot (bundled with corridormap: OSM data as of 2026-04" in stdout
    # the map says which source it used and the data date
    assert "OpenStreetMap, April 2026, bundled with corridormap" in (out / "bam.html").read_text(encoding="utf-8")
    segments = _bam_segments(out)
    assert {s["properties"]["source"] for s in segments} == {"snapshot"}
    assert 4100 <= sum(s["properties"]["length_km"] for s in segments) <= 4500
    # one failed lookup ends the live path: no retries, the other layers go straight to the bundle
    assert len(looked_up) <= 2


def test_readme_first_command_bam_follows_the_osm_line(readme_build):
    """BAM within 3 km of the full OSM line on at least 95% of its length (needs ../shared's line)."""
    real_path = need_shared("osm/rail/bam_taishet_sovetskaya_gavan.geojson")
    out, _, _ = readme_build
    real = shape(json.loads(real_path.read_text(encoding="utf-8"))["features"][0]["geometry"])
    drawn = linemerge([shape(s["geometry"]) for s in _bam_segments(out)])
    # a conic projection fitted to the BAM's latitudes: distances within ~1%
    lcc = CRS.from_proj4("+proj=lcc +lat_1=50 +lat_2=56 +lat_0=53 +lon_0=120 +datum=WGS84 +units=m")
    real_m, drawn_m = gpd.GeoSeries([real, drawn], crs=4326).to_crs(lcc)
    near = drawn_m.intersection(real_m.buffer(3000)).length / drawn_m.length
    assert near >= 0.95, f"only {near:.1%} of the drawn BAM is within 3 km of the OSM line"


# --------------------------------------------------------------------------- refreshing it


def test_refresh_command_rewrites_the_bundle_and_lists_layers_without_data(tmp_path, monkeypatch, osm_dir, capsys):
    target = tmp_path / "snapshot"
    monkeypatch.setattr(settings, "bundled_snapshot_dir", target)
    args = ["snapshot", "--bundled", "--osm-dir", str(osm_dir)]
    assert cli.main(args) == 2
    assert "give --osm-date" in capsys.readouterr().err and not target.exists()
    layers_copy = tmp_path / "layers"
    shutil.copytree(settings.layers_dir, layers_copy)
    (layers_copy / "far-away.toml").write_text(FAR_AWAY, encoding="utf-8")  # a layer no data covers
    monkeypatch.setattr(settings, "layers_dir", layers_copy)
    chosen = [arg for layer_id in (*SHIPPED, "far-away") for arg in ("--layer", layer_id)]
    assert cli.main(args + chosen + ["--osm-date", "2026-04", "--osm-date-note", "test"]) == 0
    captured = capsys.readouterr()
    assert "far-away left out" in captured.err
    manifest = snapshot.read_manifest(target)
    assert set(manifest["layers"]) == set(SHIPPED) and "far-away" in manifest["left_out"]
    assert bundle.check_bundled(target) == []
    data = Live(offline=True).read(load_layer("north-south"), layer_points(load_layer("north-south")))
    assert data.source == "snapshot" and "OSM data as of 2026-04" in data.detail
