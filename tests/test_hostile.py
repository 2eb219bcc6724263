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


# --------------------------------------------------------------------------- linear time on hostile text

import time  # noqa: E402

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

from geo.text.article import html_to_text, markdown_to_text  # noqa: E402
from geo.text.infrastructure import find_infrastructure  # noqa: E402

#: Openers that once cost a pass to the end of the text each, and what reads them.
_HOSTILE_UNITS = ["A", "Baku", "A-", "[", "[a](", "_a ", "**a ", "*", "<a ", "<!--", "<", "</", "Baku Baku "]
_READERS = {"infrastructure": find_infrastructure, "markdown": markdown_to_text, "html": html_to_text}


def _ms_per_kb(read, unit: str, kb: int) -> float:
    """Least CPU ms per KB of three runs of ``read`` on ``kb`` KB of ``unit`` repeated."""
    text = (unit * (kb * 1000 // len(unit) + 1))[: kb * 1000]
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        read(text)
        best = min(best, time.process_time() - start)
    return 1000 * best / kb


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.one_of(st.sampled_from(_HOSTILE_UNITS), st.text(alphabet="A<[_*-!( a]>`#", min_size=1, max_size=5)),
       reader=st.sampled_from(sorted(_READERS)))
def test_time_per_kb_stays_flat_on_hostile_runs(unit, reader):
    read = _READERS[reader]
    small, large = _ms_per_kb(read, unit, 4), _ms_per_kb(read, unit, 32)
    # quadratic work is 8 times slower per KB at 8 times the size; allow 3 times for noise on a busy machine
    assert large <= 3 * small + 0.05, f"{reader} on {unit!r}: {small:.3f} ms/KB at 4 KB, {large:.3f} at 32 KB"


@pytest.mark.parametrize("reader, unit", [("infrastructure", "A"), ("infrastructure", "Baku"), ("markdown", "["),
                                          ("markdown", "_a "), ("html", "<a "), ("html", "<!--")])
def test_the_probes_hostile_inputs_take_linear_time(reader, unit):
    read = _READERS[reader]
    small, large = _ms_per_kb(read, unit, 4), _ms_per_kb(read, unit, 32)
    assert large <= 3 * small + 0.05, f"{reader} on {unit!r}: {small:.3f} ms/KB at 4 KB, {large:.3f} at 32 KB"
