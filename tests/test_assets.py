"""Unit tests for geo.maps.assets (no browser, no network)."""

from __future__ import annotations

from pathlib import Path

import folium
import folium.plugins
import pytest

from geo.maps import assets
from geo.maps.assets import inline_assets, local_asset_path

FOLIUM_CLASSES = [folium.Map, folium.Marker, folium.Popup, folium.Icon, folium.plugins.Fullscreen]


def _folium_urls() -> list[str]:
    urls = []
    for cls in FOLIUM_CLASSES:
        urls += [url for _, url in getattr(cls, "default_js", []) + getattr(cls, "default_css", [])]
    return sorted(set(urls))


@pytest.mark.parametrize("url", _folium_urls())
def test_folium_assets_have_local_copies(url: str) -> None:
    path = local_asset_path(url)
    assert path is not None and path.is_file() and path.stat().st_size > 0


def test_leaflet_comes_from_real_dist_files() -> None:
    css = local_asset_path("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
    icon = local_asset_path("//cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/images/marker-icon.png")
    assert css is not None and icon is not None
    assert icon.read_bytes().startswith(b"\x89PNG")
    assert local_asset_path("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/../../etc") is None


def test_unknown_urls_are_reported_not_raised() -> None:
    html = (
        '<script src="https://example.invalid/a.js"></script>'
        '<link rel="stylesheet" href="https://example.invalid/b.css"/>'
        '<script src="https://example.invalid/a.js"></script>'
        '<script src="local.js"></script>'
    )
    assert local_asset_path("https://example.invalid/a.js") is None
    out, missing = inline_assets(html)
    assert out == html
    assert missing == ["https://example.invalid/a.js", "https://example.invalid/b.css"]


@pytest.fixture
def fake_cdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {
        "https://cdn.test/lib/evil.js": "var s = '</script><script>alert(1)</script>'; // <!-- x",
        "https://cdn.test/lib/css/style.css": (
            "@font-face{src:url('../fonts/f.woff2?v=1') format('woff2'),"
            "url(../fonts/absent.ttf)} a{background:url(data:image/png;base64,AA==)}"
            " b{content:'</style>'}"
        ),
        "https://cdn.test/lib/fonts/f.woff2": "FONT",
    }
    paths = {}
    for i, (url, text) in enumerate(files.items()):
        paths[url] = tmp_path / f"asset{i}"
        paths[url].write_text(text, encoding="utf-8")
    monkeypatch.setattr(assets, "local_asset_path", lambda url: paths.get(url.split("?")[0]))
    return paths


def test_inlined_script_cannot_close_its_element(fake_cdn: dict[str, Path]) -> None:
    html = '<head><script src="https://cdn.test/lib/evil.js"></script></head>'
    out, missing = inline_assets(html)
    assert missing == []
    assert out.lower().count("</script") == 1  # only the closing tag we wrote
    assert "<!--" not in out
    assert r"\x3C/script>" in out


def test_inlined_css_embeds_fonts_and_absolutises_the_rest(fake_cdn: dict[str, Path]) -> None:
    out, missing = inline_assets(
        '<link rel="stylesheet" media="screen" href="https://cdn.test/lib/css/style.css">'
    )
    assert missing == []
    assert out.startswith('<style media="screen">')
    assert 'url("data:font/woff2;base64,Rk9OVA==")' in out
    assert 'url("https://cdn.test/lib/fonts/absent.ttf")' in out
    assert "url(data:image/png;base64,AA==)" in out
    assert out.lower().count("</style") == 1


def test_tags_inside_inline_scripts_are_left_alone(fake_cdn: dict[str, Path]) -> None:
    link = '<link rel="stylesheet" href="https://cdn.test/lib/css/style.css">'
    html = f"<script>var t = '{link}';</script><!-- {link} -->"
    assert inline_assets(html) == (html, [])
