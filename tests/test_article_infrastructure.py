"""Named infrastructure gets its place: between its ends, at its pair, at the place its name names; drawn on the map.

Every sentence here is written for these tests, in the style of news about the corridors.
"""

from __future__ import annotations

import json

import pytest

from geo.corridors.article_infra import LAYER_ID, article_infrastructure
from geo.geodesy import haversine_km
from geo.maps.draw import build_map
from geo.maps.page import render_html
from geo.text.infra_places import LINE, NAMED, POINT, placements
from geo.text.infrastructure import find_infrastructure
from geo.text.mentions import extract_mentions
from geo.text.resolve import resolve


def _read(text: str):
    mentions = extract_mentions(text)
    places = resolve(mentions, text)
    return mentions, places, {m.text: p for m, p in zip(mentions, places)}


# --- "X and Y Mainlines" ---------------------------------------------------------------------

def test_two_names_before_a_plural_kind_are_two_lines_matched_to_their_layers():
    text = "Freight volumes on the Trans-Siberian and Baikal-Amur Mainlines rose by a tenth last year."
    found = {m.text: m for m in extract_mentions(text)}
    assert found["Trans-Siberian"].label == "INFRA" and found["Trans-Siberian"].layer_id == "trans-siberian"
    assert found["Baikal-Amur Mainlines"].label == "INFRA" and found["Baikal-Amur Mainlines"].layer_id == "bam"
    assert "Baikal" not in found and "Amur" not in found  # not Lake Baikal and the Amur river


def test_two_lowercase_prefixed_names_before_railways_are_two_lines():
    spans = find_infrastructure("Officials spoke of joining the trans-Korean and trans-Siberian railways.")
    assert len(spans) == 2 and spans[1].layer_id == "trans-siberian"


def test_each_of_two_lines_is_named_alone():
    text = "The plan joins the Severnaya and Sverdlovskaya railroads north of Yekaterinburg."
    mentions, places, found = _read(text)
    # each is one of Russian Railways' regional railways (layers/gazetteer/infrastructure.toml), at its seat;
    # "Severnaya" is not the village of that former name far away
    assert found["Sverdlovskaya railroads"].name == "Sverdlovsk Railway"
    assert haversine_km(found["Sverdlovskaya railroads"].lat, found["Sverdlovskaya railroads"].lon, 56.84, 60.6) < 50
    assert found["Severnaya"].name == "Northern Railway"
    assert haversine_km(found["Severnaya"].lat, found["Severnaya"].lon, 57.63, 39.87) < 50  # Yaroslavl


def test_one_of_two_lines_not_in_the_catalogue_is_named_with_the_kind_made_singular():
    text = "The plan joins the Severnaya and Ulanskaya railroads north of Yekaterinburg."
    mentions, places, found = _read(text)
    assert found["Ulanskaya railroads"] is None  # no such railway nor place: unplaced
    assert found["Severnaya"].name == "Northern Railway"


def test_two_peoples_before_railways_are_not_lines():
    assert find_infrastructure("The Russian and Chinese railways signed a tariff deal in Harbin.") == []


# --- A–B lines and crossings ------------------------------------------------------------------

def test_a_line_without_a_layer_is_placed_between_its_resolved_ends_and_keeps_them():
    text = "Traffic on the Karymskaya–Zabaikalsk line towards China doubled, officials in Chita said."
    mentions, places, found = _read(text)
    line = found["Karymskaya–Zabaikalsk line"]
    assert line is not None and line.feature_code == LINE
    ends = found["Karymskaya"], found["Zabaikalsk"]
    gap = haversine_km(ends[0].lat, ends[0].lon, ends[1].lat, ends[1].lon)
    assert 250 < gap < 400  # Karymskoye and Zabaikalsk, ~330 km apart
    for end in ends:  # half-way: about half the gap from each end
        assert abs(haversine_km(line.lat, line.lon, end.lat, end.lon) - gap / 2) < 20
    k = next(i for i, m in enumerate(mentions) if m.text == "Karymskaya–Zabaikalsk line")
    assert [t for t, _ in placements(mentions, places)[k].ends] == ["Karymskaya", "Zabaikalsk"]


def test_a_long_chain_of_stops_is_one_line_through_all_of_them():
    text = "A new freight service runs along the Tayshet – Bratsk – Ust-Kut – Severobaykalsk route this winter."
    spans = find_infrastructure(text)
    assert [text[s.start:s.end] for s in spans] == ["Tayshet – Bratsk – Ust-Kut – Severobaykalsk route"]
    assert len(spans[0].places) == 4


def test_the_line_from_a_to_b_is_one_line_between_its_ends():
    text = "Traffic on the line from Karymskaya to Zabaikalsk doubled, officials in Chita said."
    mentions, places, found = _read(text)
    line = found["line from Karymskaya to Zabaikalsk"]
    assert line is not None and line.feature_code == LINE
    assert found["Karymskaya"] is not None and found["Zabaikalsk"] is not None
    assert haversine_km(line.lat, line.lon, 50.64, 115.83) < 40  # half-way, near Olovyannaya


@pytest.mark.parametrize("sentence, phrase, layer_id", [
    ("Shippers praised the North-South international transport corridor at the forum in Baku.",
     "North-South international transport corridor", "north-south"),
    ("A new Tynda-Neryungri branch line will carry coal south.", "Tynda-Neryungri branch line", ""),
])
def test_lowercase_corridor_words_and_branch_lines_are_infrastructure(sentence, phrase, layer_id):
    spans = find_infrastructure(sentence)
    assert [(sentence[s.start:s.end], s.layer_id) for s in spans] == [(phrase, layer_id)]


def test_a_crossing_is_a_point_at_its_pair():
    text = "Lorries queued for two days at the Sarahs–Sarakhs railway crossing between Turkmenistan and Iran."
    mentions, places, found = _read(text)
    crossing = found["Sarahs–Sarakhs railway crossing"]
    assert crossing is not None and crossing.feature_code == POINT
    assert haversine_km(crossing.lat, crossing.lon, 36.53, 61.18) < 25  # the two Sarakhs, either side of the Tejen


def test_a_link_end_read_through_another_name_far_from_the_other_end_is_not_placed_there():
    text = "Coal trains on the Khasan-Rajin railway section serve the port of Rajin in North Korea, Primorye officials say."
    mentions, places, found = _read(text)
    rajin = found["Rajin"]
    for m, p in zip(mentions, places):
        if p is not None and p.feature_class in ("P", "S", "INFRA"):
            assert haversine_km(p.lat, p.lon, rajin.lat, rajin.lon) < 1000, (m.text, p.name, p.country)


# --- whose ends are not places, kind first --------------------------------------------------------

@pytest.mark.parametrize("sentence, phrase, ends", [
    ("Oil flowed through the Atyrau–Samara pipeline again last spring.", "Atyrau–Samara pipeline",
     ("Atyrau", "Samara")),
    ("Lorries crawl along the Almaty–Bishkek highway in winter.", "Almaty–Bishkek highway", ("Almaty", "Bishkek")),
    ("Crude moves through the Atyrau–Samara oil pipeline every day.", "Atyrau–Samara oil pipeline",
     ("Atyrau", "Samara")),
])
def test_the_ends_of_a_pipeline_or_road_are_not_places_of_their_own(sentence, phrase, ends):
    mentions = extract_mentions(sentence)
    assert [(m.text, m.label) for m in mentions] == [(phrase, "INFRA")]
    assert not any(m.text in ends for m in mentions)


def test_the_ends_of_a_railway_are_still_places():
    mentions = extract_mentions("Trains on the Atyrau–Samara railway were late again.")
    assert {m.text for m in mentions} >= {"Atyrau–Samara railway", "Atyrau", "Samara"}


def test_a_kind_before_a_chain_of_ends_is_one_line_matched_to_its_layer():
    text = "The railway Kazakhstan–Turkmenistan–Iran carried its first container train in December."
    spans = find_infrastructure(text)
    assert [(text[s.start:s.end], s.layer_id) for s in spans] == [("Kazakhstan–Turkmenistan–Iran", "instc-east")]
    assert len(spans[0].places) == 3


def test_a_kind_before_two_towns_is_one_line_and_a_pipeline_keeps_its_ends_out():
    text = "Trucks take the route Orenburg–Aktobe, while oil takes the pipeline Atyrau–Samara."
    spans = find_infrastructure(text)
    assert [text[s.start:s.end] for s in spans] == ["Orenburg–Aktobe", "Atyrau–Samara"]
    assert len(spans[0].places) == 2 and spans[1].places == ()


def test_a_kind_before_words_that_are_not_places_is_nothing():
    assert find_infrastructure("The corridor Project–Plan was discussed, and the railway Board–Council met.") == []


# --- the catalogue (layers/gazetteer/infrastructure.toml) --------------------------------------------

@pytest.mark.parametrize("sentence, phrase, lat, lon, km", [
    # each point checked against a place it must lie near (a town on the line, the structure's end)
    ("Icebreakers escorted three tankers along the Northern Sea Route to Pevek.", "Northern Sea Route",
     77.7, 104.3, 150),  # the Vilkitsky Strait, half-way
    ("Gazprom raised exports through the Power of Siberia to 38 bcm.", "Power of Siberia", 56.66, 124.72, 50),
    ("Tunnellers finished the Severomuysky Tunnel in 2003 after 26 years.", "Severomuysky Tunnel", 56.15, 113.45, 30),
    ("Freight trains crossed the Kerch Bridge for the first time.", "Kerch Bridge", 45.36, 36.47, 25),
    ("Barges queued at the locks of the Volga–Don Canal near Volgograd.", "Volga–Don Canal", 48.7, 44.5, 60),
    ("Coal exports from Port Vostochny fell by a tenth.", "Port Vostochny", 42.82, 132.87, 25),  # Nakhodka
    ("Containers from Shahid Rajaee Port reach Moscow by rail.", "Shahid Rajaee Port", 27.18, 56.27, 30),  # Bandar Abbas
    ("The Trans-Baikal Railway loaded 20 million tons of coal.", "Trans-Baikal Railway", 52.03, 113.5, 20),
    ("Gas for Europe crosses Turkey through TANAP.", "TANAP", 39.5, 34.5, 300),
    ("Engineers surveyed the Amur–Yakutsk Mainline north of Tynda.", "Amur–Yakutsk Mainline", 58.96, 126.29, 50),
    ("A container train ran on the Trans-Mongolian Railway to Erenhot.", "Trans-Mongolian Railway", 47.92, 106.92, 30),
])
def test_a_catalogued_name_is_found_at_its_point(sentence, phrase, lat, lon, km):
    mentions, places, found = _read(sentence)
    place = found[phrase]
    assert place is not None and place.feature_class == "INFRA", place
    assert haversine_km(place.lat, place.lon, lat, lon) < km, place


def test_a_catalogued_pipeline_named_by_its_ends_is_at_its_point_without_its_ends():
    text = "Repairs closed the Baku–Tbilisi–Ceyhan pipeline for a week."
    mentions, places, found = _read(text)
    line = found["Baku–Tbilisi–Ceyhan pipeline"]
    assert line.name == "Baku–Tbilisi–Ceyhan pipeline"
    assert haversine_km(line.lat, line.lon, 39.9, 41.27) < 100  # near Erzurum, not half-way on a straight line
    assert not {"Baku", "Tbilisi", "Ceyhan"} & set(found)


@pytest.mark.parametrize("sentence, words", [
    ("The Moscow Railway station was shut for repairs on Sunday.", "Moscow Railway"),
    ("Northern railway lines in Kazakhstan need new sleepers.", "Northern railway"),
    ("Sweden upgraded the northern railway to Kiruna.", "northern railway"),
    ("The CPC Central Committee met in Beijing on Monday.", "CPC"),
    ("Jewellers in Kabul sell lapis lazuli from Badakhshan.", "lapis lazuli"),
])
def test_a_catalogued_name_used_as_a_common_phrase_is_not_infrastructure(sentence, words):
    mentions = extract_mentions(sentence)
    assert not any(m.label == "INFRA" for m in mentions), [(m.text, m.label) for m in mentions]


# --- named after a place --------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, phrase, lat, lon, km", [
    ("Tunnellers broke through the Baikal Tunnel near Severobaykalsk in March.", "Baikal Tunnel", 53.5, 108.0, 300),
    ("The Sakhalin Railway, based in Yuzhno-Sakhalinsk, runs the island's lines.", "Sakhalin Railway",
     50.0, 143.0, 400),
    ("Ferries lost trade after the Kamchatka Bridge opened to lorries from Petropavlovsk.", "Kamchatka Bridge",
     57.0, 160.0, 400),
    # a region is no namesake: far from the article's towns, still there
    ("Officials in Salekhard and Nadym compared their road with the Kamchatka Bridge.", "Kamchatka Bridge",
     57.0, 160.0, 400),
])
def test_a_name_made_of_a_place_is_placed_there_and_marked(sentence, phrase, lat, lon, km):
    mentions, places, found = _read(sentence)
    place = found[phrase]
    assert place is not None and place.feature_code == NAMED, place
    assert haversine_km(place.lat, place.lon, lat, lon) < km
    first_word = phrase.split()[0]
    assert not any(m.text == first_word for m in mentions)  # no bare "Baikal" beside the tunnel


def test_a_name_of_no_place_stays_unplaced():
    text = "Governor Artyom Petrov spoke in Salekhard about the Polar Latitudinal Railway and its cost."
    mentions, places, found = _read(text)
    assert found["Polar Latitudinal Railway"] is None


# --- on the map ------------------------------------------------------------------------------------

def test_the_articles_lines_and_crossings_are_features_of_their_kind():
    text = ("Traffic on the Karymskaya–Zabaikalsk line doubled, officials in Chita said, and lorries queued "
            "at the Sarahs–Sarakhs railway crossing between Turkmenistan and Iran.")
    mentions, places, _ = _read(text)
    result = article_infrastructure(mentions, places)
    assert result is not None and result.layer.id == LAYER_ID
    rows = {r.name: r for r in result.frame.itertuples()}
    line, point = rows["Karymskaya–Zabaikalsk line"], rows["Sarahs–Sarakhs railway crossing"]
    assert (line.kind, line.geometry.geom_type, line.source) == ("infrastructure-line", "LineString", "schematic")
    assert 250 < line.length_km < 400
    assert (point.kind, point.geometry.geom_type, point.source) == ("infrastructure-point", "Point", "schematic")
    from geo.export import to_geojson

    kinds = {f["properties"]["kind"] for f in json.loads(to_geojson(result.frame))["features"]}
    assert kinds == {"infrastructure-line", "infrastructure-point"}


def test_a_line_named_like_markup_is_escaped_in_labels_and_popups():
    text = "Traffic on the Karymskaya–Zabaikalsk line doubled, officials in Chita said."
    mentions, places, _ = _read(text)
    result = article_infrastructure(mentions, places)
    hostile = "<img src=x onerror=alert(1)>`${x}`"
    result.frame.loc[:, "name"] = [hostile]
    result.frame.loc[:, "ends"] = pd_list([["<b>A</b>", "B"]])
    html = render_html(build_map([result], title="t"))
    assert "<img src=x" not in html and "<b>A</b>" not in html and "${x}" not in html
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html  # escaped, inside a JSON string
    assert "\\u0026lt;b\\u0026gt;A" in html  # the ends, in the popup


def pd_list(values):
    import pandas as pd

    return pd.Series(values, dtype=object).values


def test_a_build_draws_the_articles_line_and_does_not_list_it_as_not_drawn(tmp_path):
    from geo.pipeline import build

    article = tmp_path / "a.txt"
    article.write_text("Traffic on the Karymskaya–Zabaikalsk line towards the Chinese border doubled, officials "
                       "in Chita said. The Baikal-Amur Mainline carried more coal through Tynda, and the Baikal "
                       "Tunnel reopened.", encoding="utf-8")
    report = build(article, tmp_path / "out", offline=True)
    features = json.loads((tmp_path / "out" / "index.geojson").read_text(encoding="utf-8"))["features"]
    drawn = [f for f in features if f["properties"].get("kind") == "infrastructure-line"]
    assert [f["properties"]["name"] for f in drawn] == ["Karymskaya–Zabaikalsk line"]
    assert drawn[0]["properties"]["source"] == "schematic"
    listed = [name for lists in report.not_drawn["index"].values() for name in lists]
    assert not any("Karymskaya–Zabaikalsk" in name for name in listed), report.not_drawn["index"]
    tunnel = [name for name in report.not_drawn["index"].get("no_layer", []) if "Baikal Tunnel" in name]
    assert tunnel and "placed only at Lake Baikal" in tunnel[0], report.not_drawn["index"]
