"""Framing that leaves room for the furniture, in headless Chromium with no network: the title, the legend
and the controls never overlap, the legend is never taller than the map, and the index map opens on the
article's places, large, in the part of the map the furniture leaves free (the HTML page and the PNG's layout).

The article is our own: towns on the Baikal-Amur Mainline and the North-South corridor, nothing elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import pipeline
from geo.maps.png import FIT_LEGEND_JS, PNG_SIZE, STATIC_CSS
from tests.browser import open_map, require_browser

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

ARTICLE = """A container train left Moscow on Monday and reached Astrakhan two days later.
From Astrakhan the boxes went by ship to Baku, and a truck convoy then drove on to Bandar Abbas.
Far to the east, the yard at Tynda was extended, and Komsomolsk-on-Amur received its first new locomotives.
"""
SIZES = [(1400, 900), (800, 600), (375, 320)]
#: Maps too low for their legend (a page's map in a short frame, a laptop with its toolbars).
LOW_SIZES = [(1400, 360), (800, 300), (640, 260)]
#: The article's places span at least this share of the free part's width or height.
FILL = 0.7

#: Boxes (CSS px, relative to the map) of everything drawn over the map, and the map's size.
FURNITURE_JS = """() => {
  const map = document.querySelector('.leaflet-container'), o = map.getBoundingClientRect();
  const box = (e) => { const r = e.getBoundingClientRect();
    return {cls: e.className, l: r.left - o.left, t: r.top - o.top, r: r.right - o.left, b: r.bottom - o.top}; };
  const shown = (e) => e.offsetParent !== null && e.getBoundingClientRect().width > 0;
  return {w: o.width, h: o.height,
          title: [...document.querySelectorAll('.cm-title')].filter(shown).map(box),
          legend: [...document.querySelectorAll('.cm-legend')].filter(shown).map(box),
          controls: [...document.querySelectorAll('.leaflet-control')].filter(shown).map(box),
          places: [...document.querySelectorAll('.leaflet-marker-pane .cm-mention')].map((e) => {
            const r = e.getBoundingClientRect();
            return {x: (r.left + r.right) / 2 - o.left, y: (r.top + r.bottom) / 2 - o.top}; })};
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    require_browser()
    root = tmp_path_factory.mktemp("framing")
    article = root / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = root / "out"
    pipeline.build(article, out, offline=True, layer_ids=["bam", "north-south", "ru-az-border", "trans-siberian"])
    return out


def overlap(a: dict, b: dict) -> bool:
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > 1 and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 1


def largest_free_rect(w: float, h: float, boxes: list[dict]) -> tuple[float, float, float, float]:
    """The largest rectangle of the map (by area) that no box covers, as (left, top, right, bottom)."""
    xs = sorted({0.0, w, *(v for b in boxes for v in (b["l"], b["r"]) if 0 <= v <= w)})
    ys = sorted({0.0, h, *(v for b in boxes for v in (b["t"], b["b"]) if 0 <= v <= h)})
    best, area = (0.0, 0.0, 0.0, 0.0), 0.0
    for left in xs:
        for right in (x for x in xs if x > left):
            for top in ys:
                for bottom in (y for y in ys if y > top):
                    rect = {"l": left, "t": top, "r": right, "b": bottom}
                    if (right - left) * (bottom - top) > area and not any(overlap(rect, b) for b in boxes):
                        best, area = (left, top, right, bottom), (right - left) * (bottom - top)
    return best


def check_furniture(state: dict) -> None:
    """Title, legend and controls apart; the legend inside the map and not taller than it."""
    boxes = state["title"] + state["controls"]
    assert len(state["legend"]) == 1
    legend = state["legend"][0]
    assert [b["cls"] for b in boxes if b["cls"] != legend["cls"] and overlap(legend, b)] == []
    assert legend["t"] >= 0 and legend["b"] <= state["h"] and legend["b"] - legend["t"] <= state["h"]
    for title in state["title"]:
        assert [b["cls"] for b in state["controls"] if b["cls"] != title["cls"] and overlap(title, b)] == []


def check_story_framed(state: dict) -> None:
    """Every drawn place of the article clear of the furniture and inside the map; together they span at
    least :data:`FILL` of the width or the height of the largest free part of the map."""
    boxes = state["title"] + state["controls"] + state["legend"]
    places = state["places"]
    assert len(places) >= 5
    outside = [p for p in places if not (0 < p["x"] < state["w"] and 0 < p["y"] < state["h"])
               or any(b["l"] <= p["x"] <= b["r"] and b["t"] <= p["y"] <= b["b"] for b in boxes)]
    assert outside == [], outside
    left, top, right, bottom = largest_free_rect(state["w"], state["h"], boxes)
    span_x = max(p["x"] for p in places) - min(p["x"] for p in places)
    span_y = max(p["y"] for p in places) - min(p["y"] for p in places)
    fill = max(span_x / (right - left), span_y / (bottom - top))
    assert fill >= FILL, (fill, (left, top, right, bottom))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_index_opens_on_the_story_clear_of_title_legend_and_controls(built, size):
    with open_map(built / "index.html", viewport={"width": size[0], "height": size[1]}) as res:
        assert res.map_ready and res.page_errors == []
        state = res.evaluate(FURNITURE_JS)
        check_furniture(state)
        check_story_framed(state)
        if size[0] < 600:  # on a phone the legend opens over the map, never taller than it nor over a control
            res.page.locator(".cm-legend-toggle").click()
            check_furniture(res.evaluate(FURNITURE_JS))


@pytest.mark.parametrize("name", ["index", "bam", "north-south"])
@pytest.mark.parametrize("size", LOW_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_long_legends_fold_below_the_title(built, name, size):
    """A map too low for its whole legend folds the legend below the title (its list scrolls)."""
    with open_map(built / f"{name}.html", viewport={"width": size[0], "height": size[1]}) as res:
        state = res.evaluate(FURNITURE_JS)
        check_furniture(state)
        body = res.evaluate("() => { const b = document.querySelector('.cm-legend-body');"
                            " return [b.scrollHeight, b.clientHeight]; }")
        assert body[0] > body[1]  # folded: the rest is a scroll away


def test_png_layout_keeps_title_and_legend_apart_and_frames_the_story(built):
    """The still image's layout (controls hidden, the whole legend shown) refits around the furniture."""
    with open_map(built / "index.html", viewport={"width": PNG_SIZE[0], "height": PNG_SIZE[1]}) as res:
        res.page.add_style_tag(content=STATIC_CSS)
        res.evaluate(FIT_LEGEND_JS)
        state = res.evaluate(FURNITURE_JS)
        assert state["controls"] and not [c for c in state["controls"] if "leaflet-control-zoom" in c["cls"]]
        check_furniture(state)
        check_story_framed(state)
