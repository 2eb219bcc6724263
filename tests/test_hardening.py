"""Hostile and unlucky inputs through every entry point: exit 2 with a message naming the file, line or
key; no hang on FIFOs or devices; invisible characters do not hide places; caches hold only checked data."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import cli, settings
from geo.errors import DataError, OutputError
from geo.maps import assets
from geo.osm import cache, local, snapshot
from geo.osm.provenance import DataDate, Provenance
from geo.osm.schema import empty_frame
from geo.core.layers import load_layer

REPO = Path(__file__).resolve().parents[1]
QUICK_BUILD = ["build", "--layer", "ru-az-border", "--offline", "--tiles", "none"]


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _error(code: int, err: str, *needles: str) -> str:
    """Exit 2 with one ``corridormap: error:`` line holding every needle; returns that line."""
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    line = next(line for line in err.splitlines() if line.startswith("corridormap: error: "))
    for needle in needles:
        assert needle in line, line
    return line


@contextmanager
def deadline(seconds: float = 20.0):
    """Fail (instead of hanging the suite) when the block takes longer than ``seconds``."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def layers_copy(tmp_path, monkeypatch):
    """A copy of layers/ that the test may break, used instead of the real one."""
    folder = tmp_path / "layers"
    shutil.copytree(REPO / "layers", folder)
    monkeypatch.setattr(settings, "layers_dir", folder)
    return folder


# --------------------------------------------------------------------------- files that are not files


def test_fifo_and_device_articles_fail_at_once(tmp_path, capsys):
    fifo = tmp_path / "article.txt"
    os.mkfifo(fifo)
    with deadline():
        code, _, err = run(capsys, "mentions", fifo)
    _error(code, err, str(fifo), "named pipe (FIFO), not a regular file")
    with deadline():
        code, _, err = run(capsys, "build", "/dev/zero", "--out", tmp_path / "out", "--offline")
    _error(code, err, "/dev/zero", "character device")
    assert not (tmp_path / "out").exists()


def test_an_oversized_article_is_refused_without_reading_it_whole(tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:  # sparse: 50 GB on paper
        fh.truncate(50_000_000_000)
    reads = []
    real_open = os.fdopen

    def counting_fdopen(fd, *args, **kwargs):
        handle = real_open(fd, *args, **kwargs)
        real_read = handle.read
        handle.read = lambda n=-1: reads.append(n) or real_read(n)
        return handle

    monkeypatch.setattr(os, "fdopen", counting_fdopen)
    code, _, err = run(capsys, "mentions", big)
    _error(code, err, "big.txt", "is 50 GB, over the 5 MB limit: split it")
    assert reads == [settings.max_article_bytes + 1]


def test_a_fifo_layer_file_fails_at_once(layers_copy, capsys):
    os.mkfifo(layers_copy / "zz-pipe.toml")
    with deadline():
        code, _, err = run(capsys, "layers")
    _error(code, err, "zz-pipe.toml", "named pipe")


@pytest.mark.parametrize("folder", [".", "gazetteer"])
def test_a_fifo_layer_file_fails_at_once_in_a_fresh_process(layers_copy, tmp_path, folder):
    """``mentions`` reads the layer files first for the gazetteer cache's key, before any layer is listed."""
    os.mkfifo(layers_copy / folder / "zz-pipe.toml")
    article = tmp_path / "article.txt"
    article.write_text("Freight from Baku reaches Derbent by rail.", encoding="utf-8")
    env = {**os.environ, "CORRIDORMAP_LAYERS": str(layers_copy), "CORRIDORMAP_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "geo.cli", "mentions", str(article)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    _error(proc.returncode, proc.stderr, "zz-pipe.toml", "named pipe")


# --------------------------------------------------------------------------- invisible characters


def test_zero_width_and_direction_characters_do_not_hide_places():
    from geo.text.mentions import extract_mentions
    from geo.text.resolve import resolve

    text = ("Freight from Baku\u200b reaches Derbent\u200e by rail, and \u00adMoscow wants more. "
            "The line via Ast\u00adara\u200f is new.")
    mentions = extract_mentions(text)
    found = {m.text.replace("\u00ad", ""): m for m in mentions}
    assert {"Baku", "Derbent", "Moscow", "Astara"} <= set(found)
    for m in mentions:
        assert text[m.start:m.end] == m.text
        assert m.text in m.sentence
    assert text[found["Moscow"].start - 1] == "\u00ad" and text[found["Baku"].end] == "\u200b"
    places = {p.name for p in resolve(mentions, text) if p}
    assert {"Baku", "Derbent", "Moscow"} <= places


def test_long_sentences_are_quoted_around_the_mention():
    from geo.text.mentions import extract_mentions

    filler = " ".join(["and the freight kept moving"] * 400)  # one 11,000-character sentence
    text = f"Trains left Baku {filler} until they reached Derbent without a stop"
    mentions = extract_mentions(text)
    assert [m.text for m in mentions][:1] == ["Baku"] and "Derbent" in [m.text for m in mentions]
    for m in mentions:
        assert len(m.sentence) <= settings.max_quote_chars and m.text in m.sentence


# --------------------------------------------------------------------------- layer files


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("old, new, needles", [
    ("lat = 41.795", "lat = 999", ["crossings[0].lat", "between -90 and 90"]),
    ("lat = 41.795", "lat = inf", ["crossings[0].lat", "finite"]),
    ("lon = 48.530", "lon = -nan", ["crossings[0].lon", "finite"]),
    ("clip_buffer_km = 10", "clip_buffer_km = 1e308", ["osm.clip_buffer_km", "at most 1000"]),
    ("query_buffer_km = 5", "query_buffer_km = -1", ["osm.query_buffer_km"]),
    ("""crossing_way_filters = ['["railway"="rail"]',""", """crossing_way_filters = ['["railway"~"^(rail"]',""",
     ["osm.crossing_way_filters[0]", "malformed"]),
    ("""boundary_filter = '["boundary"="administrative"]["admin_level"="2"]'""",
     """boundary_filter = 'boundary=administrative'""", ["osm.boundary_filter", "not a tag selector"]),
], ids=["lat-999", "lat-inf", "lon-nan", "clip-1e308", "negative-buffer", "bad-regex", "not-a-selector"])
def test_bad_numbers_and_selectors_in_a_layer_file(layers_copy, capsys, tmp_path, old, new, needles):
    _edit(layers_copy / "ru-az-border.toml", old, new)
    code, _, err = run(capsys, "layers")
    _error(code, err, "ru-az-border.toml", *needles)
    code, _, err = run(capsys, *QUICK_BUILD, "--out", tmp_path / "out")
    _error(code, err, "ru-az-border.toml", *needles)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_a_station_far_off_the_globe(layers_copy, capsys):
    _edit(layers_copy / "north-south.toml", "geonames_id = 524901", "lat = 91.0\nlon = 37.6")
    code, _, err = run(capsys, "layers")
    _error(code, err, "north-south.toml", "stations[0].lat")


def test_the_index_layer_id_is_reserved(layers_copy, capsys):
    path = layers_copy / "ru-az-border.toml"
    _edit(path, 'id = "ru-az-border"', 'id = "index"')
    path.rename(layers_copy / "index.toml")
    code, _, err = run(capsys, "layers")
    _error(code, err, "index.toml", "reserved")


def test_an_empty_layers_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(settings, "layers_dir", tmp_path)
    code, _, err = run(capsys, *QUICK_BUILD[:1], "--offline", "--out", tmp_path / "out")
    _error(code, err, str(tmp_path), "holds no layer files")


# --------------------------------------------------------------------------- --osm-dir


def _osm_dir(tmp_path: Path, osm_id) -> Path:
    """An extract with one border-control node at the Samur–Yalama crossing and one rail way."""
    folder = tmp_path / f"osm-{abs(hash(str(osm_id)))}"
    folder.mkdir()
    frame = gpd.GeoDataFrame(
        {"osm_id": [osm_id, "way/4"], "barrier": ["border_control", None], "railway": [None, "rail"],
         "name": ["Samur", None]},
        geometry=[Point(48.5300, 41.7950), LineString([(48.50, 41.75), (48.56, 41.84)])], crs=4326)
    frame.to_file(folder / "extract.geojson", driver="GeoJSON")
    return folder


def test_typed_osm_ids_are_read(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, *QUICK_BUILD[:3], "--tiles", "none", "--osm-dir", _osm_dir(tmp_path, "node/1397171778"),
                       "--out", out)
    assert code == 0, err
    features = json.loads((out / "ru-az-border.geojson").read_text(encoding="utf-8"))["features"]
    assert any(f["properties"].get("osm_ids") == "1397171778" for f in features), "the node placed a crossing"
    ids = local.osm_ids(pd.Series(["node/1397171778", "w12", 7, 7.0, None]), "x")
    assert list(ids) == [1397171778, 12, 7, 7, None]


def test_a_malformed_osm_id_names_the_file(tmp_path, capsys):
    folder = _osm_dir(tmp_path, "node/abc")
    code, _, err = run(capsys, *QUICK_BUILD[:3], "--tiles", "none", "--osm-dir", folder, "--out", tmp_path / "out")
    _error(code, err, "extract.geojson", "'node/abc' is not an OSM id")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- snapshots


def _fake_snapshot(tmp_path: Path, file_name: str, manifest_text: str | None = None) -> Path:
    folder = tmp_path / "snap"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    data = b"not really a GeoPackage"
    (outside / "x.gpkg").write_bytes(data)
    manifest = {"format": snapshot.FORMAT, "layers": {"ru-az-border": {
        "file": file_name, "sha256": sha256(data).hexdigest(), "detail": ""}}}
    (folder / snapshot.MANIFEST).write_text(manifest_text or json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ["../outside/x.gpkg", "ABSOLUTE", "sub/x.gpkg", ".."], ids=["dotdot", "absolute",
                                                                                               "folder", "parent"])
def test_snapshot_manifests_name_plain_files_inside(tmp_path, capsys, name):
    if name == "ABSOLUTE":
        name = str(tmp_path / "outside" / "x.gpkg")
    folder = _fake_snapshot(tmp_path, name)
    code, _, err = run(capsys, *QUICK_BUILD, "--snapshot", folder, "--out", tmp_path / "out")
    _error(code, err, "manifest.json", "layers.ru-az-border.file", "plain file inside the snapshot")
    assert not (tmp_path / "out").exists()


def test_a_deeply_nested_manifest(tmp_path, capsys):
    folder = _fake_snapshot(tmp_path, "x.gpkg", '{"format": "x", "layers": ' + "[" * 200_000 + "]" * 200_000 + "}")
    code, _, err = run(capsys, *QUICK_BUILD, "--snapshot", folder, "--out", tmp_path / "out")
    _error(code, err, "manifest.json", "nested too deeply")


def test_snapshot_with_osm_dir_is_an_error(tmp_path, capsys):
    folder = _fake_snapshot(tmp_path, "x.gpkg")
    code, _, err = run(capsys, *QUICK_BUILD, "--snapshot", folder, "--osm-dir", tmp_path / "outside",
                       "--out", tmp_path / "out")
    _error(code, err, "--snapshot and --osm-dir")
    assert not (tmp_path / "out").exists()


def test_manifest_shows_when_live_data_expires(tmp_path):
    frame = gpd.GeoDataFrame({"osm_id": [1], "railway": ["rail"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=4326)
    live = "OpenStreetMap via Overpass, data as of 2026-01-01T00:00:00Z, fetched 2026-01-02; 1 way"
    folder = snapshot.write_snapshot(tmp_path / "snap", {
        "bam": (frame, empty_frame(), Provenance("osm", live, DataDate.parse("2026-01-01T00:00:00Z"), date(2026, 1, 2))),
        "north-south": (frame, empty_frame(), Provenance("osm", "local OSM extract x (1 files)"))}, {})
    layers = snapshot.read_manifest(folder)["layers"]
    assert layers["bam"]["fetched"] == "2026-01-02"
    assert layers["bam"]["expires"] == (datetime(2026, 1, 2) + timedelta(days=settings.cache_max_age_days)).date().isoformat()
    assert layers["north-south"]["expires"] is None


# --------------------------------------------------------------------------- geoparse


def test_geoparse_skips_bad_documents_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(settings, "max_article_bytes", 5000)
    lines = [
        json.dumps({"id": "ok1", "text": "Trains run from Moscow to Baku."}).encode(),
        json.dumps({"id": "number", "text": 42}).encode(),
        json.dumps({"id": "list", "text": ["Baku"]}).encode(),
        json.dumps({"id": "object", "text": {"a": "Baku"}}).encode(),
        b'{"id": "latin1", "text": "Bak\xfc"}',
        b'{"id": "surrogate", "text": "Baku \\ud800"}',
        json.dumps({"id": "huge", "text": "Baku " * 1100}).encode(),
        b'{"id": "deep", "text": ' + b"[" * 3000 + b"]" * 3000 + b"}",
        json.dumps({"id": "huger", "text": "Baku " * 2100}).encode(),
        json.dumps({"id": "ok2", "text": "Derbent\u200b is on the Caspian."}).encode(),
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    code, stdout, err = run(capsys, "geoparse", src, "--out", out)
    assert code == 2 and "Traceback" not in err
    warnings = [line for line in err.splitlines() if line.startswith("corridormap: warning:")]
    expected = {2: "'text' must be a string, not int", 3: "not list", 4: "not dict", 5: "not UTF-8",
                6: "lone surrogate", 7: "'text' is 5.5 KB, over the 5 KB limit", 8: "nested too deeply",
                9: "the line is over 10 KB"}
    assert len(warnings) == len(expected), err
    for (n, needle), warning in zip(expected.items(), warnings):
        assert f"in.jsonl:{n}:" in warning and needle in warning and "(skipped)" in warning
    assert "8 documents of" in err and "8 skipped" in stdout
    written = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in written] == ["ok1", "ok2"]
    assert [t["name"] for t in written[1]["toponyms"]][:1] == ["Derbent"]


def test_geoparse_input_that_is_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    with deadline():
        code, _, err = run(capsys, "geoparse", fifo, "--out", tmp_path / "out.jsonl")
    _error(code, err, "in.jsonl", "named pipe")


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize("name, value, needle", [
    ("CORRIDORMAP_CACHE_MAX_AGE_DAYS", "abc", "give a number"),
    ("CORRIDORMAP_CACHE_MAX_AGE_DAYS", "inf", "give a number"),
    ("CORRIDORMAP_LAYERS", "", "is empty"),
    ("CORRIDORMAP_CACHE", "  ", "is empty"),
])
def test_bad_environment_settings(tmp_path, name, value, needle):
    env = {**os.environ, name: value}
    proc = subprocess.run([sys.executable, "-m", "geo.cli", *QUICK_BUILD, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    _error(proc.returncode, proc.stderr, name, needle)
    assert not (tmp_path / "out").exists()


def test_a_cache_folder_that_is_a_file(tmp_path, monkeypatch):
    blocker = tmp_path / "cache-file"
    blocker.write_text("x")
    monkeypatch.setattr(settings, "cache_dir", blocker)
    url, _ = _bundled_script()
    with pytest.raises(OutputError, match="CORRIDORMAP_CACHE"):
        assets.local_asset_path(url)


# --------------------------------------------------------------------------- caches


def _bundled_script() -> tuple[str, str]:
    """A folium-offline script URL (materialised in the asset cache) and a page that loads it."""
    url = sorted(u for u in assets.known_asset_urls() if u.endswith(".js") and "/leaflet@" not in u)[0]
    return url, f'<html><head><script src="{url}"></script></head><body></body></html>'


@pytest.mark.parametrize("when", ["before-first-use", "after-first-use"])
def test_a_planted_asset_is_never_inlined(tmp_path, when):
    url, page = _bundled_script()
    path = assets.local_asset_path(url)
    if when == "before-first-use":  # the content-addressed name is known in advance
        path.unlink()
    path.write_text("alert('PLANTED')", encoding="utf-8")
    html, missing = assets.inline_assets(page)
    assert missing == [] and "PLANTED" not in html and "<script>" in html
    assert "PLANTED" not in path.read_text(encoding="utf-8"), "the packaged copy is back"
    folder = Path(settings.cache_dir) / "assets"
    assert path.parent == folder and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_planted_layer_cache_entry_is_not_trusted(tmp_path):
    layer = load_layer("ru-az-border")
    good = gpd.GeoDataFrame({"osm_id": [1], "boundary": ["administrative"]},
                            geometry=[LineString([(48.4, 41.7), (48.6, 41.9)])], crs=4326)
    path = cache.write(layer, good, empty_frame(), Provenance("osm", "OpenStreetMap via Overpass, data as of x, fetched 2026-01-01"), [])
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    head = json.loads(path.read_bytes().partition(b"\n")[0])
    hostile = json.dumps({"lines": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [["abc", 1], [2]]}}]},
        "points": {"type": "FeatureCollection", "features": []}}).encode()
    head.update(bytes=len(hostile), sha256=sha256(hostile).hexdigest())  # a well-formed entry, hostile payload
    path.write_bytes(json.dumps(head).encode() + b"\n" + hostile)
    with pytest.raises(DataError, match="corrupt"):
        cache.read_entry(layer)
    assert not path.exists()
    os.mkfifo(path)  # a FIFO planted in its place neither hangs nor stays
    with deadline(), pytest.raises(DataError, match="named pipe"):
        cache.read_entry(layer)
    assert not path.exists()


def _age_cache(layer, days: float) -> None:
    path = cache.cache_path(layer)
    head, _, payload = path.read_bytes().partition(b"\n")
    header = json.loads(head)
    header["fetched"] = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
    path.write_bytes(json.dumps(header).encode() + b"\n" + payload)


def test_expired_cache_is_used_offline_with_a_warning(tmp_path, no_bundle):
    from geo.osm.source import Live
    from geo.core.stations import layer_points

    layer = load_layer("ru-az-border")
    good = gpd.GeoDataFrame({"osm_id": [1], "boundary": ["administrative"]},
                            geometry=[LineString([(48.4, 41.7), (48.6, 41.9)])], crs=4326)
    cache.write(layer, good, empty_frame(), Provenance("osm", "OpenStreetMap via Overpass, data as of x, fetched 2026-01-01"), [])
    fresh = Live(offline=True).read(layer, layer_points(layer))
    assert fresh.source == "cache" and not fresh.warnings
    _age_cache(layer, settings.cache_max_age_days + 1)
    assert cache.read_entry(layer).expired
    stale = Live(offline=True).read(layer, layer_points(layer))
    assert stale.source == "cache" and "older than 7 days" in " ".join(stale.warnings)


def test_expired_or_refreshed_cache_is_fetched_again(overpass_env, fake_overpass, tmp_path, no_bundle):
    """(Without the bundled snapshot, whose data is newer than the replayed answers.)"""
    from geo.osm.source import Live
    from geo.core.stations import layer_points

    layer = load_layer("ru-az-border")
    first = Live().read(layer, layer_points(layer))
    assert first.source == "osm"
    sent = len(fake_overpass.queries)
    assert Live().read(layer, layer_points(layer)).source == "cache" and len(fake_overpass.queries) == sent
    again = Live(refresh=True).read(layer, layer_points(layer))
    assert again.source == "osm" and len(fake_overpass.queries) > sent, "--refresh asked the server again"
    sent = len(fake_overpass.queries)
    _age_cache(layer, settings.cache_max_age_days + 1)
    for answer in Path(settings.cache_dir, "overpass").glob("*.json"):  # the cached answers are as old
        old = (datetime.now() - timedelta(days=settings.cache_max_age_days + 1)).timestamp()
        os.utime(answer, (old, old))
    expired = Live().read(layer, layer_points(layer))
    assert expired.source == "osm" and len(fake_overpass.queries) > sent


def test_planted_nominatim_answers_are_not_used(tmp_path, monkeypatch):
    from geo.text import nominatim

    path = nominatim.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Atlantis": {"lat": "abc", "lon": 1}, "Nowhere": {"lat": 999, "lon": 0},
                                "Baku": {"lat": 40.4, "lon": 49.9, "display_name": "Baku"}, "Void": None}))
    asked = []
    monkeypatch.setattr("geopy.geocoders.Nominatim.geocode", lambda self, name, **kw: asked.append(name))
    assert nominatim.lookup("Baku")["lat"] == 40.4 and nominatim.lookup("Void") is None and not asked
    assert nominatim.lookup("Atlantis") is None and nominatim.lookup("Nowhere") is None
    assert asked == ["Atlantis", "Nowhere"], "the planted answers were asked again, not used"
    assert stat.S_IMODE(Path(settings.cache_dir).stat().st_mode) == 0o700


# --------------------------------------------------------------------------- caches that are ours


def _modes(folder: Path) -> tuple[set[int], set[int]]:
    """The permission bits of every folder (the root included) and every file under ``folder``."""
    dirs, names = {stat.S_IMODE(folder.stat().st_mode)}, set()
    for path in folder.rglob("*"):
        (dirs if path.is_dir() else names).add(stat.S_IMODE(path.lstat().st_mode))
    return dirs, names


def test_cache_folders_and_files_are_private_after_a_build(tmp_path, capsys):
    os.umask(0o022)
    code, _, err = run(capsys, *QUICK_BUILD, "--out", tmp_path / "out")
    assert code == 0, err
    root = Path(settings.cache_dir)
    assert (root / "routes").is_dir()
    dirs, names = _modes(root)
    assert dirs == {0o700} and names <= {0o600}, (dirs, names)


def test_cache_folder_is_private_after_mentions_alone(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text("A train left Baku for Moscow.", encoding="utf-8")
    code, out, err = run(capsys, "mentions", article)
    assert code == 0, err
    dirs, names = _modes(Path(settings.cache_dir))  # the gazetteer file, unless this process loaded it before
    assert dirs == {0o700} and names <= {0o600}, (dirs, names)


def test_a_world_writable_cache_folder_is_repaired_and_planted_entries_dropped(tmp_path, capsys, caplog):
    from geo import cachefile

    root = Path(settings.cache_dir)
    root.mkdir()
    os.chmod(root, 0o777)
    path = root / "planted.bin"
    cachefile.write(path, "test", "k", b"payload")
    os.chmod(path, 0o666)  # what another user of a 0777 folder could have left
    code, _, err = run(capsys, "layers")
    assert code == 0, err
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert "writable by other users" in caplog.text
    assert cachefile._open(path, "test", "k") is None and not path.exists()


def test_a_cache_path_that_is_a_regular_file_is_an_error(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(settings, "cache_dir", blocker)
    code, _, err = run(capsys, "layers")
    _error(code, err, str(blocker), "is a file, not a folder", "CORRIDORMAP_CACHE")


# --------------------------------------------------------------------------- --fixes through the bounded reader


def test_fixes_from_a_fifo_or_a_device_fail_at_once(tmp_path, capsys):
    fifo = tmp_path / "fixes.toml"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "named pipe"), ("/dev/zero", "character device")):
        with deadline(10):
            code, _, err = run(capsys, "build", "--fixes", path, "--out", tmp_path / "out")
        _error(code, err, "corrections file", str(path), kind)
    assert not (tmp_path / "out").exists()


def test_an_oversized_fixes_file_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(settings, "max_fixes_bytes", 1000)
    big = tmp_path / "fixes.toml"
    big.write_text('[[fix]]\nmention = "Baku"\ndrop = true\nnote = "' + "x" * 2000 + '"\n', encoding="utf-8")
    code, _, err = run(capsys, "build", "--fixes", big, "--out", tmp_path / "out")
    _error(code, err, "corrections file", "over the 1 KB limit")


def test_a_deeply_nested_fixes_file(tmp_path, capsys):
    deep = tmp_path / "fixes.toml"
    deep.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    code, _, err = run(capsys, "build", "--fixes", deep, "--out", tmp_path / "out")
    _error(code, err, str(deep), "nested too deeply")


@pytest.mark.parametrize("gid", [-1, 0, 999_999_999, 2**70])
def test_fixes_geonames_ids_out_of_range_name_the_key(tmp_path, capsys, gid):
    fixes = tmp_path / "fixes.toml"
    fixes.write_text(f'[[fix]]\nmention = "Baku"\ngeonames_id = {gid}\n', encoding="utf-8")
    code, _, err = run(capsys, "build", "--fixes", fixes, "--out", tmp_path / "out")
    line = _error(code, err, "fix #1 (Baku)", "'geonames_id'")
    assert len(line) < 300


def test_a_plausible_fixes_geonames_id_is_kept(tmp_path):
    from geo.text.fixes import read_fixes

    fixes = tmp_path / "fixes.toml"
    fixes.write_text('[[fix]]\nmention = "Baku"\ngeonames_id = 587084\n', encoding="utf-8")
    assert read_fixes(fixes).pins == {"baku": 587084}
