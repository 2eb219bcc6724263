"""Article text is untrusted: whatever it contains renders as plain text, and no script runs."""

from __future__ import annotations

import pytest

from geo.core import layers
from geo.corridors import build as corridors, relate as join
from geo.text import mention_frame as places
from geo.text.resolve import resolve
from geo.text.mentions import extract_mentions
from geo.maps import draw

from .browser import open_map, require_browser
from .pages import page_strings

HOSTILE = (
    "Trains leave Baku <script>alert('script-tag');console.error('XSS-MARKER')</script> every day. "
    "In Derbent <img src=x onerror=\"alert('img-onerror');console.error('XSS-MARKER')\"> the line continues. "
    "Read <a href=\"javascript:alert('js-link')\">about Astara</a> here. "
    "Makhachkala said \"'><svg onload=alert('attr-breakout')> and then Tehran. "
    "Khachmaz wrote ${alert('template-literal')} and `);alert('backtick');(` near Baku. "
    "Moscow quoted {{ this.get_name() }} and {% raw %} with \\u0022 and </script><script>alert('close-tag')</script>."
)


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory, osm_dir):
    mentions = extract_mentions(HOSTILE)
    frame = places.mention_frame(mentions, resolve(mentions, HOSTILE))
    result = corridors.build_layer(layers.load_layer("north-south"), osm_dir=osm_dir)
    fmap = draw.build_map([result], join.relate(frame, [result]), title="Hostile <b>title</b>", tiles="none")
    path = tmp_path_factory.mktemp("hostile") / "hostile.html"
    fmap.save(str(path))
    return path, frame


def test_hostile_text_reaches_popups_only_escaped(hostile_map):
    path, frame = hostile_map
    assert {"Baku", "Derbent", "Moscow"} <= set(frame["name"])
    page = path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;script-tag&#x27;)" in page_strings(page)
    assert "<script>alert(" not in page_strings(page)
    assert "<script>alert(" not in page
    assert "onerror=\"alert" not in page and "<svg onload" not in page
    assert "${alert" not in page and "`);alert" not in page


def test_no_script_runs_in_a_browser(hostile_map, tmp_path):
    require_browser()
    path, frame = hostile_map
    with open_map(path, tmp_path / "hostile.png") as res:
        assert res.map_ready
        markers = res.page.locator(".leaflet-marker-pane .cm-mention")
        assert markers.count() >= 3
        shown = []
        for i in range(markers.count()):  # open every popup, so its HTML is parsed and shown
            markers.nth(i).click(force=True)
            res.page.wait_for_timeout(50)
            shown.append(res.evaluate("() => Array.from(document.querySelectorAll('.leaflet-popup-content'))"
                                      ".map(e => e.textContent).join(' ')"))
        assert res.dialogs == []
        assert not [e for e in res.console_errors if "XSS-MARKER" in e]
        assert res.page_errors == []
    popups = " ".join(shown)
    # the hostile markup is shown to the reader as text
    assert "<script>alert('script-tag')" in popups
    assert "${alert('template-literal')}" in popups
