"""One name per place on a map, as the article writes it (geo.maps.naming and its use in geo.maps.draw)."""

from __future__ import annotations

import json
from pathlib import Path
import re
from types import SimpleNamespace

import pytest

from geo import pipeline
from geo.core.layers import load_layer
from geo.maps import draw, naming
from geo.text import mention_frame


def frame_of(rows):
    """A mention frame from (surface form, gazetteer name, country, lat, lon, sentence, feature code) rows."""
    mentions, resolved = [], []
    for text, name, country, lat, lon, sentence, code in rows:
        mentions.append(SimpleNamespace(text=text, sentence=sentence, layer_id=""))
        resolved.append(SimpleNamespace(name=name, country=country, lat=lat, lon=lon, geonames_id=None,
                                        feature_class="A" if code == "PCLI" else "P", feature_code=code,
                                        score=0.9, local_name=""))
    return mention_frame.mention_frame(mentions, resolved)


def labels(html: str) -> list[tuple[str, str]]:
    """(kind, text) of every permanent label of a rendered map."""
    out = []
    for m in re.finditer(r'bindTooltip\(("(?:[^"\\]|\\.)*"), (\{[^}]*\})', html):
        opts = json.loads(m.group(2))
        if opts.get("permanent"):
            out.append((re.search(r"cm-label-(\w+)", opts["className"]).group(1), json.loads(m.group(1))))
    return out


def test_article_spelling_wins_over_the_gazetteers_diacritics():
    places = frame_of([
        ("Astara", "Āstārā", "IR", 38.43, 48.87, "Trains will reach Astara next spring.", "PPL"),
        ("Astara", "Āstārā", "IR", 38.43, 48.87, "A new yard opened in Astara this week.", "PPL"),
        ("ASTARA", "Āstārā", "IR", 38.43, 48.87, "ASTARA YARD OPENS", "PPL"),
        ("Khachmaz", "Xaçmaz", "AZ", 41.46, 48.80, "Freight passes Khachmaz daily.", "PPL"),
    ])
    named = naming.with_article_names(places)
    assert sorted(named["name"]) == ["Astara", "Khachmaz"]
    assert sorted(named["gazetteer_name"]) == ["Xaçmaz", "Āstārā"]
    assert naming.with_article_names(named)["name"].tolist() == named["name"].tolist()  # idempotent


def test_most_frequent_form_and_possessive_dropped():
    counts = naming.surface_forms(SimpleNamespace(
        quotes=[("Zabaikalsk's yard is full.", 0, 12), ("Zabaikalsk grew.", 0, 10),
                ("Zabaykalsk is quiet.", 0, 10)], texts=["Zabaikalsk's", "Zabaikalsk", "Zabaykalsk"]))
    assert naming.article_spelling(counts) == "Zabaikalsk"


def test_without_article_text_the_name_is_ascii():
    row = SimpleNamespace(name="Severobaykal'sk", quotes=[], texts=[], feature_code="PPL", country="RU")
    assert naming.place_name(row) == "Severobaykalsk"
    # the layer file's English name comes before the ASCII form
    assert naming.place_name(row, {naming.variant_key("Severobaikalsk"): "Severobaikalsk"}) == "Severobaikalsk"


def test_countries_have_one_short_english_name():
    places = frame_of([
        ("People's Republic of China", "People's Republic of China", "CN", 35.0, 105.0,
         "The People's Republic of China signed.", "PCLI"),
        ("Russian", "Russian Federation", "RU", 60.0, 100.0, "Russian officials agreed.", "PCLI"),
    ])
    assert sorted(naming.with_article_names(places)["name"]) == ["China", "Russia"]


@pytest.fixture(scope="module")
def border():
    return pipeline.build_layers([load_layer("ru-az-border")], offline=True)[0]


def test_a_crossing_is_one_label_and_its_sides_are_not_labelled_again(border):
    crossing = next(c for c in border.layer.crossings if len(c.names) == 2)
    side = crossing.names[1][1]
    places = frame_of([
        (side, side, "AZ", crossing.lat + 0.01, crossing.lon + 0.01, f"Lorries queue at {side} for days.", "PPL"),
        ("Baku", "Baku", "AZ", 40.4, 49.87, "The talks were held in Baku.", "PPL"),
    ])
    html = draw.build_map([border, border], places, title="T").get_root().render()
    texts = [t for _, t in labels(html)]
    assert len(texts) == len(set(texts)), texts
    assert texts.count(crossing.name) == 1 and side not in texts
    assert f"cm-place-{draw.slug(side)}" in html  # the place keeps its dot and popup


@pytest.mark.parametrize("layer_id, names", [("ru-az-border", ["Azerbaijan", "Russia"]),
                                              ("ru-cn-crossings", ["China", "Russia"])])
def test_a_border_map_names_both_countries_in_short(layer_id, names):
    result = pipeline.build_layers([load_layer(layer_id)], offline=True)[0]
    html = draw.build_map([result], title="T").get_root().render()
    assert sorted(t for kind, t in labels(html) if kind == "country") == names


def test_sources_in_plain_words():
    from geo.maps.legend import source_words

    assert source_words("bundled", "2026-04-17") == "OpenStreetMap, April 2026, bundled with corridormap"
    assert source_words("live", "2025-11") == "OpenStreetMap, November 2025, fetched from Overpass"
    assert source_words("extract", None) == "OpenStreetMap, from a local extract"


def test_legend_of_a_bundled_map_has_no_path_nor_build_counts(border):
    from geo.maps.legend import legend_html

    result = pipeline.build_layers([load_layer("bam")], offline=True)[0]
    text = re.sub(r"<[^>]+>", " ", legend_html([result, border], None))
    assert "bundled with corridormap" in text and "2026" in text
    assert "../" not in text and "files)" not in text and "OSM nodes" not in text and "Stations:" not in text


def test_a_border_is_described_without_a_length(border):
    from geo.maps.legend import describe

    words = describe([border])
    assert border.layer.title in words and " km" not in words


def test_an_offline_build_says_its_pages_need_the_network(tmp_path):
    from geo.cli import closing_lines

    index = tmp_path / "index.html"
    online, offline = closing_lines([index], False), closing_lines([index], False, offline=True)
    assert "built offline" not in " ".join(online)
    assert "built offline" in offline[1] and "--self-contained" in offline[1]
    assert "Natural Earth" in closing_lines([index], True, offline=True)[1]


def test_an_area_named_by_an_adjective_keeps_its_name():
    places = frame_of([("Asian", "Asia", "", 30.0, 90.0, "Asian markets grew.", "CONT")])
    assert naming.with_article_names(places)["name"].tolist() == ["Asia"]


def test_a_place_named_after_a_crossing_is_not_labelled_beside_it(border):
    crossing = next(c for c in border.layer.crossings if len(c.names) == 2)
    sides = naming.crossing_sides([border])
    assert naming.at_named_crossing(f"{crossing.name} border crossing", crossing.lat, crossing.lon, sides)
    assert not naming.at_named_crossing(f"{crossing.name} border crossing", crossing.lat + 2, crossing.lon, sides)


def test_a_schematic_leg_between_coastal_stations_stays_on_land():
    """Astara – Rasht is drawn through the layer file's via points, not across the Caspian."""
    from geo.corridors import borders

    result = pipeline.build_layers([load_layer("north-south")], offline=True)[0]
    frame = result.frame
    leg = frame[(frame["kind"] == "segment") & (frame["name"] == "Astara – Rasht")].iloc[0]
    assert leg["source"] == "schematic"
    land = borders.country_shape("IR").union(borders.country_shape("AZ")).buffer(0.02)  # ~2 km slack at the shore
    outside = leg.geometry.difference(land).length / leg.geometry.length
    assert outside < 0.02, f"{outside:.0%} of the leg off land"


def test_via_points_are_read_and_checked(tmp_path):
    from geo.core import layers
    from geo.errors import LayerError

    text = (Path(layers.__file__).resolve().parents[2] / "layers" / "north-south.toml").read_text(encoding="utf-8")
    layer = layers.read_layer(_write(tmp_path, text))
    assert layer.segment("Rasht", "Astara").via[0] == (37.80, 48.91)
    with pytest.raises(LayerError, match=r"segments\[1\]\.via\[0\]' is \[137\.8, 48\.91\]: give \[lat, lon\]"):
        layers.read_layer(_write(tmp_path, text.replace("[[37.80, 48.91]", "[[137.8, 48.91]")))


def _write(folder, text):
    path = folder / "north-south.toml"
    path.write_text(text, encoding="utf-8")
    return path
