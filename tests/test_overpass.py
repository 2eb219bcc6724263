"""The live Overpass path, replayed from real OSM data with the network switched off."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
import json
import socket

import osmnx as ox
import pytest
import requests
from pyproj import Geod
from shapely.geometry import LineString

from tests import overpass_replay as rp
from geo.osm import cache as layercache, local as osmdata, fetch as overpass, overpass_http as overpass_api, split
from geo.osm.source import Live
from geo.osm.provenance import DataDate, Provenance
from geo import settings
from geo.errors import DataError, NetworkError, QueryError, QueryTooLarge
from geo.core.layers import load_layer
from geo.core.stations import layer_points
from geo.geodesy import geodesic_length_km
from geo.corridors.routing import RailNetwork, rail_graph, route_waypoints
from geo.osm import queries, schema
from geo.geodesy import line_buffer_km

GEOD = Geod(ellps="WGS84")
from tests.conftest import RETRIES


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def isolated(overpass_env):
    """Caches in tmp_path, instant recorded retry sleeps (see conftest.overpass_env)."""
    return overpass_env


@pytest.fixture
def fake(fake_overpass):
    return fake_overpass


def _line_km(frame) -> float:
    return float(sum(geodesic_length_km(g) for g in frame.geometry))


# ---------------------------------------------------------------------- replay: real layers


def test_bam_route_relation_is_assembled_into_one_line(fake, replay_data):
    lines, points, provenance = overpass.fetch_layer(load_layer("bam"), None)
    detail = provenance.detail
    source_km = geodesic_length_km(replay_data["bam_line"])
    assert len(fake.queries) == 1 and "->.top" in fake.queries[0]
    assert len(lines) == 1, "102 shuffled member ways merge into one line"
    assert lines.loc[0, "name"] == rp.BAM_NAME
    assert lines.loc[0, "osm_id"] == rp.BAM_RELATION_ID
    assert lines.loc[0, "railway"] == "rail" and lines.loc[0, "usage"] == "main"
    assert _line_km(lines) == pytest.approx(source_km, rel=0.02)
    assert _line_km(lines) == pytest.approx(4311, rel=0.02)
    assert points.empty
    assert detail.startswith("OpenStreetMap via Overpass, data as of 2024-06-01T12:00:00Z, fetched ")
    assert provenance.data_date == DataDate(datetime(2024, 6, 1, 12, tzinfo=timezone.utc), "second")
    assert lines.crs.to_epsg() == 4326
    assert list(lines.columns) == schema.COLUMNS


def test_bam_without_relation_falls_back_to_ways_near_stations(fake):
    fake.relations = []
    lines, _, provenance = overpass.fetch_layer(load_layer("bam"), None)
    detail = provenance.detail
    assert "route relation" in detail and "not found" in detail
    assert len(fake.queries) > 1 and all("poly:" in q for q in fake.queries[1:])
    assert set(lines["usage"]) == {"main"} and lines["osm_id"].is_unique
    assert lines["osm_id"].min() >= 900_000_000  # only BAM ways: the Caucasus ways lack usage=main


def test_north_south_ways_near_the_stations(fake):
    layer = load_layer("north-south")
    area = line_buffer_km(layer_points(layer), layer.osm["clip_buffer_km"])
    lines, points, provenance = overpass.fetch_layer(layer, area)
    detail = provenance.detail
    ids = set(lines["osm_id"])
    assert {304666833, 444749531} <= ids
    assert set(lines["railway"]) <= {"rail", "construction", "proposed"}
    assert lines["osm_id"].is_unique and lines["name"].isna().all()
    assert points.empty
    assert "within 15 km of the stations" in detail


def test_north_south_queries_are_small_polygons_along_the_line(fake):
    overpass.fetch_layer(load_layer("north-south"), None)
    assert len(fake.queries) > 10
    for query in fake.queries:
        poly = rp.parse_poly(rp._SELECT.search(query).group(3))
        area_km2 = abs(GEOD.geometry_area_perimeter(poly)[0]) / 1e6
        assert area_km2 < 10_000, "each query covers one piece of the line, never a huge bbox"


def test_north_south_routes_like_the_local_extract(fake, osm_dir):
    layer = load_layer("north-south")
    lines, _, _ = overpass.fetch_layer(layer, None)
    local, _ = osmdata.read_local(osm_dir)
    names = [s.name for s in layer.stations]
    waypoints = [(n, x, y) for n, (x, y) in zip(names, layer_points(layer))]
    leg = waypoints[names.index("Samur") : names.index("Baku") + 1]
    live = route_waypoints(RailNetwork(rail_graph(lines.geometry)), leg)
    full = route_waypoints(RailNetwork(rail_graph(local.geometry)), leg)
    assert all(l.geometry is not None for l in live)
    assert sum(l.length_km for l in live) == pytest.approx(sum(l.length_km for l in full), rel=0.01)
    assert sum(l.length_km for l in live) == pytest.approx(300, rel=0.35)


def test_border_shared_line_crossings_and_checkpoints(fake):
    lines, points, provenance = overpass.fetch_layer(load_layer("ru-az-border"), None)
    detail = provenance.detail
    boundary = lines[lines["boundary"] == "administrative"]
    crossing = lines[lines["boundary"].isna()]
    assert len(boundary) == len(fake.boundary_ways)
    assert set(crossing["osm_id"]) == {304666833, 444749531, 7_000_000}
    assert set(crossing.loc[crossing["highway"].notna(), "name"]) == {"R-217"}
    assert set(points["barrier"]) == {"border_control"}
    assert "far away" not in set(points["name"]) and len(points) == 2
    assert "way.wa.wb" in fake.queries[0] and '"ISO3166-1"="RU"' in fake.queries[0]
    assert "2 border control nodes" in detail


def test_empty_result_is_an_error_not_an_empty_layer(fake):
    fake.ways, fake.relations = [], []
    fake._index()
    with pytest.raises(DataError, match="no OSM lines"):
        overpass.fetch_layer(load_layer("north-south"), None)
    assert layercache.read_entry(load_layer("north-south")) is None


# ---------------------------------------------------------------------- faults

QUERY = queries.ways_query('["railway"="rail"]', rp.parse_poly("41.7 48.4 41.9 48.4 41.9 48.7 41.7 48.7 41.7 48.4"))


def _ok_body(server) -> bytes:
    return json.dumps(server.answer(QUERY)).encode()


@pytest.fixture
def server(monkeypatch):
    """A replay server with two synthetic ways near Samur: fault tests need no shared data."""
    ways = [
        rp.way_element(304666833, LineString([(48.55, 41.80), (48.56, 41.79)]), {"railway": "rail"}),
        rp.way_element(444749531, LineString([(48.56, 41.79), (48.57, 41.78)]), {"railway": "rail"}),
    ]
    fake = rp.FakeOverpass(ways=ways)
    monkeypatch.setattr(requests.Session, "send", lambda session, request, **kw: fake.send(session, request, **kw))
    return fake


def test_timeout_retries_then_network_error(server, isolated):
    server.script = [requests.exceptions.ReadTimeout("read timed out")] * (RETRIES + 1)
    with pytest.raises(NetworkError, match=r"failed 3 times, last: no answer within \d+ s \(timeout\)"):
        overpass_api.request(QUERY)
    assert len(server.queries) == RETRIES + 1
    assert isolated == [0.01, 0.02], "exponential backoff between attempts"


def test_timeout_then_success(server):
    server.script = [requests.exceptions.ConnectTimeout("connect timed out")]
    data = overpass_api.request(QUERY)
    assert {e["id"] for e in data["elements"]} >= {304666833, 444749531}
    assert len(server.queries) == 2


def test_connection_refused(monkeypatch, isolated):
    with socket.socket() as s:  # a local port with nobody listening: a real refusal, no network
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    with pytest.raises(NetworkError) as err:
        overpass_api.request(QUERY)
    assert "cannot connect: connection refused" in err.value.message
    assert f"127.0.0.1:{port}" in err.value.message and "--overpass-url" in err.value.message
    assert len(isolated) == RETRIES


def test_429_honours_retry_after(server, isolated):
    server.script = [(429, {"Retry-After": "7"}, b"rate_limited"), (429, {}, b"rate_limited")]
    data = overpass_api.request(QUERY)
    assert data["elements"]
    assert isolated == [7.0, 0.02], "Retry-After first, exponential backoff when the header is absent"


def test_429_with_long_retry_after_gives_up_at_once(server):
    server.script = [(429, {"Retry-After": "86400"}, b"")]
    with pytest.raises(NetworkError, match="asks to wait 86400 s"):
        overpass_api.request(QUERY)
    assert len(server.queries) == 1


def test_429_exhausted(server):
    server.script = [(429, {"Retry-After": "1"}, b"")] * (RETRIES + 1)
    with pytest.raises(NetworkError, match="HTTP 429 Too Many Requests"):
        overpass_api.request(QUERY)


def test_500_and_504_retry_with_backoff(server, isolated):
    server.script = [(500, {}, b"<html>oops</html>"), (504, {}, b"<html>Gateway Timeout</html>")]
    assert overpass_api.request(QUERY)["elements"]
    assert isolated == [0.01, 0.02]


def test_502_503_exhausted(server):
    server.script = [(502, {}, b""), (503, {}, b""), (503, {}, b"")]
    with pytest.raises(NetworkError, match="last: HTTP 503 Service Unavailable"):
        overpass_api.request(QUERY)


def test_truncated_body(server):
    body = _ok_body(server)
    server.script = [(200, {}, body[: len(body) // 2])] * (RETRIES + 1)
    with pytest.raises(NetworkError, match=r"truncated JSON response \(\d+ bytes\)"):
        overpass_api.request(QUERY)
    assert not list((settings.cache_dir / "overpass").glob("*.json")), "a truncated body is never cached"


def test_truncated_body_then_success(server):
    body = _ok_body(server)
    server.script = [(200, {}, body[:-10])]
    assert overpass_api.request(QUERY) == json.loads(body)


def test_cut_off_transfer(server):
    server.script = [requests.exceptions.ChunkedEncodingError("connection broken")] * (RETRIES + 1)
    with pytest.raises(NetworkError, match=r"cut off"):
        overpass_api.request(QUERY)


def test_non_json_body(server):
    html = b"<?xml version='1.0'?><html><body><p>The server is probably too busy</p></body></html>"
    server.script = [(200, {"Content-Type": "text/html"}, html)] * (RETRIES + 1)
    with pytest.raises(NetworkError, match="response is not JSON: .*too busy"):
        overpass_api.request(QUERY)


OVERCROWDED = ("runtime error: open64: 0 Success /osm3s_osm_base Dispatcher_Client::request_read_and_idx::timeout. "
               "The server is probably too busy to handle your request.")


def test_other_runtime_error_remarks_are_retried(server):
    body = json.dumps({"osm3s": {}, "elements": [], "remark": OVERCROWDED}).encode()
    server.script = [(200, {}, body)] * (RETRIES + 1)
    with pytest.raises(NetworkError, match="Overpass runtime error: runtime error: open64.*too busy"):
        overpass_api.request(QUERY)
    assert len(server.queries) == RETRIES + 1


def test_runtime_error_remark_then_success_is_cached_without_remark(server):
    body = json.dumps({"osm3s": {}, "elements": [], "remark": OVERCROWDED}).encode()
    server.script = [(200, {}, body)]
    data = overpass_api.request(QUERY)
    assert "remark" not in data and data["elements"]
    assert json.loads(overpass_api.cache_file(QUERY).read_text()) == data


def test_bad_query_fails_at_once_with_the_servers_error_lines(server):
    server.script = [(400, {"Content-Type": "text/html"}, rp.error_page(
        "line 1: parse error: ']' expected - '(' found.", 'line 1: static error: Invalid regular expression: "^(rail"'))]
    with pytest.raises(QueryError) as err:
        overpass_api.request(QUERY)
    assert err.value.message == (
        "Overpass (https://overpass.invalid/api/interpreter) refused the query with HTTP 400: "
        "line 1: parse error: ']' expected - '(' found.; line 1: static error: Invalid regular expression: \"^(rail\"")
    assert "ODbL" not in err.value.message and err.value.query == QUERY
    assert len(server.queries) == 1


def test_a_refused_query_is_the_layers_error_not_a_network_failure(fake):
    fake.script = [(400, {}, rp.error_page('line 1: static error: Invalid regular expression: "^(rail"'))]
    layer = load_layer("north-south")
    data = Live().read(layer, layer_points(layer))
    assert data.source == "schematic" and not data.network_failed
    assert isinstance(data.query_error, QueryError)
    assert data.warnings == [
        'north-south: Overpass (https://overpass.invalid/api/interpreter) refused the query with HTTP 400: '
        'line 1: static error: Invalid regular expression: "^(rail"; '
        f"""fix [osm] way_filter = '["railway"~"^(rail|construction|proposed)$"]' in {layer.path}; drawn schematically"""]
    assert len(fake.queries) == 1


def test_build_goes_on_after_a_refused_layer_and_fails_when_nothing_else_came(fake):
    from geo.pipeline import build_layers

    fake.refuse = 'line 1: static error: Invalid regular expression: "^(rail"'
    fake.refuse_when = "usage"  # only BAM's fallback way_filter ["usage"="main"] is refused
    fake.relations = []
    results = build_layers([load_layer("bam"), load_layer("north-south")])
    assert [r.source for r in results] == ["schematic", "osm"]
    assert not any("network is unavailable" in w for r in results for w in r.warnings)
    with pytest.raises(QueryError, match=r"^bam: Overpass .*Invalid regular expression.*fix \[osm\] way_filter"):
        build_layers([load_layer("bam")])


# ---------------------------------------------------------------------- duplicate_query, memory and timeout remarks

DUPLICATE = "runtime error: open64: 0 Success /osm3s_osm_base Dispatcher_Client::request_read_and_idx::duplicate_query"


def test_duplicate_query_waits_and_retries_once(server, isolated, monkeypatch):
    monkeypatch.setattr(settings, "overpass_duplicate_wait_s", 15.0)
    server.script = [(200, {"Content-Type": "text/html"}, rp.error_page(DUPLICATE))]
    assert overpass_api.request(QUERY)["elements"]
    assert isolated == [15.0] and len(server.queries) == 2


def test_duplicate_query_as_a_remark_or_a_429_page(server, isolated, monkeypatch):
    monkeypatch.setattr(settings, "overpass_duplicate_wait_s", 15.0)
    remark = json.dumps({"osm3s": {}, "elements": [], "remark": DUPLICATE}).encode()
    server.script = [(200, {}, remark), (429, {}, rp.error_page(DUPLICATE))]
    assert overpass_api.request(QUERY)["elements"]
    assert isolated == [15.0, 15.0] and len(server.queries) == 3


def test_duplicate_query_that_persists_is_a_clear_error(server, isolated, monkeypatch):
    monkeypatch.setattr(settings, "overpass_duplicate_retries", 1)
    server.script = [(200, {}, rp.error_page(DUPLICATE))] * 5
    with pytest.raises(QueryError, match=r"still running an identical query after 1 waits .*duplicate_query"):
        overpass_api.request(QUERY)
    assert len(server.queries) == 2


@pytest.mark.parametrize("remark", [
    'runtime error: Query ran out of memory in "query" at line 1. It would need at least 0 MB of RAM to continue.',
    'runtime error: Query timed out in "query" at line 1 after 181 seconds.',
])
def test_memory_and_timeout_remarks_are_not_retried_unchanged(server, remark):
    server.script = [(200, {}, json.dumps({"osm3s": {}, "elements": [], "remark": remark}).encode())]
    with pytest.raises(QueryTooLarge) as err:
        overpass_api.request(QUERY)
    assert remark in err.value.message and len(server.queries) == 1


def test_a_piece_too_large_is_asked_for_in_halves(fake):
    layer = load_layer("north-south")
    whole, _, _ = overpass.fetch_layer(layer, None)
    n_pieces = len(fake.queries)
    layercache.cache_path(layer).unlink()
    ox.settings.use_cache = False  # restored by the fixture
    fake.queries.clear()
    fake.max_area = min(rp.parse_poly(rp._SELECT.search(q).group(3)).area for q in queries.layer_queries(
        layer, layer_points(layer))) * 0.9  # every piece is too large once, each half fits
    halved, _, _ = overpass.fetch_layer(layer, None)
    assert set(halved["osm_id"]) == set(whole["osm_id"]) and halved["osm_id"].is_unique
    assert n_pieces * 3 <= len(fake.queries) <= n_pieces * 7
    assert len(set(fake.queries)) == len(fake.queries), "no identical retries"


def test_a_piece_still_too_large_after_halving_stops_with_a_clear_message(fake, monkeypatch):
    monkeypatch.setattr(settings, "overpass_split_depth", 2)
    fake.max_area = 0.0
    with pytest.raises(QueryTooLarge) as err:
        overpass.fetch_layer(load_layer("north-south"), None)
    assert err.value.message.startswith("north-south: Overpass (https://overpass.invalid/api/interpreter) stopped "
                                        "the query: runtime error: Query ran out of memory")
    assert "halved 2 times" in err.value.message and "--overpass-url" in err.value.message
    assert len(fake.queries) == 3, "the piece, its first half, that half's first half: then it stops"


def test_halves_cover_the_piece():
    piece = rp.parse_poly("41.7 48.4 41.9 48.4 41.9 48.9 41.7 48.9 41.7 48.4")
    parts = split.halves(piece)
    assert len(parts) == 2 and sum(p.area for p in parts) == pytest.approx(piece.area)
    assert all(p.bounds[2] - p.bounds[0] == pytest.approx(0.25) for p in parts), "cut across the longer side"


# ---------------------------------------------------------------------- endpoints


def test_endpoints_are_tried_in_order_when_one_is_down(server, monkeypatch, isolated):
    monkeypatch.setattr(settings, "overpass_url", ["https://down.invalid/api/", "https://overpass.invalid/api/interpreter"])
    server.down = {"down.invalid"}
    assert overpass_api.request(QUERY)["elements"]
    assert [u.split("/")[2] for u in server.urls] == ["down.invalid", "overpass.invalid"]
    assert isolated == [], "the second endpoint is asked at once"
    assert overpass_api.cache_file(QUERY, "https://overpass.invalid/api").is_file()
    assert overpass_api.request(QUERY)["elements"] and len(server.urls) == 2, "answered from the cache"


def test_a_host_that_does_not_resolve_is_not_retried(server, monkeypatch, isolated):
    monkeypatch.setattr(settings, "overpass_url", "https://nxdomain.invalid/api,https://down.invalid/api")
    server.down = {"down.invalid"}
    server.unresolved = {"nxdomain.invalid"}
    with pytest.raises(NetworkError) as err:
        overpass_api.request(QUERY)
    hosts = [u.split("/")[2] for u in server.urls]
    assert hosts.count("nxdomain.invalid") == 1 and hosts.count("down.invalid") == RETRIES + 1
    assert "(https://nxdomain.invalid/api/interpreter) failed once, last: host name does not resolve" in err.value.message
    assert "(https://down.invalid/api/interpreter) failed 3 times, last: cannot connect" in err.value.message


def test_use_overpass_sets_osmnx_too(monkeypatch):
    monkeypatch.setattr(settings, "overpass_url", [])
    assert overpass_api.use_overpass(["http://127.0.0.1:8125/api/", "https://a.example/api,https://b.example/api"]) == [
        "http://127.0.0.1:8125/api", "https://a.example/api", "https://b.example/api"]
    assert ox.settings.overpass_url == "http://127.0.0.1:8125/api"
    assert overpass_api.endpoints() == settings.overpass_url
    with pytest.raises(Exception, match="is not an http\\(s\\) URL"):
        overpass_api.use_overpass(["overpass-api.de"])


def test_layer_fetch_reports_network_error_after_retries(fake, no_bundle):
    fake.script = [(504, {}, b"")] * 50
    with pytest.raises(NetworkError):
        overpass.fetch_layer(load_layer("bam"), None)
    data = Live().read(load_layer("bam"), layer_points(load_layer("bam")))
    assert data.source == "schematic" and "504" in data.warnings[0]


def test_rate_limit_asks_osmnx_for_a_slot(server, monkeypatch):
    statuses = []
    send = server.send

    def recording_send(session, request, **kw):
        if request.url.endswith("/status"):
            statuses.append(request.url)
        return send(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", True)
    monkeypatch.setattr(socket, "gethostbyname", lambda host: "127.0.0.1")  # osmnx pins the host's IP
    assert overpass_api.request(QUERY)["elements"]
    assert statuses == ["https://overpass.invalid/api/status"]


def test_unreachable_status_endpoint_adds_no_long_pause(server, monkeypatch, isolated):
    send = server.send

    def no_status(session, request, **kw):
        if request.url.endswith("/status"):
            raise requests.exceptions.ConnectionError("status endpoint down")
        return send(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", no_status)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", True)
    monkeypatch.setattr(socket, "gethostbyname", lambda host: "127.0.0.1")
    assert overpass_api.request(QUERY)["elements"]
    assert isolated == [], "osmnx's 60 s fallback pause is not used"


def test_retry_after_http_date():
    from datetime import datetime, timezone

    now = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert overpass_api.retry_after_s("Sat, 01 Jun 2024 12:00:30 GMT", now) == 30
    assert overpass_api.retry_after_s("12", now) == 12
    assert overpass_api.retry_after_s("soon", now) is None


def test_tests_cannot_reach_the_network():
    with pytest.raises(Exception, match="test tried to"):
        requests.get("https://overpass-api.de/api/status", timeout=1)


# ---------------------------------------------------------------------- caches


def test_cache_hit_on_second_call_without_http(fake, no_bundle):
    layer = load_layer("north-south")
    lines, points, provenance = overpass.fetch_layer(layer, None)
    detail = provenance.detail
    sent = len(fake.queries)
    cached = layercache.read_entry(layer)
    assert cached is not None
    c_lines, c_detail = cached.lines, cached.detail
    assert c_detail == detail and cached.provenance.data_date == provenance.data_date
    assert list(c_lines["osm_id"]) == list(lines["osm_id"])
    assert c_lines.geometry.geom_equals_exact(lines.geometry, 0).all()
    data = Live().read(layer, layer_points(layer))
    assert data.source == "cache" and data.detail == detail and len(data.lines) == len(lines)
    first = list(fake.queries)
    overpass.fetch_layer(layer, None)  # the raw responses are cached too (osmnx's HTTP cache) ...
    empty = [q for q in first if not fake.answer(q)["elements"]]
    assert fake.queries[sent:] == empty, "... except empty answers, which are asked for again"
    assert len(empty) < len(first)


def test_corrupt_cache_file_detected_reported_and_refetched(fake):
    layer = load_layer("bam")
    overpass.fetch_layer(layer, None)
    path = layercache.cache_path(layer)
    raw = bytearray(path.read_bytes())
    raw[-100] = ord("7") if raw[-100] != ord("7") else ord("8")  # one flipped digit in a coordinate
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"was corrupt \(checksum mismatch\) and has been deleted"):
        layercache.read_entry(layer)
    assert not path.exists()
    path.write_bytes(bytes(raw))
    sent = len(fake.queries)
    ox.settings.use_cache = False  # restored by the fixture: force a real refetch
    data = Live().read(layer, layer_points(layer))
    assert any("corrupt" in w for w in data.warnings)
    assert data.source == "osm" and len(fake.queries) == sent + 1
    assert layercache.read_entry(layer) is not None, "the refetch rewrote a valid cache file"


def test_truncated_cache_file_detected(fake):
    layer = load_layer("bam")
    overpass.fetch_layer(layer, None)
    path = layercache.cache_path(layer)
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(DataError, match=r"truncated: \d+ of \d+ bytes"):
        layercache.read_entry(layer)
    assert not path.exists()


def test_cache_file_that_is_not_json_detected(fake):
    layer = load_layer("bam")
    path = layercache.cache_path(layer)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataError, match="header is not JSON"):
        layercache.read_entry(layer)
    assert not path.exists()


def test_cache_of_an_edited_layer_is_stale(fake):
    layer = load_layer("bam")
    overpass.fetch_layer(layer, None)
    edited = dataclasses.replace(layer, osm={**layer.osm, "query_buffer_km": 30})
    assert layercache.read_entry(edited) is None
    assert layercache.read_entry(layer) is None, "the stale file was removed"


def test_corrupt_http_cache_file_is_refetched(server):
    overpass_api.request(QUERY)
    path = overpass_api.cache_file(QUERY)
    assert path.parent == settings.cache_dir / "overpass"
    path.write_text('{"elements": [{"type": "way", "id": 1', encoding="utf-8")
    assert overpass_api.request(QUERY)["elements"]
    assert len(server.queries) == 2
    assert json.loads(path.read_text())["elements"]


def test_cache_writes_leave_no_temporary_files(fake):
    overpass.fetch_layer(load_layer("bam"), None)
    leftovers = [p for p in settings.cache_dir.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_an_endpoint_asking_for_hours_is_left_for_the_next(server, monkeypatch, isolated):
    monkeypatch.setattr(settings, "overpass_url", ["https://busy.invalid/api", "https://overpass.invalid/api"])
    server.script = [(429, {"Retry-After": "86400"}, b"")]
    assert overpass_api.request(QUERY)["elements"]
    assert [u.split("/")[2] for u in server.urls] == ["busy.invalid", "overpass.invalid"] and isolated == []


def test_cli_rejects_an_overpass_url_that_is_not_one(tmp_path, capsys):
    from geo.cli import main

    assert main(["build", "--overpass-url", "overpass-api.de", "--offline", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["corridormap: error: Overpass URL 'overpass-api.de' is not an http(s) URL: give the API base, "
                   "e.g. https://overpass-api.de/api (--overpass-url or CORRIDORMAP_OVERPASS_URL)"]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- caches hold only checked data

MALFORMED = {
    "node without lat": {"type": "node", "id": 5, "lon": 48.5, "tags": {"barrier": "border_control"}},
    'coordinates "abc"': {"type": "node", "id": 6, "lat": "abc", "lon": 48.5, "tags": {"barrier": "border_control"}},
    "junk in a geometry list": {"type": "way", "id": 7, "geometry": [{"lat": 41.8, "lon": 48.5}, "junk", 3],
                                "tags": {"railway": "rail"}},
    "a way id that is text": {"type": "way", "id": "way/7", "geometry": [{"lat": 41.8, "lon": 48.5}] * 2},
    "a latitude out of range": {"type": "way", "id": 8, "geometry": [{"lat": 141.8, "lon": 48.5}] * 2},
}


def _answer(server, elements) -> bytes:
    return json.dumps({"osm3s": {"timestamp_osm_base": server.timestamp}, "elements": elements}).encode()


@pytest.mark.parametrize("bad", list(MALFORMED), ids=list(MALFORMED))
def test_elements_that_do_not_parse_are_a_data_error_naming_the_element(bad):
    good = rp.way_element(1, LineString([(48.55, 41.80), (48.56, 41.79)]), {"railway": "rail"})
    with pytest.raises(DataError, match=r"^Overpass (node|way) .*(lat/lon|not an integer)"):
        overpass.elements_to_frames([good, MALFORMED[bad]])


def test_null_vertices_are_skipped_as_overpass_sends_them():
    way = rp.way_element(1, LineString([(48.55, 41.80), (48.56, 41.79), (48.57, 41.78)]), {"railway": "rail"})
    way["geometry"][1] = None  # out geom(bbox): a vertex outside the box
    lines, _ = overpass.elements_to_frames([way])
    assert list(lines.geometry.iloc[0].coords) == [(48.55, 41.80), (48.57, 41.78)]


@pytest.mark.parametrize("bad", ["node without lat", 'coordinates "abc"', "junk in a geometry list"])
def test_a_malformed_answer_is_not_cached_and_the_next_build_asks_again(server, bad, no_bundle):
    layer = load_layer("north-south")
    server.script = [(200, {}, _answer(server, [MALFORMED[bad]]))]
    data = Live().read(layer, layer_points(layer))
    assert data.source == "schematic" and len(data.warnings) == 1
    assert data.warnings[0].startswith("north-south: Overpass (https://overpass.invalid/api/interpreter) sent a "
                                       "malformed answer (Overpass ")
    assert "it was not cached" in data.warnings[0]
    assert not list(settings.cache_dir.rglob("*.json")), "neither the answer nor the layer was cached"
    sent = len(server.queries)
    again = Live().read(layer, layer_points(layer))
    assert len(server.queries) > sent, "the next build sends the query again"
    assert again.source == "osm" and {304666833, 444749531} <= set(again.lines["osm_id"])


def test_an_empty_answer_is_not_cached_so_it_cannot_make_later_builds_schematic(server, no_bundle):
    layer = load_layer("north-south")
    ways, server.ways = server.ways, []
    server._index()
    first = Live().read(layer, layer_points(layer))
    assert first.source == "schematic" and "no OSM lines" in first.warnings[0]
    assert first.warnings[0].startswith("north-south: Overpass returned no OSM lines")
    assert not list(settings.cache_dir.rglob("*.json"))
    server.ways = ways
    server._index()
    sent = len(server.queries)
    second = Live().read(layer, layer_points(layer))
    assert len(server.queries) > sent and second.source == "osm"


@pytest.mark.parametrize("planted", [
    {"elements": [MALFORMED['coordinates "abc"']]},
    {"elements": [MALFORMED["junk in a geometry list"]]},
    {"elements": []},
    {"elements": "not a list"},
])
def test_a_planted_raw_cache_file_that_fails_the_check_is_not_trusted(server, planted, caplog):
    path = overpass_api.cache_file(QUERY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"osm3s": {}, **planted}), encoding="utf-8")
    data = overpass_api.request(QUERY)
    assert {e["id"] for e in data["elements"]} == {304666833, 444749531}
    assert len(server.queries) == 1, "the planted file was not used: the query was sent"
    assert any("deleting corrupt Overpass cache file" in r.getMessage() for r in caplog.records)
    assert json.loads(path.read_text())["elements"] == data["elements"], "replaced by the checked answer"


# ---------------------------------------------------------------------- network time: per request and per build


@pytest.fixture
def slow(monkeypatch):
    """Point Overpass at a slow server on 127.0.0.1 (tests/overpass_replay.slow_server); restores on exit."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        def start(mode: str, interval: float = 1.0) -> str:
            url = stack.enter_context(rp.slow_server(mode, interval))
            monkeypatch.setattr(settings, "overpass_url", [url])
            return url

        yield start


@pytest.mark.parametrize("mode", ["trickle", "trickle-all", "silent"])
def test_one_request_ends_at_its_deadline_whatever_the_server_sends(slow, monkeypatch, mode):
    import time

    slow(mode, interval=0.5)  # a byte every 0.5 s: each read succeeds, so only a total deadline stops it
    monkeypatch.setattr(settings, "http_deadline_s", 1.5)
    monkeypatch.setattr(settings, "http_max_retries", 0)
    start = time.monotonic()
    with pytest.raises(NetworkError, match=r"failed once, last: no complete answer within 1\.5 s|"
                                           r"failed once, last: no answer within 1\.5 s \(timeout\)"):
        overpass_api.request(QUERY)
    assert 1.4 <= time.monotonic() - start < 2.5


def test_retries_and_backoff_keep_to_the_network_budget(slow, monkeypatch, isolated):
    import time

    from geo.osm.budget import network_budget

    slow("trickle")
    monkeypatch.setattr(settings, "http_deadline_s", 1.0)
    monkeypatch.setattr(settings, "http_max_retries", 4)  # unbounded by the budget: 5 x 1 s plus 1+2+4+8 s waits
    monkeypatch.setattr(settings, "http_backoff_s", 1.0)
    start = time.monotonic()
    with network_budget(2.5), pytest.raises(NetworkError) as info:
        overpass_api.request(QUERY)
    elapsed = time.monotonic() - start
    assert info.value.message.startswith("the network time budget of 2.5 s for this build is spent (Overpass (http://")
    assert "failed 2 times, last: no complete answer within 1 s" in info.value.message
    assert "--network-budget" in info.value.message
    assert isolated == [1.0], "the 2 s backoff after the second attempt would outlast the budget: not waited"
    assert 1.9 <= elapsed < 3.0


def test_a_spent_budget_sends_nothing_and_cached_answers_still_come(server, monkeypatch):
    from geo.osm.budget import network_budget

    overpass_api.request(QUERY)
    other = QUERY.replace("rail", "light_rail")
    with network_budget(1e-9):
        assert overpass_api.request(QUERY)["elements"], "the raw response cache needs no network time"
        with pytest.raises(NetworkError, match=r"budget of 1e-09 s for this build is spent \(before Overpass was asked\)"):
            overpass_api.request(other)
    assert len(server.queries) == 1


def test_the_budget_counts_network_time_only(server):
    import time

    from geo.osm.budget import network_budget

    with network_budget(0.5) as clock:
        time.sleep(0.6)  # reading files, routing: not network time
        assert overpass_api.request(QUERY)["elements"]
    assert 0 < clock.used < 0.5 and clock.since is None


def test_a_build_past_its_budget_ends_in_time_with_one_warning(slow, monkeypatch, no_bundle):
    import time

    import geopandas as gpd

    from geo.pipeline import build_layers

    slow("silent")
    fetches = []  # (layer id, seconds) of each live fetch
    fetch_layer = overpass.fetch_layer

    def timed(layer, area=None, refresh=False, endpoints=()):
        start = time.monotonic()
        try:
            return fetch_layer(layer, area, refresh=refresh, endpoints=endpoints)
        finally:
            fetches.append((layer.id, time.monotonic() - start))

    monkeypatch.setattr(overpass, "fetch_layer", timed)
    layers = [load_layer("bam"), load_layer("north-south"), load_layer("ru-az-border")]
    planted = gpd.GeoDataFrame({"osm_id": [1], "railway": ["rail"], "geometry": [LineString(layer_points(layers[1])[:2])]},
                               crs=4326)
    layercache.write(layers[1], planted, schema.empty_frame(), Provenance("osm", "OpenStreetMap via Overpass, planted"), [])
    results = build_layers(layers, Live(network_budget_s=2))
    assert [r.source for r in results] == ["schematic", "cache", "schematic"]
    assert [f[0] for f in fetches] == ["bam"] and 1.5 < fetches[0][1] < 2.5, "2 s of network time, then no more"
    warnings = [w for r in results for w in r.warnings]
    assert len(warnings) == 1 and warnings == results[0].warnings
    assert warnings[0].startswith("bam: the network time budget of 2 s for this build is spent (Overpass (http://127.0.0.1:")
    assert warnings[0].endswith("; drawn schematically; the remaining layers come from the cache or the bundled "
                                "snapshot, or are drawn schematically")


def test_cli_network_budget_must_be_a_positive_number(tmp_path, capsys):
    from geo.cli import main

    assert main(["build", "--network-budget", "0", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "corridormap: error: network budget '0.0' is not a number of seconds above 0: fix --network-budget or "
        "CORRIDORMAP_NETWORK_BUDGET_S"]
    assert not (tmp_path / "out").exists()


def test_a_live_source_sends_to_its_own_endpoints_and_leaves_the_settings_alone(fake, no_bundle):
    before = (list(settings.overpass_url), ox.settings.overpass_url)
    source = Live(endpoints=("https://mine.invalid/api/interpreter",))
    assert source.endpoints == ("https://mine.invalid/api",)
    layer = load_layer("north-south")
    data = source.read(layer, layer_points(layer))
    assert data.source == "osm" and fake.urls
    assert {u.split("/")[2] for u in fake.urls} == {"mine.invalid"}
    assert (list(settings.overpass_url), ox.settings.overpass_url) == before


# ---------------------------------------------------------------------- bounded answers


def test_an_answer_over_the_size_cap_is_refused_unread(server, monkeypatch):
    monkeypatch.setattr(settings, "max_overpass_bytes", 200)
    with pytest.raises(QueryTooLarge, match="more than 200 bytes"):
        overpass_api.request(QUERY)
    assert len(server.queries) == 1, "a size cap is not retried on the same query"


def test_an_answer_nested_too_deep_is_a_data_error(server):
    deep = b'{"osm3s": {}, "elements": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    server.script = [(200, {}, deep)]
    with pytest.raises(DataError, match="nested too deeply"):
        overpass_api.request(QUERY)


# ---------------------------------------------------------------------- the budget covers /status

_STATUS_HEAD = b"Connected as: 1\nCurrent time: 2026-01-01T00:00:00Z\nAnnounced endpoint: none\nRate limit: 2\n"


@pytest.mark.parametrize("status, said", [
    (None, "budget of 3 s for this build is spent"),  # the status page never answers
    (_STATUS_HEAD + b"Currently running queries (pid, space limit, time limit, start time):\n",
     "its /status kept listing running queries and no free slot"),
    (_STATUS_HEAD + b"Slot available after: soon\nCurrently running queries:\n", "HTTP 504"),
])
def test_an_overpass_status_page_ends_within_the_budget(monkeypatch, status, said):
    import time

    from geo.osm.budget import network_budget

    monkeypatch.setattr(ox.settings, "overpass_rate_limit", True)
    monkeypatch.setattr(settings, "overpass_status_poll_s", 0.5)
    monkeypatch.setattr(settings, "http_backoff_s", 0.2)
    with rp.status_server(status) as url:
        monkeypatch.setattr(settings, "overpass_url", [url])
        start = time.monotonic()
        with network_budget(3), pytest.raises(NetworkError) as info:
            overpass_api.request(QUERY)
        elapsed = time.monotonic() - start
    assert elapsed < 4.0, elapsed
    assert said in info.value.message


def test_status_pages_are_read_as_osmnx_reads_them():
    head = _STATUS_HEAD.decode()
    assert overpass_api.status_wait_s(head + "2 slots available now.\nCurrently running queries:\n") == 0
    assert overpass_api.status_wait_s(head + "Slot available after: 2026-01-01T00:00:12Z, in 12 seconds.\n"
                                      "Slot available after: 2026-01-01T00:00:30Z, in 30 seconds.\n") == 12
    assert overpass_api.status_wait_s(head.replace("Rate limit: 2", "Rate limit: 0")) == 0
    assert overpass_api.status_wait_s(head + "Slot available after: soon\n") is None
    assert overpass_api.status_wait_s("<html>Bad gateway</html>") is None
    wait = overpass_api.status_wait_s(head + "Currently running queries (pid, space limit, time limit, start time):\n")
    assert wait != wait  # nan: ask again later
