"""Map HTML content: base layers, symbols, legend, attribution, escaping, display geometry, embedding."""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

from pypolyline.cutil import decode_polyline
import pytest
import geopandas as gpd
import shapely

from geo.osm.source import Extract
from geo import cli, pipeline
from geo.maps import png as render
from geo.text import mention_frame as places
from geo.core.layers import list_layers
from geo.maps import display, draw, legend, style
from tests.conftest import need_shared
from tests.pages import legend_of, page_strings

BUDGET_BYTES = 2 * 1024 * 1024
EVIL = 'Baku <script>alert("x")</script> `${document.cookie}` \\ {{ 7*7 }}'


@pytest.fixture(scope="module")
def results(osm_dir):
    return {r.layer.id: r for r in pipeline.build_layers(list_layers(), Extract(folder=osm_dir))}


def fake_places(rows):
    """A mention frame from small fake Mention/Place-like objects: rows of (name, lat, lon, sentence)."""
    mentions, resolved = [], []
    for name, lat, lon, sentence in rows:
        mentions.append(SimpleNamespace(text=name.split()[0], sentence=sentence, layer_id=""))
        resolved.append(SimpleNamespace(name=name, country="AZ", lat=lat, lon=lon, geonames_id=587084,
                                        feature_class="P", score=0.9, local_name="Bakı"))
    return places.mention_frame(mentions, resolved)


def render_html(results, ids, **kwargs) -> str:
    chosen = [results[i] for i in ids]
    return draw.build_map(chosen, title="T", **kwargs).get_root().render()


def test_light_base_map_is_the_one_shown(results):
    html = render_html(results, ["ru-az-border"])
    names = re.findall(r"var (tile_layer_\w+) = L\.tileLayer\(\s*\"([^\"]+)\"", html)
    assert len(names) == 3  # light, OpenStreetMap, OpenRailwayMap overlay
    shown = {url for var, url in names if re.search(rf"{var}\.addTo\(", html)}
    assert len(shown) == 1 and "World_Light_Gray" in shown.pop()
    html_osm = render_html(results, ["ru-az-border"], tiles="osm")
    names = re.findall(r"var (tile_layer_\w+) = L\.tileLayer\(\s*\"([^\"]+)\"", html_osm)
    shown = [url for var, url in names if re.search(rf"{var}\.addTo\(", html_osm)]
    assert shown == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert "openrailwaymap" in html_osm


def test_tiles_none_draws_natural_earth_outlines_without_tile_server(results):
    html = render_html(results, ["ru-az-border"], tiles="none")
    assert "L.tileLayer" not in html
    assert "Base map: Natural Earth 1:10m land, lakes and borders" in page_strings(html) and '"Azerbaijan"' in html
    assert "cm-basemap-land" in html and "cm-basemap-lakes" in html and "cm-basemap-borders" in html


def test_layers_markers_and_chrome(results):
    html = render_html(results, ["north-south", "ru-az-border"])
    ns = results["north-south"].frame
    assert html.count("cm-line cm-segment") == (ns["kind"] == "segment").sum() == 13
    n_ports = ((ns["kind"] == "station") & (ns["role"] == "port")).sum()
    assert html.count('"cm-marker cm-port"') == n_ports == 4
    assert html.count("cm-station cm-role") == (ns["kind"] == "station").sum() - n_ports
    assert html.count("cm-crossing-rail") == 1 and html.count("cm-crossing-road") == 2
    assert "AwesomeMarkers" not in html and "font-awesome" not in html and "jquery" not in html.lower()
    assert "L.control.fullscreen" in html and "L.control.layers" in html and "L.control.scale" in html
    assert "'cm-title'" in html and "cm-legend" in html


def test_construction_is_dashed_and_schematic_is_dotted(results):
    html = render_html(results, ["north-south"])
    dashes = re.findall(r'"dashArray": (null|"[^"]*")', html)
    assert f'"{style.STATUS_DASH["construction"]}"' in dashes  # the Rasht-Astara missing link
    assert f'"{style.SCHEMATIC_DASH}"' in dashes
    assert html.count("cm-line cm-segment") > len(dashes)  # solid lines leave dashArray out (Leaflet's default)


def test_legend_is_per_part_and_only_what_the_map_shows(results):
    border = legend_of(render_html(results, ["ru-az-border"]))
    assert "Border: Natural Earth 1:10m, accurate to about 1 km" in border
    assert "Crossings: where roads and railways cross the border (OpenStreetMap" in border
    assert "placed from the layer file" in border
    assert "/" not in re.sub(r"<[^>]*>", " ", border).split("Data:")[0]  # no paths
    assert "Source: osm" not in border
    assert "rail border crossing" in border and "road border crossing" in border
    assert "under construction" not in border and "station" not in border
    bam = legend_of(render_html(results, ["bam"]))
    assert "under construction" not in bam and "schematic" not in bam
    assert "in service" in bam and "port" in bam and "Line: OpenStreetMap" in bam
    ns = legend_of(render_html(results, ["north-south"]))
    assert "under construction" in ns and "schematic" in ns and "planned" not in ns
    assert "crossing" not in ns


def test_attribution_names_every_source(results):
    html = render_html(results, ["bam"])
    for text in ("OpenStreetMap contributors", "GeoNames", "Natural Earth", "Esri"):
        assert text in html


def test_escape_neutralises_html_and_template_literals():
    out = style.escape(EVIL)
    for bad in ("<", ">", "`", "${", "\\", "{{"):
        assert bad not in out
    assert style.escape(None) == ""


def test_mention_popup_quotes_highlighted_and_escaped(results):
    sentence = f"Trains from Derbent run on to {EVIL} today."
    frame = fake_places([("Baku", 40.4093, 49.8671, sentence), ("Baku", 40.4093, 49.8671, "Baku again.")])
    html = render_html(results, ["north-south"], places=frame)
    assert "<script>alert" not in html and "${document" not in html and "`$" not in html
    popup = draw.mention_popup(next(frame.itertuples()))
    assert "<mark>Baku</mark> &lt;script&gt;" in popup and "Bakı" in popup
    assert "https://www.geonames.org/587084" in popup and "openstreetmap.org/?mlat=40.4093" in popup
    assert "mentioned 2×" in popup and popup.count("<blockquote") == 2


def test_mention_marker_size_grows_with_count():
    assert draw.mention_radius(1) < draw.mention_radius(4) < draw.mention_radius(20) <= 18


def test_display_geometry_stays_within_a_pixel_and_a_quarter_at_zoom_14(results):
    for result in results.values():
        lines = result.frame[result.frame["kind"].isin(["segment", "border"])]
        for geom in lines.geometry:
            simple = shapely.MultiLineString([[(x, y) for y, x in part] for part in display.display_coords(geom)])
            lat = max(abs(geom.bounds[1]), abs(geom.bounds[3]))
            px = 360 / (256 * 2**14) * math.cos(math.radians(lat))
            # a pixel of simplification (Leaflet's own smoothing) and a quarter of rounding
            assert shapely.hausdorff_distance(geom, simple) < 1.25 * px, result.layer.id
            # the page gets exactly these coordinates, as encoded polylines a fraction of the JSON's size
            parts, decimals = display.encoded_parts(geom)
            decoded = [[(lat, lon) for lon, lat in decode_polyline(p.encode(), decimals)] for p in parts]
            assert decoded == display.display_coords(geom)


def test_display_geometry_has_far_fewer_vertices_than_the_full_extract(results):
    need_shared("osm")  # the bundled snapshot is already simplified for zoom 14
    bam = results["bam"].frame
    seg = bam[bam["kind"] == "segment"].geometry
    as_json = sum(len(json.dumps(display.display_coords(g))) for g in seg)
    encoded = sum(len(p) for g in seg for p in display.encoded_parts(g)[0])
    assert encoded < as_json / 4


def test_index_with_all_corridors_within_size_budget(osm_dir, tmp_path):
    report = pipeline.build(None, tmp_path, osm_dir=osm_dir)
    index = tmp_path / "index.html"
    assert index in report.files and index.stat().st_size <= BUDGET_BYTES


def test_embed_snippet_has_title_and_text_alternative(results):
    chosen = [results["north-south"]]
    text = legend.describe(chosen, fake_places([("Baku", 40.4, 49.9, "In Baku.")]))
    assert "Astara – Rasht is under construction" in text and "Baku (1×)" in text
    snippet = legend.embed_snippet("north-south.html", 'Map: "NS" <corridor>', text)
    assert '<iframe src="north-south.html" title="Map: &quot;NS&quot; &lt;corridor&gt;"' in snippet
    assert 'aria-describedby="cm-desc-north-south"' in snippet and 'id="cm-desc-north-south"' in snippet
    assert "padding-bottom:70.0%" in snippet and "Astara – Rasht is under construction" in snippet


def test_cli_build_embed_self_contained(osm_dir, tmp_path, capsys):
    code = cli.main(["build", "--osm-dir", str(osm_dir), "--out", str(tmp_path), "--layer", "ru-az-border",
                     "--embed", "--self-contained"])
    assert code == 0
    out = capsys.readouterr().out
    assert "<iframe src=\"ru-az-border.html\"" in out and "<iframe src=\"index.html\"" in out
    assert (tmp_path / "ru-az-border.embed.html").read_text().startswith("<figure")
    html = (tmp_path / "ru-az-border.html").read_text()
    assert not re.search(r"<script[^>]+src=\"https?:", html)
    assert not re.search(r"<link[^>]+href=\"https?:[^\"]+\.css", html)


def test_png_without_chromium_is_a_clear_error(tmp_path, monkeypatch, capsys, osm_dir):
    monkeypatch.setenv("CORRIDORMAP_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(render.RenderError, match="apt-get install chromium"):
        render.chromium_path()
    code = cli.main(["build", "--osm-dir", str(osm_dir), "--out", str(tmp_path / "out"), "--png"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs headless Chromium" in err
    assert not (tmp_path / "out" / "index.html").exists()


def test_map_object_displays_inline_in_notebooks(results):
    fmap = draw.build_map([results["ru-az-border"]], title="T")
    assert "<iframe" in fmap._repr_html_()


# --------------------------------------------------------------------------- countries, regions and seas as labels


def _area_places():
    from shapely.geometry import Point

    rows = [("Russia", "A", "PCLI", "RU", Point(100.0, 60.0)),  # GeoNames' point: Siberia
            ("Iran", "A", "PCLI", "IR", Point(53.0, 32.0)),
            ("China", "A", "PCLI", "CN", Point(105.0, 35.0)),
            ("Soviet Union", "A", "PCLH", "SU", Point(90.0, 60.0)),
            ("Caspian Sea", "H", "LK", "", Point(50.4, 41.9)),
            ("Dagestan", "A", "ADM1", "RU", Point(47.0, 43.0)),
            ("Baku", "P", "PPLC", "AZ", Point(49.89, 40.38))]
    import geopandas as gpd

    return gpd.GeoDataFrame([dict(zip(("name", "feature_class", "feature_code", "country", "geometry"), r))
                             for r in rows], geometry="geometry", crs=4326)


def test_areas_are_labels_inside_the_part_the_map_shows():
    from geo.geodesy import geodesic_distance_km
    from geo.maps.areas import area_labels

    caspian = (44.0, 36.0, 56.0, 47.0)  # a North-South-like frame: Russia only in its north-west corner
    labels = area_labels(_area_places(), caspian)
    by_name = {row["name"]: row for _, row in labels.iterrows()}
    assert set(by_name) == {"Russia", "Iran", "Caspian Sea", "Dagestan"}  # not China (not shown), not a town
    russia = by_name["Russia"].geometry
    assert caspian[0] <= russia.x <= caspian[2] and caspian[1] <= russia.y <= caspian[3]
    assert russia.y > 43.5  # in Russia, north of the Caucasus, not at the GeoNames point in Siberia
    assert geodesic_distance_km(100.0, 60.0, russia.x, russia.y) > 2000
    assert by_name["Caspian Sea"]["kind"] == "water" and by_name["Dagestan"]["kind"] == "region"
    assert by_name["Iran"]["kind"] == "country"


def test_areas_not_labelled_are_listed_with_their_reason():
    from shapely.geometry import LineString

    from geo.maps.coverage import REASONS, not_drawn

    frame = gpd.GeoDataFrame({"kind": ["segment"]}, geometry=[LineString([(44.0, 36.0), (56.0, 47.0)])], crs=4326)
    result = SimpleNamespace(frame=frame, layer=SimpleNamespace(id="x"))
    lists = not_drawn([], _area_places(), [result])
    assert lists == {"outside": ["China"], "former": ["Soviet Union"]}
    assert "former countries" in REASONS["former"]


def test_infrastructure_without_a_layer_is_listed_once_with_its_reason():
    from shapely.geometry import LineString, Point

    from geo.maps.coverage import not_drawn

    frame = gpd.GeoDataFrame({"kind": ["segment"]}, geometry=[LineString([(44.0, 36.0), (56.0, 47.0)])], crs=4326)
    result = SimpleNamespace(frame=frame, layer=SimpleNamespace(id="x"))
    places = gpd.GeoDataFrame([{"name": "Zangezur corridor", "feature_class": "INFRA", "feature_code": "INFRA",
                                "infra_layer": "", "geometry": Point(46.2, 39.2)}], geometry="geometry", crs=4326)
    reason = "no layer file for it; offline, so not fetched from OSM"
    lists = not_drawn(["Kavkaz highway"], places, [result],
                      {"Zangezur corridor": reason, "Kavkaz highway": "no layer file for it"})
    assert lists == {"no_layer": ["Kavkaz highway (no layer file for it)", f"Zangezur corridor ({reason})"]}
