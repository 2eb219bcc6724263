"""The built maps in headless Chromium, offline: every CDN asset served locally, tiles blank.

Maps are built once per module from ../shared/osm with a small article that names
Derbent (twice), Baku (next to hostile markup) and other places on the corridors.
Screenshots are saved under the build's ``screenshots/`` folder.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pytest

from geo import pipeline
from geo.text import mention_frame as places
from geo.corridors.layers import load_layer
from geo.maps import draw, style
from geo import export
from tests.browser import open_map, require_browser

DERBENT_SENTENCE = "Freight trains from Moscow now reach Derbent in two days."
HOSTILE = '<script>alert("x")</script> `${document.title}` <img src=x onerror=alert(1)>'
ARTICLE = f"""{DERBENT_SENTENCE} At Derbent, the line runs between the mountains and the Caspian Sea.
The trains then cross the Samur river into Azerbaijan and continue to Baku, where officials said {HOSTILE} nothing.
The missing link between Astara and Rasht in Iran is being built. Tynda is far away from all this.
"""
MAPS = ["bam", "north-south", "ru-az-border", "index"]
MARKERS = {
    "lines": "path.cm-line",
    "stations": "path.cm-station",
    "ports": ".leaflet-marker-pane .cm-port",
    "crossings": ".leaflet-marker-pane .awesome-marker",
    "mentions": "path.cm-mention",
}


@pytest.fixture(scope="module")
def built(osm_dir, tmp_path_factory) -> Path:
    require_browser()
    root = tmp_path_factory.mktemp("maps")
    article = root / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = root / "out"
    pipeline.build(article, out, osm_dir=osm_dir, embed=True)
    (out / "screenshots").mkdir()
    return out


def expected_counts(out: Path, name: str) -> dict[str, int]:
    """What each map should draw, from the GeoJSON written beside it."""
    frame = gpd.GeoDataFrame.from_features(json.loads((out / f"{name}.geojson").read_text())["features"], crs=4326)
    features = frame[frame["kind"] != "mention"]
    mentions = frame[frame["kind"] == "mention"]
    mentions = style.pinned(export.places_in(mentions, export.layer_bounds([SimpleNamespace(frame=features)])))
    stations = features[features["kind"] == "station"]
    roles = stations["role"] if "role" in stations else stations["kind"]
    return {
        "lines": int(features["kind"].isin(["segment", "border"]).sum()),
        "stations": int((roles != "port").sum()),
        "ports": int((roles == "port").sum()),
        "crossings": int((features["kind"] == "crossing").sum()),
        "mentions": len(mentions),
    }


def test_expected_counts_match_the_layer_files(built):
    assert expected_counts(built, "north-south") == {"lines": 13, "stations": 10, "ports": 4, "crossings": 0,
                                                     "mentions": 8}
    assert expected_counts(built, "ru-az-border")["crossings"] == 3
    assert expected_counts(built, "bam") == {"lines": 10, "stations": 9, "ports": 2, "crossings": 0, "mentions": 1}
    index = expected_counts(built, "index")
    assert index["lines"] == 24 and index["crossings"] == 3 and index["ports"] == 6


@pytest.mark.parametrize("name", MAPS)
def test_map_renders_with_everything_drawn(built, name):
    shot = built / "screenshots" / f"{name}.png"
    with open_map(built / f"{name}.html", shot) as res:
        assert res.map_ready
        assert res.console_errors == [] and res.page_errors == [] and res.dialogs == []
        assert res.unrouted_requests == []
        assert res.counts(list(MARKERS.values())) == {
            MARKERS[k]: v for k, v in expected_counts(built, name).items()}
        for selector in (".cm-legend", ".leaflet-control-layers", ".cm-title", ".leaflet-control-scale",
                         ".leaflet-control-zoom-fullscreen"):
            assert res.page.locator(selector).is_visible(), selector
        checked = res.evaluate("""() => [...document.querySelectorAll('.leaflet-control-layers-base input')]
            .filter(i => i.checked).map(i => i.nextElementSibling.textContent.trim())""")
        assert checked == ["Light grey (Esri)"]
        assert res.count(".leaflet-tile-pane .leaflet-layer") == 1
        assert res.broken_images(".leaflet-marker-pane img") == []
        assert "OpenStreetMap contributors" in res.page.locator(".leaflet-control-attribution").inner_text()
    assert shot.stat().st_size > 10_000


ZOOM_TO_DERBENT = """() => { const m = Object.values(window).find((v) => v instanceof L.Map);
  m.setView([42.06, 48.29], 9, {animate: false}); }"""


@pytest.mark.parametrize("name", ["north-south", "index"])
def test_clicking_derbent_quotes_its_sentence(built, name):
    with open_map(built / f"{name}.html") as res:
        if name == "index":  # at the overview zoom the Azerbaijan marker lies over Derbent: zoom in as a reader would
            res.evaluate(ZOOM_TO_DERBENT)
        res.page.locator("path.cm-place-derbent").click()
        res.page.wait_for_timeout(300)
        res.page.screenshot(path=str(built / "screenshots" / f"{name}-derbent.png"))
        popup = res.page.locator(".leaflet-popup-content")
        assert popup.count() == 1
        text = popup.inner_text()
        assert DERBENT_SENTENCE in text and "Дербент" in text and "mentioned 2×" in text
        assert popup.locator("mark").first.inner_text() == "Derbent"
        assert "North–South Transport Corridor" in text and "km from the line" in text
        assert popup.locator("a[href^='https://www.geonames.org/']").count() == 1
        assert res.console_errors == [] and res.page_errors == []


def test_hostile_article_text_is_shown_not_run(built):
    # The article reader drops markup tags; what survives (template-literal syntax) must show as text.
    with open_map(built / "north-south.html", click_selector="path.cm-place-baku") as res:
        popup = res.page.locator(".leaflet-popup-content")
        assert "said `${document.title}` nothing" in popup.inner_text()
        assert res.dialogs == [] and res.page_errors == [] and res.unrouted_requests == []


def test_hostile_markup_in_mentions_is_shown_not_run(osm_dir, tmp_path):
    require_browser()
    sentence = f"In Baku, {HOSTILE} said no one."
    mention = SimpleNamespace(text="Baku", sentence=sentence, layer_id="")
    place = SimpleNamespace(name="Baku <b>x</b>", country="AZ", lat=40.4093, lon=49.8671, geonames_id=587084,
                            feature_class="P", score=1.0, local_name="Bakı")
    frame = places.mention_frame([mention], [place])
    layer = pipeline.build_layers([load_layer("north-south")], osm_dir=osm_dir)[0]
    path = tmp_path / "hostile.html"
    draw.build_map([layer], frame, title=HOSTILE, subtitle=HOSTILE).save(path)
    with open_map(path) as res:
        res.evaluate("""() => { const m = Object.values(window).find((v) => v instanceof L.Map);
          m.setView([40.4093, 49.8671], 6, {animate: false}); }""")
        res.page.locator("path.cm-mention").first.click()
        popup = res.page.locator(".leaflet-popup-content")
        assert HOSTILE in popup.inner_text() and "Baku <b>x</b>" in popup.inner_text()
        assert popup.locator("script, img").count() == 0
        assert [b.inner_text() for b in popup.locator("b").all()] == ["Baku <b>x</b>"]  # our bold name only
        assert HOSTILE in res.page.locator(".cm-title").inner_text()
        assert res.dialogs == [] and res.page_errors == []


def test_self_contained_outline_map_needs_no_network(osm_dir, tmp_path):
    require_browser()
    pipeline.build(None, tmp_path, osm_dir=osm_dir, layer_ids=["north-south"], tiles="none", self_contained=True)
    with open_map(tmp_path / "north-south.html", tmp_path / "north-south.png", serve_assets=False) as res:
        assert res.map_ready and res.console_errors == [] and res.page_errors == []
        assert res.unrouted_requests == []  # no request left the page at all
        assert res.count("path.cm-line") == 13 and res.count(".leaflet-marker-pane .cm-port") == 4
        assert res.count("path.leaflet-interactive:not(.cm-line):not(.cm-station)") >= 3  # country outlines
        assert res.count(".leaflet-tile-pane img") == 0
        assert res.page.locator(".cm-legend").is_visible()
        # Font Awesome is inlined: the port anchors are drawn with the icon font, not as empty boxes.
        assert res.evaluate("() => document.fonts.check('900 12px \"Font Awesome 6 Free\"')")


def test_png_images_of_each_map(osm_dir, tmp_path):
    require_browser()
    report = pipeline.build(None, tmp_path, osm_dir=osm_dir, layer_ids=["ru-az-border"], png=True)
    pngs = sorted(p.name for p in report.files if p.suffix == ".png")
    assert pngs == ["index.png", "ru-az-border.png"]
    data = (tmp_path / "ru-az-border.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (2400, 1600)


def test_harness_treats_extensionless_esri_tiles_as_tiles():
    from tests.browser import is_tile_url

    base = "https://server.arcgisonline.com/ArcGIS/rest/services/Canvas/World_Light_Gray_Base/MapServer/tile"
    assert is_tile_url(f"{base}/5/11/22") and is_tile_url("https://a.tile.openstreetmap.org/5/22/11.png")
    assert not is_tile_url("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
