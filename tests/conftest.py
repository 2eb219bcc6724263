"""Shared fixtures: where ../shared is (skip, or fail when required, if absent), the OSM data and article
every test can use (../shared's, else the bundled snapshot and examples/), no network, Overpass replay."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pytest
import requests
from shapely.geometry import Point

REPO = Path(__file__).resolve().parents[1]
#: The example article the README's first command builds (ours; ships with the repository).
EXAMPLE_ARTICLE = REPO / "examples" / "corridors-2025.txt"


def shared_path() -> Path:
    """The team's shared data folder: env CORRIDORMAP_SHARED, else ``<repo>/../shared``."""
    return Path(os.environ.get("CORRIDORMAP_SHARED", REPO.parent / "shared")).resolve()


def require_shared(*parts: str) -> Path:
    """Return ``shared/<parts>``; skip the test when absent, fail when CORRIDORMAP_REQUIRE_SHARED=1."""
    path = shared_path().joinpath(*parts)
    if not path.exists():
        reason = f"shared data {path} is absent (set CORRIDORMAP_SHARED to the folder holding articles/, osm/, geoparse/)"
        if os.environ.get("CORRIDORMAP_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " and CORRIDORMAP_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return path


def need_shared(relative: str) -> Path:
    """Return ``shared/<relative>`` (a path relative to shared/); skips or fails like :func:`require_shared`."""
    return require_shared(*Path(relative).parts)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return require_shared()


def has_shared(*parts: str) -> bool:
    """True when ``shared/<parts>`` exists (for fixtures with a fallback)."""
    return shared_path().joinpath(*parts).exists()


@pytest.fixture(scope="session")
def osm_dir(tmp_path_factory) -> Path:
    """OSM data to route on: ``../shared/osm`` when present, else the bundled snapshot's GeoPackages.

    The fallback is the same real OSM data the package ships (reduced for zoom 14),
    laid out as a local extract (``--osm-dir``), so these tests run on a fresh clone.
    Tests that need the full extract's files ask for them with :func:`need_shared`.
    """
    if has_shared("osm") or os.environ.get("CORRIDORMAP_REQUIRE_SHARED") == "1":
        return require_shared("osm")
    return bundled_extract(tmp_path_factory.mktemp("bundled-extract"))


def bundled_extract(folder: Path) -> Path:
    """Lay the bundled snapshot out as the extract it was made from: one GeoJSON file per source file.

    Rows keep their source file apart because a layer's tag filter keeps the
    untagged rows (traced lines) of files that carry no such tag at all.
    """
    import pandas as pd

    from geo.osm import bundle, snapshot

    source = bundle.bundled_dir()
    parts: dict[str, list] = {}
    for layer_id in snapshot.read_manifest(source)["layers"]:
        for frame in snapshot.read_layer(source, layer_id)[:2]:
            for name, rows in frame.groupby(frame["file"].fillna("unknown")):
                parts.setdefault(Path(str(name)).stem, []).append(rows)
    for stem, rows in parts.items():
        merged = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=4326)
        merged = merged[~merged.geometry.to_wkb().duplicated()].drop(columns="file")
        merged.to_file(folder / f"{stem}.geojson", driver="GeoJSON")
    return folder


@pytest.fixture(scope="session")
def example_article() -> Path:
    """The example article in examples/ (an article of our own, always present)."""
    return EXAMPLE_ARTICLE


@pytest.fixture(scope="session")
def article_path() -> Path:
    return require_shared("articles", "aliyev-moscow-2024.txt")


@pytest.fixture(scope="session")
def source_article() -> str:
    """The source article: Aliyev's visit to Moscow, April 2024."""
    return need_shared("articles/aliyev-moscow-2024.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Each test gets its own empty cache folder; no test reads the user's cache or own layer files."""
    from geo import settings

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(settings, "user_layers_dir", tmp_path / "user-layers")
    # online builds against the test Overpass servers do not fetch GeoNames dumps (tests/test_geonames_online.py does)
    monkeypatch.setattr(settings, "geonames_auto_fetch", False)


@pytest.fixture
def no_bundle(monkeypatch):
    """Without the bundled OSM snapshot (as a package built without it): the schematic fallback shows."""
    from geo import settings

    monkeypatch.setattr(settings, "bundled_snapshot_dir", None)


_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine (not an OSError, so no code retries it)."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse every connection and name lookup beyond the local machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def local(address) -> bool:
        return not isinstance(address, tuple) or str(address[0]) in _LOCAL_HOSTS

    def connect(self, address):
        if not local(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not local(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and str(host) not in _LOCAL_HOSTS:
            raise NetworkBlocked(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host):
        raise NetworkBlocked(f"test tried to resolve {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", gethostbyname)


# ---------------------------------------------------------------------- live OSM path (Overpass replay)

RETRIES = 2  # attempts = RETRIES + 1


@pytest.fixture
def overpass_env(tmp_path, monkeypatch):
    """Caches in tmp_path, no rate-limit probing, instant and recorded retry sleeps.

    Returns the list of retry pauses (seconds) the code asked for.
    """
    from geo.osm import overpass_http as overpass_api
    from geo import settings

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(settings, "http_max_retries", RETRIES)
    monkeypatch.setattr(settings, "http_backoff_s", 0.01)
    monkeypatch.setattr(ox.settings, "cache_folder", "./cache")  # osmnx default -> <cache_dir>/overpass
    monkeypatch.setattr(ox.settings, "use_cache", True)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "overpass_url", "https://overpass.invalid/api")
    monkeypatch.setattr(settings, "overpass_url", [])  # osmnx's, whatever CORRIDORMAP_OVERPASS_URL says
    sleeps: list[float] = []
    monkeypatch.setattr(overpass_api, "_sleep", sleeps.append)
    return sleeps


@pytest.fixture(scope="session")
def replay_data(osm_dir):
    """Overpass elements built at test time from ``osm_dir`` (never stored in the repository)."""
    from tests import overpass_replay as rp
    from geo.corridors.borders import shared_border

    bam_ways, bam_rel = rp.bam_relation(osm_dir)
    border = shared_border("RU", "AZ")
    boundary = [
        rp.way_element(800_000 + i, part, {"boundary": "administrative", "admin_level": "2"})
        for i, part in enumerate(rp.cut_line(border, 20))
    ]
    caucasus = rp.caucasus_ways(osm_dir)
    crossings = []
    for way in caucasus:
        if way["id"] in (304666833, 444749531):
            line = gpd.GeoSeries.from_wkt([_wkt(way)]).iloc[0]
            crossings.append(line.intersection(border))
    nodes = [
        rp.node_element(5_000_000 + i, p.representative_point(), {"barrier": "border_control", "name": f"Post {i}"})
        for i, p in enumerate(crossings)
    ] + [rp.node_element(5_100_000, Point(45.0, 40.0), {"barrier": "border_control", "name": "far away"})]
    roads = [
        rp.way_element(7_000_000, gpd.GeoSeries.from_wkt(["LINESTRING (48.47 41.70, 48.47 41.76)"]).iloc[0],
                       {"highway": "trunk", "name": "R-217"}),  # crosses the border
        rp.way_element(7_000_001, gpd.GeoSeries.from_wkt(["LINESTRING (48.47 41.68, 48.47 41.71)"]).iloc[0],
                       {"highway": "primary", "name": "near, not crossing"}),
    ]
    return {
        "bam_ways": bam_ways, "bam_relation": bam_rel, "caucasus": caucasus, "boundary": boundary,
        "nodes": nodes, "roads": roads, "bam_line": rp.bam_line(osm_dir),
    }


def _wkt(way) -> str:
    return "LINESTRING (" + ", ".join(f"{g['lon']} {g['lat']}" for g in way["geometry"]) + ")"


@pytest.fixture
def fake_overpass(replay_data, monkeypatch):
    """An Overpass emulator (tests/overpass_replay.py) behind ``requests.Session.send``."""
    from tests import overpass_replay as rp

    server = rp.FakeOverpass(
        ways=replay_data["caucasus"] + replay_data["bam_ways"] + replay_data["roads"],
        nodes=replay_data["nodes"],
        relations=[replay_data["bam_relation"]],
        boundary_ways=replay_data["boundary"],
    )
    monkeypatch.setattr(requests.Session, "send", lambda session, request, **kw: server.send(session, request, **kw))
    return server


# ---------------------------------------------------------------------- live OSM path (a real Overpass server)


@pytest.fixture(scope="session")
def overpass_server(tmp_path_factory):
    """The real Overpass API of ../shared/overpass with its region extract, on a free 127.0.0.1 port.

    Started once per session and stopped at its end, with a private ``/dev/shm`` where
    the machine allows it (see tests/overpass_server.py), else under a machine-wide lock.
    """
    from tests import overpass_server as local

    server = local.start(require_shared("overpass"), tmp_path_factory.mktemp("overpass"))
    yield server
    local.stop(server)


@pytest.fixture
def layers_dir(tmp_path, monkeypatch) -> Path:
    """A copy of layers/ that a test may edit (``settings.layers_dir`` points at it)."""
    from geo import settings

    folder = tmp_path / "layers"
    shutil.copytree(REPO / "layers", folder)
    monkeypatch.setattr(settings, "layers_dir", folder)
    return folder
