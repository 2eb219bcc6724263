"""What a reader sees, in headless Chromium with no tile server: the article's names once each, a title,
legends without paths, and a base map instead of grey when the tiles do not load.

The article is our own, spelling places otherwise than GeoNames does (Astara for Āstārā,
Khachmaz for Xaçmaz, Severobaikalsk for Severobaykal'sk).
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from geo import pipeline
from tests.browser import open_map, require_browser
from tests.test_browser_maps import VISIBLE_LABELS_JS

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

ARTICLE = """Freight from Moscow to Khachmaz now takes four days, and lorries queue at Samur for hours.
Officials in Astara said the new yard at Astara will open in May. The missing link from Astara to Rasht is
still being built. On the Baikal-Amur Mainline, Severobaikalsk and Tynda saw record traffic this year,
and Severobaikalsk hopes for more.
"""
MAPS = ["north-south", "ru-az-border", "bam", "index"]
SIZES = [(1400, 900), (375, 320)]
LEAFLET_GREY = (221, 221, 221)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    require_browser()
    root = tmp_path_factory.mktemp("reader")
    article = root / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = root / "out"
    pipeline.build(article, out, offline=True, layer_ids=["north-south", "ru-az-border", "bam"])
    return out


def accented(text: str) -> bool:
    """True for a name spelt with diacritics or a transliteration apostrophe (Āstārā, Severobaykal'sk)."""
    return any(unicodedata.combining(c) for c in unicodedata.normalize("NFKD", text)) or bool(
        re.search(r"\w['’ʼ]\w", text))


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_each_name_once_as_the_article_spells_it(built, name, size):
    with open_map(built / f"{name}.html", viewport={"width": size[0], "height": size[1]}) as res:
        assert res.map_ready and res.page_errors == []
        texts = [label["text"] for label in res.evaluate(VISIBLE_LABELS_JS)]
        assert texts, "no label visible"
        assert len(texts) == len({t.lower() for t in texts}), texts
        assert not [t for t in texts if accented(t) and t not in ARTICLE], texts
        assert res.page.title() and "<" not in res.page.title()
        legend = res.page.locator(".cm-legend-body").inner_text() if size[0] >= 600 else res.evaluate(
            "() => document.querySelector('.cm-legend-body').textContent")
        assert not re.search(r"(?:\.\./|/tmp/|/home/|[A-Za-z]:\\\\|shared/osm)", legend), legend


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_label_is_cut_at_the_maps_edge(built, size):
    for name in ("north-south", "bam"):
        with open_map(built / f"{name}.html", viewport={"width": size[0], "height": size[1]}) as res:
            cut = [label["text"] for label in res.evaluate(VISIBLE_LABELS_JS)
                   if label["left"] < -1 or label["top"] < -1 or label["right"] > size[0] + 1
                   or label["bottom"] > size[1] + 1]
            assert cut == [], (name, cut)


def test_tiles_that_do_not_load_show_the_base_map_not_grey(built, tmp_path):
    from PIL import Image

    shot = tmp_path / "offline.png"
    with open_map(built / "north-south.html", shot, fail_tiles=True,
                  viewport={"width": 1400, "height": 900}) as res:
        assert res.map_ready and res.page_errors == []
        assert res.count("path.cm-basemap-land") == 1 and res.count(".cm-offline-base") == 1
    image = Image.open(shot).convert("RGB")
    counts = {color: n for n, color in image.getcolors(image.width * image.height)}
    grey = counts.get(LEAFLET_GREY, 0) / (image.width * image.height)
    assert grey < 0.3, f"{grey:.0%} flat grey"


def test_tiles_that_load_keep_the_base_map_off(built):
    with open_map(built / "north-south.html") as res:
        assert res.map_ready and res.count("path.cm-basemap-land") == 0


UNCOVERED_JS = """() => {
  const boxes = [...document.querySelectorAll('.cm-legend, .cm-title, .leaflet-control')]
    .filter((e) => e.offsetParent !== null).map((e) => e.getBoundingClientRect());
  return [...document.querySelectorAll('.leaflet-marker-pane .cm-mention')].map((e) => {
    const r = e.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
    const shown = x > 0 && y > 0 && x < innerWidth && y < innerHeight;
    const covered = boxes.some((b) => x >= b.left && x <= b.right && y >= b.top && y <= b.bottom);
    return {cls: e.className, shown, covered}; });
}"""


@pytest.mark.parametrize("size", [(1400, 900), (800, 600)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_story_opens_clear_of_title_legend_and_controls(built, size):
    with open_map(built / "north-south.html", viewport={"width": size[0], "height": size[1]}) as res:
        places = res.evaluate(UNCOVERED_JS)
        assert len(places) >= 3
        assert [p["cls"] for p in places if not p["shown"] or p["covered"]] == []


#: Screen distance (px) from each visible border-crossing marker's centre to the drawn border line.
CROSSING_OFFSETS_JS = """() => {
  const lines = [...document.querySelectorAll('path.cm-border')];
  return [...document.querySelectorAll('.leaflet-marker-icon.cm-crossing')].map(m => {
    const r = m.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    let best = Infinity;
    for (const path of lines) {
      const ctm = path.getScreenCTM(), total = path.getTotalLength();
      for (let s = 0; s <= total; s += 0.5) {
        const p = path.getPointAtLength(s).matrixTransform(ctm);
        best = Math.min(best, Math.hypot(p.x - x, p.y - y));
      }
    }
    return best;
  });
}"""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_crossings_sit_on_the_border_as_drawn(built, size):
    with open_map(built / "ru-az-border.html", viewport={"width": size[0], "height": size[1]}) as res:
        assert res.map_ready and res.page_errors == []
        assert res.count("path.cm-border") >= 1
        offsets = res.evaluate(CROSSING_OFFSETS_JS)
        assert len(offsets) == 3 and max(offsets) <= 5, offsets
        zoom = res.evaluate("() => { for (const k in window) { const v = window[k];"
                            " if (v instanceof L.Map) return v.getZoom(); } return null; }")
        assert zoom is not None and zoom <= 8  # Natural Earth 1:10m is good to about 1 km: no closer
        legend = res.evaluate("() => document.querySelector('.cm-legend-body').textContent")
        assert "Border: Natural Earth 1:10m, accurate to about 1 km" in legend
