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

from geo.osm.source import Extract
from geo import pipeline, settings
from geo.text import mention_frame as places
from geo.core.layers import load_layer
from geo.maps import draw, style
from geo import export
from tests.browser import open_map, require_browser

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

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
    "crossings": ".leaflet-marker-pane .cm-crossing",
    "mentions": ".leaflet-marker-pane .cm-mention",
}
SIZES = [(1400, 900), (800, 600), (375, 320)]


@pytest.fixture(scope="module")
def built(osm_dir, tmp_path_factory) -> Path:
    require_browser()
    root = tmp_path_factory.mktemp("maps")
    article = root / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = root / "out"
    pipeline.build(article, out, osm_dir=osm_dir, embed=True, layer_ids=["bam", "north-south", "ru-az-border"])
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
                                                     "mentions": 5}
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
        res.page.locator(".leaflet-marker-pane .cm-place-derbent").click()
        res.page.wait_for_timeout(300)
        res.page.screenshot(path=str(built / "screenshots" / f"{name}-derbent.png"))
        popup = res.page.locator(".leaflet-popup-content")
        assert popup.count() == 1
        text = popup.inner_text()
        assert DERBENT_SENTENCE in text and "Дербент" in text and "mentioned 2×" in text
        assert popup.locator("mark").first.inner_text() == "Derbent"
        assert "North–South Transport Corridor" in text
        assert "km from the line" in text or "A station on the North–South" in text
        assert popup.locator("a[href^='https://www.geonames.org/']").count() == 1
        assert res.console_errors == [] and res.page_errors == []


def test_hostile_article_text_is_shown_not_run(built):
    # The article reader drops markup tags; what survives (template-literal syntax) must show as text.
    with open_map(built / "north-south.html") as res:
        marker = res.page.locator(".leaflet-marker-pane .cm-place-baku")
        marker.click()
        res.page.wait_for_timeout(300)
        if not res.count(".leaflet-popup-content"):  # Baku's marker was stacked: the first click spread it
            marker.click()
        popup = res.page.locator(".leaflet-popup-content")
        assert "said `${document.title}` nothing" in popup.inner_text()
        assert res.dialogs == [] and res.page_errors == [] and res.unrouted_requests == []


def test_hostile_markup_in_mentions_is_shown_not_run(osm_dir, tmp_path):
    require_browser()
    sentence = f"In Baku <b>x</b>, {HOSTILE} said no one."  # the article's spelling of the name is untrusted too
    mention = SimpleNamespace(text="Baku <b>x</b>", sentence=sentence, layer_id="")
    place = SimpleNamespace(name="Baku <b>x</b>", country="AZ", lat=40.4093, lon=49.8671, geonames_id=587084,
                            feature_class="P", score=1.0, local_name="Bakı")
    frame = places.mention_frame([mention], [place])
    layer = pipeline.build_layers([load_layer("north-south")], Extract(folder=osm_dir))[0]
    path = tmp_path / "hostile.html"
    draw.build_map([layer], frame, title=HOSTILE, subtitle=HOSTILE).save(path)
    with open_map(path) as res:
        res.evaluate("""() => { const m = Object.values(window).find((v) => v instanceof L.Map);
          m.setView([40.4093, 49.8671], 6, {animate: false}); }""")
        res.page.locator(".leaflet-marker-pane .cm-mention").first.click()
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
        # the offline base map: land, lakes and land borders from Natural Earth, country names
        assert res.counts(["path.cm-basemap-land", "path.cm-basemap-lakes", "path.cm-basemap-borders"]) == {
            "path.cm-basemap-land": 1, "path.cm-basemap-lakes": 1, "path.cm-basemap-borders": 1}
        names = res.evaluate("""() => [...document.querySelectorAll('.cm-label-basemap')]
            .filter((e) => e.getBoundingClientRect().width && !e.classList.contains('cm-hidden')).map((e) => e.textContent)""")
        assert {"Russia", "Azerbaijan"} <= set(names)
        assert res.count(".leaflet-tile-pane img") == 0
        assert res.page.locator(".cm-legend").is_visible()
        # icons are inline SVG: drawn with no font or stylesheet from anywhere
        assert res.count(".cm-port svg path") == 4
        # the view cannot leave the area the base map covers (no cut edge in sight)
        assert res.evaluate("""() => { const m = Object.values(window).find((v) => v instanceof L.Map);
          m.setZoom(0, {animate: false}); return m.options.maxBounds.contains(m.getBounds()); }""")
    html = (tmp_path / "north-south.html").read_text()
    assert "font-awesome" not in html.lower() and "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_png_images_fall_back_to_the_offline_base_map_with_whole_legends(osm_dir, tmp_path, monkeypatch):
    require_browser()
    monkeypatch.setattr(settings, "png_fetch_tiles", False)  # as without a network: no tile loads
    report = pipeline.build(None, tmp_path, osm_dir=osm_dir, layer_ids=["ru-az-border"], png=True)
    pngs = sorted(p.name for p in report.files if p.suffix == ".png")
    assert pngs == ["index.png", "ru-az-border.png"]
    data = (tmp_path / "ru-az-border.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (2400, 1600)
    fallbacks = [w for w in report.warnings if "offline Natural Earth base map" in w]
    assert len(fallbacks) == 2 and not [w for w in report.warnings if "legend" in w]


def test_png_legend_is_never_cut(osm_dir, tmp_path):
    """The tallest legend (index, with the article's places) fits whole in the image."""
    require_browser()
    from geo.maps import png

    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    pipeline.build(article, tmp_path, osm_dir=osm_dir, tiles="none", all_layers=True)
    with png.browser_session(fetch_tiles=False) as session:
        rendered = session.render(tmp_path / "index.html", tmp_path / "index.png")
    assert rendered.legend_inside and not rendered.tiles_failed


def test_harness_treats_extensionless_esri_tiles_as_tiles():
    from tests.browser import is_tile_url

    base = "https://server.arcgisonline.com/ArcGIS/rest/services/Canvas/World_Light_Gray_Base/MapServer/tile"
    assert is_tile_url(f"{base}/5/11/22") and is_tile_url("https://a.tile.openstreetmap.org/5/22/11.png")
    assert not is_tile_url("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")


# --- phone, labels, clicks, framing (issue: maps a newsroom would publish) ---------------------

MAP_JS = "Object.values(window).find((v) => v instanceof L.Map)"
#: A closed popup fades out for 200 ms before it leaves the page.
POPUP_FADE_MS = 250

VISIBLE_LABELS_JS = """() => [...document.querySelectorAll('.leaflet-tooltip.cm-label')]
  .filter((e) => !e.classList.contains('cm-hidden') && getComputedStyle(e).visibility !== 'hidden')
  .map((e) => { const r = e.getBoundingClientRect(); return {text: e.textContent.trim(), cls: e.className,
                left: r.left, top: r.top, right: r.right, bottom: r.bottom}; })
  .filter((r) => r.right > r.left && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight)"""

#: Share of the map's area not under a control, title or legend (sampled every 4 px).
UNOBSTRUCTED_JS = """() => {
  const map = document.querySelector('.leaflet-container').getBoundingClientRect();
  const boxes = [...document.querySelectorAll('.leaflet-control, .cm-title')]
    .filter((e) => e.offsetParent !== null).map((e) => e.getBoundingClientRect());
  let free = 0, all = 0;
  for (let x = map.left + 2; x < map.right; x += 4) for (let y = map.top + 2; y < map.bottom; y += 4) {
    all++; if (!boxes.some((b) => x >= b.left && x <= b.right && y >= b.top && y <= b.bottom)) free++; }
  return free / all;
}"""


def overlaps(labels: list[dict]) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes overlap by more than a pixel."""
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1 and \
                    min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1:
                out.append((a["text"], b["text"]))
    return out


def view_bounds(res) -> dict:
    return res.evaluate(f"""() => {{ const m = {MAP_JS}; const b = m.getBounds();
      return {{south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast(), zoom: m.getZoom()}}; }}""")


def contains(bounds: dict, lat: float, lon: float) -> bool:
    return bounds["south"] <= lat <= bounds["north"] and bounds["west"] <= lon <= bounds["east"]


def popup_after_click(res, x: float, y: float) -> str:
    """Click at (x, y) and return the open popup's text ('' when none opened)."""
    res.evaluate(f"() => {MAP_JS}.closePopup()")
    res.page.wait_for_timeout(POPUP_FADE_MS)
    res.page.mouse.click(x, y)
    res.page.wait_for_timeout(150)
    return res.evaluate("() => { const p = document.querySelector('.leaflet-popup-content'); "
                        "return p ? p.innerText : ''; }")


def click_each(res, selector: str):
    """(target, popup text) for each element of ``selector`` clear to click, located afresh before
    each click (an opened popup may pan the map); stacked markers spread on the first click and open
    their popup on the second."""
    view = res.evaluate(f"() => {{ const m = {MAP_JS}; return [m.getCenter(), m.getZoom()]; }}")
    for k in range(len(click_targets(res, selector))):
        res.evaluate(f"""([c, z]) => {{ const m = {MAP_JS}; m.closePopup(); m.setView(c, z, {{animate: false}}); }}""",
                     view)
        res.page.wait_for_timeout(POPUP_FADE_MS)
        target = click_targets(res, selector)[k]
        if target["clear"] and "cm-hidden" not in target["cls"]:
            text = popup_after_click(res, target["x"], target["y"])
            if not text:  # the first click spread stacked markers apart: click it where it went
                target = click_targets(res, selector)[k]
                text = popup_after_click(res, target["x"], target["y"]) if target["clear"] else ""
            yield target, text


def click_targets(res, selector: str) -> list[dict]:
    """Centres of the visible elements matching ``selector`` that are the topmost element there (not under a control)."""
    return res.evaluate("""(sel) => [...document.querySelectorAll(sel)].map((e) => {
        const r = e.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
        const top = document.elementFromPoint(x, y);
        return {text: e.textContent.trim(), cls: e.className, x, y,
                clear: r.width > 0 && !!top && (e === top || e.contains(top) || top.contains(e))
                       && x > 0 && y > 0 && x < innerWidth && y < innerHeight}; })""", selector)


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_visible_labels_never_overlap_and_each_opens_its_own_popup(built, name, size):
    width, height = size
    shot = built / "screenshots" / f"{name}-{width}x{height}.png"
    with open_map(built / f"{name}.html", shot, viewport={"width": width, "height": height}) as res:
        assert res.map_ready and res.page_errors == [] and res.console_errors == []
        labels = res.evaluate(VISIBLE_LABELS_JS)
        assert labels, "the opening view names something"
        assert overlaps(labels) == []
        clicked = 0
        for target, text in click_each(res, ".leaflet-tooltip.cm-label-place, .leaflet-tooltip.cm-label-crossing"):
            assert text.splitlines()[0].startswith(target["text"]), (target["text"], text[:80])
            clicked += 1
        for target, text in click_each(res, ".leaflet-marker-pane .cm-crossing"):
            assert "Mode:" in text
            clicked += 1
        assert clicked or name == "bam"


@pytest.fixture(scope="module")
def seed_built(article_path, osm_dir, tmp_path_factory) -> Path:
    """The seed article's North-South and border maps."""
    require_browser()
    out = tmp_path_factory.mktemp("seed")
    pipeline.build(article_path, out, osm_dir=osm_dir, layer_ids=["north-south", "ru-az-border"], embed=True)
    return out


MOSCOW, BAKU, BANDAR_ABBAS = (55.7558, 37.6173), (40.4093, 49.8671), (27.1865, 56.2808)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_north_south_map_opens_on_the_story(seed_built, size):
    with open_map(seed_built / "north-south.html", viewport={"width": size[0], "height": size[1]}) as res:
        bounds = view_bounds(res)
        assert contains(bounds, *MOSCOW) and contains(bounds, *BAKU), bounds
        assert not contains(bounds, *BANDAR_ABBAS), bounds
        # the whole line is one click away
        res.page.locator(".cm-whole a").click()
        whole = view_bounds(res)
        assert contains(whole, *BANDAR_ABBAS) and contains(whole, *MOSCOW)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_border_map_opens_on_its_crossings_and_names_both_countries(seed_built, size):
    from geo.maps import border_fit

    name = f"ru-az-border-seed-{size[0]}x{size[1]}.png"
    with open_map(seed_built / "ru-az-border.html", seed_built / name,
                  viewport={"width": size[0], "height": size[1]}) as res:
        # the border is Natural Earth 1:10m (no OSM boundary in the extract): about 1 km off, so no closer than that
        zoom = res.evaluate(f"() => {MAP_JS}.getZoom()")
        assert zoom == border_fit.accurate_zoom(border_fit.border_accuracy_m("naturalearth"), 41.8), zoom
        crossings = click_targets(res, ".leaflet-marker-pane .cm-crossing")
        assert len(crossings) == 3 and all(0 < c["x"] < size[0] and 0 < c["y"] < size[1] for c in crossings)
        names = {label["text"] for label in res.evaluate(VISIBLE_LABELS_JS)}
        if size[0] >= 800:  # on a phone the crossings' names come first
            assert {"Russia", "Azerbaijan"} <= names
            assert {"Samur – Yalama", "Yarag-Kazmalyar – Samur", "Tagirkent-Kazmalyar"} <= names
        # each crossing opens its own popup: at a zoom this far out they stack, and a click spreads them apart
        if not all(c["clear"] for c in crossings):
            top = next(c for c in crossings if c["clear"])
            res.page.mouse.click(top["x"], top["y"])
            res.page.wait_for_timeout(POPUP_FADE_MS)
            res.evaluate(f"() => {MAP_JS}.closePopup()")
            crossings = click_targets(res, ".leaflet-marker-pane .cm-crossing")
        assert all(c["clear"] for c in crossings), crossings
        heads = {popup.splitlines()[0] for _, popup in click_each(res, ".leaflet-marker-pane .cm-crossing")}
        assert heads == {"Samur – Yalama", "Yarag-Kazmalyar – Samur", "Tagirkent-Kazmalyar"}


@pytest.mark.parametrize("name", ["north-south", "ru-az-border"])
def test_phone_layout_leaves_the_map_free(seed_built, name):
    shot = seed_built / f"{name}-375x320.png"
    with open_map(seed_built / f"{name}.html", shot, viewport={"width": 375, "height": 320}) as res:
        assert res.evaluate(UNOBSTRUCTED_JS) >= 0.70
        assert not res.page.locator(".cm-title").is_visible()  # the title is in the embed snippet's caption
        assert not res.page.locator(".cm-legend-body").is_visible()
        toggle = res.page.locator(".cm-legend-toggle")
        assert toggle.get_attribute("aria-expanded") == "false"
        sizes = res.evaluate("""() => [...document.querySelectorAll(
            '.leaflet-control-zoom a, .cm-whole a, .leaflet-control-zoom-fullscreen, .leaflet-control-layers-toggle,'
            + ' .cm-legend-toggle')].filter((e) => e.offsetParent !== null)
            .map((e) => { const r = e.getBoundingClientRect(); return [e.className, r.width, r.height]; })""")
        assert len(sizes) >= 5 and all(w >= 32 and h >= 32 for _, w, h in sizes), sizes
        toggle.click()
        assert res.page.locator(".cm-legend-body").is_visible()
        assert "Russia" in res.page.locator(".cm-legend-body").inner_text() or name == "north-south"
    caption = (seed_built / f"{name}.embed.html").read_text()
    assert "<figcaption" in caption and "Map: " in caption


def test_desktop_shows_title_and_open_legend(seed_built):
    with open_map(seed_built / "north-south.html", viewport={"width": 1400, "height": 900}) as res:
        assert res.page.locator(".cm-title").is_visible() and res.page.locator(".cm-legend-body").is_visible()
        assert res.evaluate(UNOBSTRUCTED_JS) >= 0.6


def test_honest_lengths_in_legend_and_popups(seed_built):
    with open_map(seed_built / "north-south.html", viewport={"width": 1400, "height": 900}) as res:
        legend = res.page.locator(".cm-legend-body").inner_text()
        assert "km of OSM track" in legend and "straight line between stations, not the track" in legend
        popups = res.evaluate(f"""() => {{ const out = []; {MAP_JS}.eachLayer((l) => {{
            if (l instanceof L.Polyline && l.getPopup && l.getPopup()) out.push(l.getPopup().getContent()); }});
            return out; }}""")
        schematic = [p for p in popups if "as the crow flies" in p]
        assert schematic and all("Straight line between stations, not the track" in p for p in schematic)
        assert all("(geodesic)" not in p or "of track" in p for p in popups)
