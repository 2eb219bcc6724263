"""Spans and false positives by rule, and namesakes by geography.

Every sentence here is written for these tests, in the style of news about the corridors.
"""

from __future__ import annotations

import pytest

from geo.geodesy import haversine_km
from geo.text.mentions import extract_mentions
from geo.core.place import Place
from geo.text.resolve import resolve


def _places(text: str) -> dict[str, Place | None]:
    mentions = extract_mentions(text)
    return {m.text: p for m, p in zip(mentions, resolve(mentions, text))}


def _km(place: Place | None, lat: float, lon: float) -> float:
    assert place is not None
    return haversine_km(place.lat, place.lon, lat, lon)


# --- a direction word with a country or continent is one region -----------------------------------

@pytest.mark.parametrize("sentence, region, lat, lon, km", [
    ("Soybean trains from northeast China cross the Amur at two new bridges.", "northeast China", 45.0, 126.0, 800),
    ("Grain from southern Russia is shipped through the Caspian ports to Iran.", "southern Russia", 46.0, 42.0, 800),
    ("Trucks carry the goods on to Eastern Europe within a week.", "Eastern Europe", 50.0, 27.0, 900),
    ("The corridor links Russia with central Asia and the Gulf.", "central Asia", 43.0, 65.0, 300),
    ("Cotton from Middle Asia reaches the port by rail.", "Middle Asia", 43.0, 65.0, 300),
    ("A new dry port is planned in north-eastern Iran near the border.", "north-eastern Iran", 36.3, 59.6, 400),
])
def test_a_direction_word_with_a_country_or_continent_is_one_region_in_that_part(sentence, region, lat, lon, km):
    places = _places(sentence)
    assert region in places, places
    assert _km(places[region], lat, lon) <= km
    assert region.split()[-1] not in places  # not also the whole country or continent


def test_a_direction_word_before_a_city_leaves_the_city():
    places = _places("Warehouses in northern Tehran report more orders from Azerbaijan.")
    assert "Tehran" in places and _km(places["Tehran"], 35.69, 51.39) < 30


# --- first-level divisions at a real point, found in their news forms -------------------------------

@pytest.mark.parametrize("sentence, name, lat, lon", [
    ("Coal from the Amur Region now goes east by rail.", "Amur Region", 52.8, 128.4),
    ("Timber trains leave the Zabaykalsky region for China every day.", "Zabaykalsky region", 52.2, 116.0),
    ("Heilongjiang Province buys more Russian grain this year.", "Heilongjiang Province", 47.9, 127.8),
    ("Fishing fleets of Primorsky Krai unload in Vladivostok.", "Primorsky Krai", 45.0, 134.7),
])
def test_first_level_divisions_are_found_in_their_news_forms_and_placed_inside(sentence, name, lat, lon):
    places = _places(sentence)
    assert name in places, places
    assert places[name].feature_code == "ADM1"
    assert _km(places[name], lat, lon) < 150


# --- namesakes by geography ----------------------------------------------------------------------------

def test_a_namesake_found_by_another_spelling_far_from_the_articles_regions_and_countries_is_not_placed():
    # GeoNames knows "Khasan" only as another spelling of Hassan in India, 6,000 km away; the article's
    # other places are a Russian region and a Korean port and country, so Hassan is not drawn.
    places = _places("Container trains from Primorye now run through the border station of Khasan "
                     "to the North Korean port of Rajin.")
    assert "Khasan" in places and "Rajin" in places
    assert places["Khasan"] is None or _km(places["Khasan"], 42.43, 130.64) < 100


def test_a_divisions_news_form_built_on_a_direction_word_is_not_a_place_elsewhere():
    # "Eastern Province" is a Saudi division; "the Eastern region" of another country is not it.
    places = _places("Investment in the Eastern region of Russia grew, officials in Khabarovsk said.")
    assert all(p is None or p.country != "SA" for p in places.values()), places


# --- names of other things: currencies, companies, agencies, persons, the planet ------------------------

@pytest.mark.parametrize("sentence, not_places, places_kept", [
    ("Turnover reached 20 billion U.S. dollars, or 140 billion Chinese yuan, in Harbin last year.",
     ["U.S.", "Chinese"], ["Harbin"]),
    ("The Azerbaijan Caspian Shipping Company will add two ferries to Aktau.", ["Azerbaijan", "Caspian"], ["Aktau"]),
    ("Kazakhstan Railways and China COSCO Shipping opened a terminal in Khorgos.",
     ["Kazakhstan", "China", "Shipping"], ["Khorgos"]),
    ("The Economic and Social Commission for Asia and the Pacific (UNESCAP) met in Almaty.", ["Asia", "Pacific"],
     ["Almaty"]),
    ("The trains will run every week, said governor Igor Babushkin in Astrakhan.", ["Babushkin"], ["Astrakhan"]),
    ("No corridor on Earth is as long, engineers in Novosibirsk said.", ["Earth"], ["Novosibirsk"]),
])
def test_places_in_the_names_of_other_things_are_not_places(sentence, not_places, places_kept):
    places = _places(sentence)
    for name in not_places:
        assert name not in places, places
    for name in places_kept:
        assert places.get(name) is not None, places


def test_a_place_named_on_its_own_beside_a_company_is_still_a_place():
    places = _places("Azerbaijan and the Asian Development Bank signed a loan for the railway to Georgia.")
    assert places.get("Azerbaijan") is not None and places.get("Georgia") is not None


# --- slashes, brackets and dashes between names -----------------------------------------------------------

@pytest.mark.parametrize("sentence, names", [
    ("Trains to the Black Sea ports of Poti/Batumi run every day, Georgian Railway said.", ["Poti", "Batumi"]),
    ("The route Astara (Iran)-Tehran will be electrified by 2030.", ["Astara", "Iran", "Tehran"]),
])
def test_names_joined_by_slashes_brackets_and_dashes_are_each_a_place(sentence, names):
    places = _places(sentence)
    for name in names:
        assert places.get(name) is not None, places


def test_a_line_in_a_companys_name_is_not_infrastructure():
    # (the Caspian Pipeline Consortium itself is catalogued as its pipeline: layers/gazetteer/infrastructure.toml)
    mentions = extract_mentions("The Ural Pipeline Consortium ships oil from Atyrau to Novorossiysk.")
    assert not any(m.label == "INFRA" for m in mentions), mentions
    assert {"Atyrau", "Novorossiysk"} <= {m.text for m in mentions}
