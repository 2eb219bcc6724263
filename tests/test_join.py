"""The article's places joined to the corridors: nearest corridor, segment, station and distance."""

from __future__ import annotations

import pytest

from geo.core import layers
from geo.corridors import build as corridors, relate as join
from geo import pipeline


@pytest.fixture(scope="module")
def results(osm_dir):
    return [corridors.build_layer(layers.load_layer(i), osm_dir=osm_dir) for i in ("bam", "north-south", "ru-az-border")]


def test_derbent_is_on_the_north_south_corridor(results):
    text = "The freight train left Makhachkala for Derbent, then crossed into Azerbaijan at Samur on its way to Baku."
    _, frame = pipeline.article_places(text)
    related = join.relate(frame, results).set_index("name")
    derbent = related.loc["Derbent"]
    assert derbent["nearest_layer"] == "north-south"
    assert derbent["distance_km"] < 3
    assert derbent["nearest_segment"] in ("Makhachkala – Derbent", "Derbent – Samur")
    assert derbent["nearest_station"] == "Derbent"
    # a station is not "between" two stations, one of them itself
    assert derbent["relation"] == "a station on the North–South Transport Corridor (western route)"


def test_a_town_off_the_stations_lies_between_two_of_them(results):
    _, frame = pipeline.article_places("Officials in Lankaran met their guests from Moscow.")
    row = join.relate(frame, results).set_index("name").loc["Lankaran"]
    assert row["relation"].startswith("on the North–South Transport Corridor (western route)")
    assert "between Alat and Astara" in row["relation"]


def test_far_places_say_how_far(results):
    _, frame = pipeline.article_places("Officials in Paris and Tynda commented on the plan.")
    related = join.relate(frame, results).set_index("name")
    assert related.loc["Tynda", "nearest_layer"] == "bam" and related.loc["Tynda", "distance_km"] < 5
    paris = related.loc["Paris"]
    assert paris["distance_km"] > 2000 and paris["relation"].startswith(f"{paris['distance_km']:,.0f} km from the")
