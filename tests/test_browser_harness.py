"""Tests for the headless-browser harness (tests/browser.py) on real folium maps."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import folium.plugins
import pytest

from geo.maps.assets import inline_assets
from tests import browser as harness
from tests.browser import BLANK_TILE, is_tile_url, open_map, require_browser

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

POPUP_TEXT = "Port of Gdansk terminal"


@pytest.fixture
def browser() -> None:
    """Skip (or, on CI, fail) tests that need headless Chromium."""
    require_browser()


def build_map(popup: folium.Popup | None = None) -> folium.Map:
    m = folium.Map(location=[54.35, 18.65], zoom_start=6)
    popup = popup or folium.Popup(POPUP_TEXT)
    folium.Marker([54.35, 18.65], popup=popup, tooltip="Gdansk").add_to(m)
    folium.PolyLine([[54.35, 18.65], [52.23, 21.01]], color="red").add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    folium.LayerControl().add_to(m)
    return m


@pytest.fixture
def map_file(tmp_path: Path) -> Path:
    path = tmp_path / "map.html"
    build_map().save(path)
    return path


def test_map_renders_with_routed_assets(browser: None, map_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "map.png"
    with open_map(map_file, shot) as res:
        assert res.map_ready
        assert res.console_errors == []
        assert res.page_errors == []
        assert res.dialogs == []
        assert res.unrouted_requests == []
        assert res.counts([".leaflet-marker-icon", "path.leaflet-interactive"]) == {
            ".leaflet-marker-icon": 1,
            "path.leaflet-interactive": 1,
        }
        assert res.count(".leaflet-control-layers") == 1
        assert res.count(".leaflet-control-zoom-fullscreen") == 1
        assert res.count(".leaflet-tile-loaded") > 0
        assert res.broken_images() == []
        assert res.count(".leaflet-popup") == 0
    assert shot.stat().st_size > 0


def test_clicking_marker_opens_popup(browser: None, map_file: Path) -> None:
    with open_map(map_file, click_selector=".leaflet-marker-icon") as res:
        assert res.map_ready
        assert res.count(".leaflet-popup") == 1
        assert res.page.locator(".leaflet-popup-content").inner_text().strip() == POPUP_TEXT
        assert res.console_errors == []


def test_unknown_hosts_are_aborted_and_reported(browser: None, tmp_path: Path) -> None:
    m = build_map()
    m.get_root().header.add_child(
        folium.JavascriptLink("https://example.invalid/not-bundled.js"), name="extra"
    )
    path = tmp_path / "extra.html"
    m.save(path)
    with open_map(path) as res:
        assert res.unrouted_requests == ["https://example.invalid/not-bundled.js"]
        assert res.console_errors == []  # the abort is reported once, above
        assert res.map_ready


def test_inlined_map_loads_with_every_request_aborted(
    browser: None, map_file: Path, tmp_path: Path
) -> None:
    html, missing = inline_assets(map_file.read_text(encoding="utf-8"))
    assert missing == []
    assert not re.search(r"<script[^>]*\ssrc\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"<link[^>]*\shref\s*=\s*[\"']?(https?:)?//", html, re.I)
    inlined = tmp_path / "inlined.html"
    inlined.write_text(html, encoding="utf-8")

    with open_map(inlined, click_selector=".leaflet-marker-icon", serve_assets=False) as res:
        assert res.map_ready
        assert res.console_errors == []
        assert res.page_errors == []
        # Only map tiles may still want the network.
        assert res.unrouted_requests and all(map(is_tile_url, res.unrouted_requests))
        assert res.count(".leaflet-marker-icon") == 1
        assert res.count("path.leaflet-interactive") == 1
        assert res.count(".leaflet-control-layers") == 1
        assert res.broken_images(".leaflet-marker-pane img, .leaflet-shadow-pane img") == []
        assert res.page.locator(".leaflet-popup-content").inner_text().strip() == POPUP_TEXT


def test_escaped_hostile_popup_triggers_no_dialog(browser: None, tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    path = tmp_path / "hostile.html"
    build_map(folium.Popup(hostile, parse_html=True)).save(path)
    with open_map(path, click_selector=".leaflet-marker-icon") as res:
        assert res.map_ready
        assert res.dialogs == []
        assert res.page_errors == []
        assert "alert(1)" in res.page.locator(".leaflet-popup-content").inner_text()


def test_harness_records_and_dismisses_dialogs(browser: None, tmp_path: Path) -> None:
    path = tmp_path / "dialog.html"
    path.write_text(
        "<html><body><script>window.answer = confirm('sure?');</script></body></html>",
        encoding="utf-8",
    )
    with open_map(path) as res:
        assert res.dialogs == ["confirm: sure?"]
        assert res.evaluate("window.answer") is False
        assert not res.map_ready  # no Leaflet map on this page


def test_blank_tile_is_a_png() -> None:
    assert BLANK_TILE.startswith(b"\x89PNG\r\n\x1a\n")
    assert is_tile_url("https://tile.openstreetmap.org/6/35/20.png")
    assert is_tile_url("https://a.basemaps.cartocdn.com/light_all/6/35/20@2x.png")
    assert is_tile_url("https://b.tiles.openrailwaymap.org/standard/6/35/20.png")
    assert not is_tile_url("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")


@pytest.mark.parametrize(
    ("env", "outcome"),
    [
        ({}, pytest.skip.Exception),
        ({"CI": "true"}, pytest.fail.Exception),
        ({"CORRIDORMAP_REQUIRE_BROWSER": "1"}, pytest.fail.Exception),
    ],
)
def test_missing_browser_skips_or_fails(
    env: dict[str, str], outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("CORRIDORMAP_REQUIRE_BROWSER", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(harness, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(outcome, match="/nonexistent/chromium"):
        require_browser()
