"""The live path against a real Overpass API (0.7.62, ../shared/overpass) on 127.0.0.1.

Every shipped layer is built through the command line with a fresh cache, so each
query the project sends is parsed and answered by the real server; its real error
texts (HTTP 400 pages, out-of-memory remarks) are checked as the user reads them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pytest

from geo import settings
from tests import overpass_replay as rp
from geo.corridors.borders import shared_border
from geo.core.layers import load_layer
from geo.geodesy import geodesic_length_km, line_buffer_km
from geo.errors import QueryTooLarge
from geo.osm import cache as layercache, fetch, overpass_http
from geo.osm.source import Live
from geo.core.stations import layer_points

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("bam", "north-south", "ru-az-border")
#: A regular expression Python accepts (so the layer file passes its own checks) but the server's POSIX one refuses.
BROKEN = '["railway"~"^(rail|construction|proposed)(?=$)"]'


def corridormap(*args: str, cache: Path, layers_dir: Path | None = None, env: dict | None = None):
    """Run the ``corridormap`` command line in a child process with its own cache (and layer folder)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDORMAP_") or k == "CORRIDORMAP_SHARED"}
    child_env["CORRIDORMAP_CACHE"] = str(cache)
    if layers_dir is not None:
        child_env["CORRIDORMAP_LAYERS"] = str(layers_dir)
    child_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "geo.cli", *args], cwd=REPO, env=child_env,
                          capture_output=True, text=True, timeout=900)




def broken_layers(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of layers/ whose north-south way_filter holds an invalid regular expression: (folder, that file)."""
    layers_dir = tmp_path / "layers"
    shutil.copytree(REPO / "layers", layers_dir)
    path = layers_dir / "north-south.toml"
    text = path.read_text(encoding="utf-8")
    assert '["railway"~"^(rail|construction|proposed)$"]' in text
    path.write_text(text.replace('["railway"~"^(rail|construction|proposed)$"]', BROKEN), encoding="utf-8")
    return layers_dir, path


@pytest.fixture(scope="module")
def live_build(overpass_server, tmp_path_factory):
    """``corridormap build --overpass-url URL`` of the three seed layers, fresh cache.

    Returns (process, out dir, cache dir, the (query, status, body) exchanges with the server).
    """
    tmp = tmp_path_factory.mktemp("live")
    before = len(overpass_server.exchanges())
    layers = [arg for layer_id in LAYERS for arg in ("--layer", layer_id)]  # the layers the region extract covers
    proc = corridormap("build", *layers, "--overpass-url", overpass_server.url, "--out", str(tmp / "out"),
                       cache=tmp / "cache")
    return proc, tmp / "out", tmp / "cache", overpass_server.exchanges()[before:]


def _features(out: Path, layer_id: str) -> gpd.GeoDataFrame:
    return gpd.read_file(out / f"{layer_id}.geojson")


def _cached(cache: Path, layer_id: str, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", cache)
    layer = load_layer(layer_id)
    return layercache.read_entry(layer), layercache.queries(layer)


def test_every_layer_comes_live_from_the_server(live_build):
    proc, out, _, logged = live_build
    assert proc.returncode == 0, proc.stderr
    for layer_id in LAYERS:
        assert re.search(rf"^{layer_id}: osm \(OpenStreetMap via Overpass, data as of 2026-11-01T00:00:00Z", proc.stdout, re.M)
        segments = _features(out, layer_id).query("kind in ('segment', 'border')")
        assert (segments["source"] == "osm").any(), layer_id
    assert "warning" not in proc.stderr
    assert logged and all(status == 200 and b'"remark"' not in body for _, status, body in logged), \
        "every query parsed and answered"


def test_bam_is_its_route_relation(live_build, monkeypatch):
    proc, out, cache, _ = live_build
    assert "route relation 4200000000 'Байкало-Амурская магистраль': 127 member ways in 1 parts" in proc.stdout
    segments = _features(out, "bam").query("kind == 'segment'")
    assert set(segments["source"]) == {"osm"}
    assert segments["length_km"].sum() == pytest.approx(4298, rel=0.01)
    entry, queries = _cached(cache, "bam", monkeypatch)
    lines = entry.lines
    assert len(queries) == 1 and "->.top" in queries[0]
    assert len(lines) == 1 and lines.loc[0, "osm_id"] == 4200000000


def test_north_south_pieces_and_the_samur_yalama_ways(live_build, monkeypatch):
    _, out, cache, logged = live_build
    segments = _features(out, "north-south").query("kind == 'segment'").set_index("name")
    live = ["Makhachkala – Derbent", "Derbent – Samur", "Samur – Yalama", "Yalama – Khachmaz", "Khachmaz – Baku"]
    assert set(segments.loc[live, "source"]) == {"osm"}
    assert segments.loc["Samur – Yalama", "length_km"] == pytest.approx(10.7, abs=1.0)
    assert segments.loc[live, "length_km"].sum() == pytest.approx(375, rel=0.05)
    entry, queries = _cached(cache, "north-south", monkeypatch)
    lines = entry.lines
    assert {304666833, 444749531} <= set(lines["osm_id"])
    assert lines["osm_id"].is_unique and set(lines["railway"]) <= {"rail", "construction", "proposed"}
    assert len(queries) >= 10 and all("(poly:" in q for q in queries)
    assert [q for q, _, _ in logged if 'way["railway"~' in q] == queries, "one request per piece, no retries"


def test_border_from_the_boundary_relations_with_its_rail_crossing(live_build, monkeypatch):
    _, out, cache, _ = live_build
    frame = _features(out, "ru-az-border")
    border = frame[frame["kind"] == "border"]
    assert list(border["source"]) == ["osm"]
    assert border["length_km"].sum() == pytest.approx(geodesic_length_km(shared_border("RU", "AZ")), rel=0.03)
    samur = frame[(frame["kind"] == "crossing") & (frame["name"] == "Samur – Yalama")].iloc[0]
    assert samur["source"] == "osm"
    assert {"304666833", "444749531"} <= set(samur["osm_ids"].split(","))
    entry, queries = _cached(cache, "ru-az-border", monkeypatch)
    lines = entry.lines
    assert (lines["boundary"] == "administrative").sum() == 4
    assert "way.wa.wb" in queries[0]


def test_a_broken_selector_shows_the_server_error_and_the_other_layers_stay_live(overpass_server, tmp_path):
    layers_dir, path = broken_layers(tmp_path)
    before = len(overpass_server.exchanges())
    proc = corridormap("build", "--overpass-url", overpass_server.url, "--out", str(tmp_path / "out"),
                       cache=tmp_path / "cache", layers_dir=layers_dir)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^bam: osm \(", proc.stdout, re.M) and re.search(r"^ru-az-border: osm \(", proc.stdout, re.M)
    assert re.search(r"^north-south: schematic \(", proc.stdout, re.M)
    warning = [line for line in proc.stderr.splitlines() if "north-south" in line]
    assert len(warning) == 1
    assert warning[0].startswith("corridormap: warning: north-south: Overpass (")
    assert 'HTTP 400: line 1: static error: Invalid regular expression: "^(rail|construction|proposed)(?=$)"' in warning[0]
    assert f"fix [osm] way_filter = '{BROKEN}' in {path}" in warning[0]
    assert "network" not in proc.stderr
    refused = [query for query, status, _ in overpass_server.exchanges()[before:] if status == 400]
    assert len(refused) == 1 and BROKEN in refused[0], "a refused query is not retried"


def test_a_broken_selector_alone_exits_2_with_the_fix(overpass_server, tmp_path):
    layers_dir, path = broken_layers(tmp_path)
    proc = corridormap("build", "--layer", "north-south", "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
                       layers_dir=layers_dir, env={"CORRIDORMAP_OVERPASS_URL": overpass_server.url})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("corridormap: error: north-south: Overpass (http://127.0.0.1:")
    assert "Invalid regular expression" in lines[0] and "fix [osm] way_filter" in lines[0]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_snapshot_takes_the_overpass_url(overpass_server, tmp_path):
    proc = corridormap("snapshot", "--overpass-url", "http://127.0.0.1:9/api," + overpass_server.url,
                       "--layer", "ru-az-border", "--out", str(tmp_path / "snap"), cache=tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["layers"]["ru-az-border"]
    assert entry["source"] == "osm" and entry["osm_timestamp"] == "2026-11-01T00:00:00Z"


@pytest.fixture
def in_process(overpass_server, monkeypatch):
    """Fetch in this process from the real server, with instant retry pauses."""
    monkeypatch.setattr(settings, "overpass_url", [overpass_server.url])
    monkeypatch.setattr(settings, "http_max_retries", 1)
    monkeypatch.setattr(ox.settings, "cache_folder", "./cache")
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(overpass_http, "_sleep", lambda s: None)
    return overpass_server


def test_out_of_memory_halves_the_piece_then_says_so(in_process, monkeypatch):
    monkeypatch.setattr(ox.settings, "overpass_memory", 1000)  # [maxsize:1000]: the server runs out at once
    monkeypatch.setattr(settings, "overpass_split_depth", 2)
    layer = load_layer("north-south")
    area = line_buffer_km(layer_points(layer), layer.osm["clip_buffer_km"])
    before = len(in_process.exchanges())
    with pytest.raises(QueryTooLarge) as err:
        fetch.fetch_layer(layer, area)
    message = err.value.message
    assert message.startswith("north-south: Overpass (http://127.0.0.1:")
    assert "runtime error: Query ran out of memory" in message and "halved 2 times" in message
    assert "way_filter" in message and "--overpass-url" in message
    sent = in_process.exchanges()[before:]
    assert len({query for query, _, _ in sent}) == len(sent), "never the identical query twice"
    failed = [rp.parse_poly(rp._SELECT.search(q).group(3)).area for q, _, body in sent if b"out of memory" in body]
    assert len(failed) >= 3 and min(failed) < max(failed) / 3, "the piece was asked for in halves, then quarters"
    assert b"out of memory" in sent[-1][2], "the last (smallest) query failed: no more requests after it"


def test_out_of_memory_on_the_route_relation_is_the_layers_error(in_process, monkeypatch):
    monkeypatch.setattr(ox.settings, "overpass_memory", 1000)
    layer = load_layer("bam")
    data = Live().read(layer, layer_points(layer))
    assert data.source == "schematic" and not data.network_failed
    assert isinstance(data.query_error, QueryTooLarge)
    assert "route_relation_name = 'Байкало-Амурская магистраль'" in data.warnings[0]
    assert "Query ran out of memory" in data.detail
