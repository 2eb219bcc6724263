"""Corridor vocabulary: romanisation variants, layer stations and crossings, named infrastructure by pattern.

Every sentence here is written for these tests, in the style of news about the corridors.
"""

from __future__ import annotations

import pytest

from geo import geonames
from geo.core.layers import list_layers
from geo.text.mentions import extract_mentions
from geo.core.names import variant_key
from geo.core.place import Place
from geo.text.resolve import reject_far_fetched, resolve


def _places(text: str) -> dict[str, Place | None]:
    mentions = extract_mentions(text)
    return {m.text: p for m, p in zip(mentions, resolve(mentions, text))}


def _near(place: Place | None, lat: float, lon: float, km: float = 30.0) -> bool:
    from geo.geodesy import haversine_km

    return place is not None and haversine_km(place.lat, place.lon, lat, lon) <= km


# --- romanisation rules: one sentence per rule -------------------------------------------------

@pytest.mark.parametrize("sentence, name, lat, lon", [
    # ai/ay and y/i
    ("Track crews reached Severobaikalsk on the northern tip of the lake, Russian Railways said.",
     "Severobaikalsk", 55.64, 109.31),
    # yo/e and ye/e
    ("Container trains from Ekaterinburg now reach the Chinese border in six days, Russian Railways said.",
     "Ekaterinburg", 56.85, 60.61),
    # kh/h
    ("Azerbaijan Railways has rebuilt the station at Hachmaz, north of Baku, for the corridor traffic.",
     "Hachmaz", 41.46, 48.80),
    # ow/o
    ("Iranian grain ships unloaded at Noshahr on the Caspian coast of Iran on Tuesday.", "Noshahr", 36.65, 51.50),
    # doubled letters and -iy/-y
    ("A branch line leaves the Trans-Siberian at Usuriisk for the Chinese border in Russia's Far East.",
     "Usuriisk", 43.80, 131.95),
    # -oye/-oe/-oie
    ("The first freight train crossed the Amur at Nizhneleninskoie in Russia in November.",
     "Nizhneleninskoie", 47.8, 132.6),
    # apostrophes and soft signs (GeoNames spells it Zabaykal'sk)
    ("Coal trains wait for days at Zabaykalsk on Russia's border with China.", "Zabaykalsk", 49.64, 117.33),
    # q/g (Azerbaijani Qusar)
    ("Trucks queued at Gusar and Khachmaz on the road to the Russian border, Azerbaijani officials said.",
     "Gusar", 41.43, 48.43),
    # "X port" for "Bandar-e X"
    ("Russian wheat reaches Anzali port in Iran across the Caspian Sea.", "Anzali port", 37.47, 49.46),
])
def test_romanisation_variants_find_the_place(sentence, name, lat, lon):
    places = _places(sentence)
    assert name in places, sorted(places)
    assert _near(places[name], lat, lon), places[name]


def test_variant_key_folds_the_rules_generally():
    pairs = [("Severobaykalsk", "Severobaikalsk"), ("Yekaterinburg", "Ekaterinburg"), ("Fyodorovka", "Fedorovka"),
             ("Khasavyurt", "Hasaviurt"), ("Nowshahr", "Noshahr"), ("Ussuriysk", "Usuriisk"),
             ("Nizhneleninskoye", "Nizhneleninskoie"), ("Obluch’ye", "Obluchye"), ("Bandar-e Anzali", "Bandar Anzali"),
             ("Ələt", "Alat"), ("Забайкальск", "Zabaikalsk"), ("Qusar", "Gusar"), ("Qazvin", "Ghazvin"),
             ("Türkmenbaşy", "Turkmenbashi"), ("Şirvan", "Shirvan")]
    for a, b in pairs:
        assert variant_key(a) == variant_key(b), (a, b)
    assert variant_key("Baku") != variant_key("Bako")


def test_bandar_forms_find_the_port():
    from geo.text import gazetteer

    gaz = gazetteer.load()
    for name in ("Bandar Torkaman", "Bandar-e Torkaman", "Torkaman port", "Port of Torkaman"):
        hits = [gaz.entries[i] for i, _ in gazetteer.candidates(name)]
        assert any(e.geonames_id == 141653 for e in hits), name


# --- corridor vocabulary ---------------------------------------------------------------------

def test_every_layer_station_has_a_known_position_and_every_layer_states_sources():
    for layer in list_layers():
        assert layer.notes and all(n["source"].startswith("http") for n in layer.notes), layer.id
        for s in layer.stations:
            assert geonames.city_point(s.geonames_id) is not None or (s.lat is not None and s.position_source), \
                (layer.id, s.name)
        for c in layer.crossings:
            assert c.position_source, (layer.id, c.name)


def test_layer_station_wins_over_a_namesake_elsewhere():
    text = ("Azerbaijan's new port at Alat now handles Kazakh containers, and trains leave Alat for Georgia daily, "
            "the Azerbaijani transport ministry said.")
    assert _near(_places(text)["Alat"], 39.94, 49.39)  # the Caspian port, not Alot in India


def test_crossings_are_found_by_each_sides_name_and_by_the_pair():
    text = ("Trucks queued for two days at Yarag-Kazmalyar on the Russian side of the Azerbaijani border, while "
            "freight trains crossed at Samur-Yalama. In the Far East, Chinese and Russian officials said traffic through "
            "Zabaikalsk and the Nizhneleninskoye-Tongjiang bridge rose by a fifth.")
    places = _places(text)
    assert _near(places["Yarag-Kazmalyar"], 41.80, 48.47)
    assert _near(places["Samur-Yalama"], 41.79, 48.53)
    assert _near(places["Zabaikalsk"], 49.63, 117.35)
    assert _near(places["Nizhneleninskoye-Tongjiang bridge"], 47.8, 132.6)


def test_station_aliases_are_found():
    places = _places("Kazakh grain trains run from Uzen to Bereket in Turkmenistan and on to Gorgan in Iran.")
    assert _near(places["Uzen"], 43.34, 52.86)
    assert _near(places["Gorgan"], 36.84, 54.44)


# --- named infrastructure by pattern ---------------------------------------------------------

def _mentions(text):
    return {m.text: m for m in extract_mentions(text)}


def test_magistral_is_one_infrastructure_mention_not_a_lake_and_a_river():
    found = _mentions("Putin called the Baikal-Amur Magistral a project of the century during his visit to Tynda.")
    assert found["Baikal-Amur Magistral"].label == "INFRA" and found["Baikal-Amur Magistral"].layer_id == "bam"
    assert "Baikal" not in found and "Amur" not in found
    assert "Tynda" in found


@pytest.mark.parametrize("sentence, phrase, layer_id, ends", [
    ("Iran said work on the Rasht–Astara railway would start next year.", "Rasht–Astara railway", "north-south",
     ["Rasht", "Astara"]),
    ("Georgia finished the Akhalkalaki-Kars railroad section on its side in 2017.", "Akhalkalaki-Kars railroad section",
     "baku-tbilisi-kars", ["Akhalkalaki", "Kars"]),
    ("Freight on the North-South Transportation Corridor doubled, Moscow said.", "North-South Transportation Corridor",
     "north-south", []),
    ("Kazakhstan wants more ships for the Trans-Caspian International Transport Route.",
     "Trans-Caspian International Transport Route", "middle-corridor", []),
    ("Exporters prefer the Zabaikalsk-Manzhouli crossing to the sea route.", "Zabaikalsk-Manzhouli crossing",
     "ru-cn-crossings", ["Zabaikalsk", "Manzhouli"]),
    ("The Ust-Kut–Severobaikalsk line was laid through the taiga in the 1970s.", "Ust-Kut–Severobaikalsk line",
     "bam", ["Ust-Kut", "Severobaikalsk"]),
])
def test_infrastructure_patterns_match_a_layer_and_keep_the_towns(sentence, phrase, layer_id, ends):
    found = _mentions(sentence)
    assert found[phrase].label == "INFRA" and found[phrase].layer_id == layer_id
    for end in ends:
        assert found[end].label == "GPE"
    inner = [m for m in found.values() if found[phrase].start <= m.start < found[phrase].end and m.text != phrase]
    assert sorted(m.text for m in inner) == sorted(ends)


def test_countries_at_the_ends_of_a_line_are_places_and_a_crossing_between_countries_is_not_a_name():
    found = _mentions("Officials discussed the China-Kyrgyzstan-Uzbekistan railway in Tashkent.")
    assert found["China-Kyrgyzstan-Uzbekistan railway"].label == "INFRA"
    assert {"China", "Kyrgyzstan", "Uzbekistan", "Tashkent"} <= set(found)
    found = _mentions("A second Kazakhstan-China crossing is planned, and the Russian-Azerbaijani rail link is busy.")
    assert not any(m.label == "INFRA" for m in found.values()), found
    assert {"Kazakhstan", "China", "Russian", "Azerbaijani"} <= set(found)


@pytest.mark.parametrize("sentence, phrase, layer_id, places", [
    ("Moscow hopes the North–South International Transport Corridor will carry 30 million tonnes.",
     "North–South International Transport Corridor", "north-south", []),
    ("Nuclear icebreakers keep the Northern Sea Route open longer each year.", "Northern Sea Route", "", []),
    ("Gas through the Power of Siberia pipeline reached a record in December.", "Power of Siberia pipeline", "", []),
    ("Barges left the Volga-Don Canal for the Caspian in April.", "Volga-Don Canal", "", []),  # rivers, no towns
    ("Trucks use the Baku-Tbilisi highway while the railway is repaired.", "Baku-Tbilisi highway", "",
     []),  # a road with the railway's ends is not the railway; like a pipeline's, a road's ends are not places
])
def test_other_kinds_of_named_infrastructure(sentence, phrase, layer_id, places):
    found = _mentions(sentence)
    assert found[phrase].label == "INFRA" and found[phrase].layer_id == layer_id, found.get(phrase)
    inner = sorted(m.text for m in found.values() if found[phrase].start <= m.start < found[phrase].end
                   and m.text != phrase)
    assert inner == places


def test_a_named_canal_the_gazetteer_knows_is_placed():
    places = _places("Shipping through the Suez Canal fell, and more cargo went by the North-South corridor.")
    assert _near(places["Suez Canal"], 30.7, 32.34)


def test_named_bridges_and_checkpoints_without_a_layer_are_still_infrastructure():
    found = _mentions("Trucks were turned back at the Verkhny Lars checkpoint, and traffic on the Crimean Bridge stopped.")
    assert found["Verkhny Lars checkpoint"].label == "INFRA" and found["Verkhny Lars checkpoint"].layer_id == ""
    assert found["Crimean Bridge"].label == "INFRA"


def test_bare_common_words_are_not_places():
    found = _mentions("Ministers from the Gulf and the East met, and the North-South corridor was on the agenda.")
    assert "Gulf" not in found and "East" not in found and "North" not in found


def test_a_possessor_is_not_part_of_the_line_and_still_counts_as_the_country():
    text = "Iran's Rasht–Astara railway will be built with a Russian state loan, officials in Tehran said."
    found = _mentions(text)
    assert found["Rasht–Astara railway"].label == "INFRA" and found["Rasht–Astara railway"].layer_id == "north-south"
    assert found["Iran"].label == "GPE" and "Rasht" in found
    places = _places(text)
    assert places["Astara"].country == "IR"  # the Iranian one, 3 km from its Azerbaijani twin


# --- context: the ends of a link, bracketed names, the article's countries, place words --------

def test_the_ends_of_a_link_are_placed_near_each_other():
    # Kultuk (near Irkutsk, 1,000 km away) is also called Zabaykalsk; the towns around it are in the article
    text = ("Coal trains bound for the Zabaikalsk-Manzhouli crossing queued near Irkutsk and Ulan-Ude, in Buryatia, "
            "for a week, Russian Railways said.")
    places = _places(text)
    assert _near(places["Zabaikalsk"], 49.64, 117.33), places["Zabaikalsk"]
    assert _near(places["Manzhouli"], 49.60, 117.43)


def test_a_regions_bracketed_name_is_found():
    places = _places("Coal from Yakutia moves east on the Baikal-Amur Mainline to the port of Vanino.")
    assert places["Yakutia"] is not None and places["Yakutia"].feature_code == "ADM1"
    assert places["Yakutia"].country == "RU" and places["Yakutia"].lat > 55


@pytest.mark.parametrize("sentence, name, lat, lon", [
    # the model calls these organisations; the article names their country
    ("Freight trains between Mariinsk and Tayshet waited for days on the Trans-Siberian, Russian Railways said.",
     "Mariinsk", 56.21, 87.73),
    ("Ferries from Turkmenbashi reach Baku in a day, Turkmenistan's transport ministry said.",
     "Turkmenbashi", 40.02, 52.96),
])
def test_towns_of_the_articles_countries_are_found_when_the_model_misses_them(sentence, name, lat, lon):
    places = _places(sentence)
    assert name in places, sorted(places)
    assert _near(places[name], lat, lon), places[name]


def test_a_place_word_overrules_the_models_person_label_and_nothing_else_does():
    places = _places("Trucks now drive from Astara to the port of Anzali in a few hours.")  # the model: a person
    assert _near(places.get("Anzali"), 37.47, 49.46), sorted(places)
    # Pushkin is also a town of 100,000 near St Petersburg, but here he is the poet
    found = _mentions("Pushkin wrote about the roads of Russia, and Putin quoted Pushkin in Moscow on Tuesday.")
    assert "Pushkin" not in found and "Moscow" in found


def test_the_second_end_of_a_route_is_a_place_and_a_scholar_is_not():
    places = _places("Kazakh officials said a new line from Bakhty to Ayagoz is planned.")  # the model: a person
    assert _near(places.get("Ayagoz"), 47.96, 80.43), sorted(places)
    assert "Pushkin" not in _mentions("Putin spoke to Pushkin scholars in Russia on Tuesday.")


def test_small_ports_after_ports_such_as_are_places():
    places = _places("Exports shift from Baltic ports such as Ust-Luga and Primorsk to the Pacific.")  # the model: persons
    assert _near(places.get("Ust-Luga"), 59.67, 28.29), sorted(places)
    assert _near(places.get("Primorsk"), 60.37, 28.61), places.get("Primorsk")  # the Baltic one, beside Ust-Luga


def test_an_unnamed_bridge_is_not_infrastructure():
    found = _mentions("A new bridge over the Amur at Blagoveshchensk is under way.")
    assert not any(m.label == "INFRA" for m in found.values()), found


def test_a_town_at_a_border_or_listed_with_a_station_is_a_place():
    text = ("Georgian Railway said traffic at the Azerbaijani border at Gardabani rose, and Kazakh trains from China "
            "enter at Altynkol or Dostyk.")  # the model: Gardabani and Dostyk persons
    places = _places(text)
    assert _near(places.get("Gardabani"), 41.46, 45.09), sorted(places)
    assert _near(places.get("Dostyk"), 45.25, 82.48, km=60), sorted(places)  # Dostyk, formerly Druzhba


def test_other_spellings_of_big_places_and_lists_after_ports_of():
    text = ("St Petersburg-based shipping firms now send containers from Russia's Baltic coast to India. Others ship from "
            "the Arctic ports of Sabetta and Pevek, and Afghan traders send trucks from Mazar-i-Sharif to Kabul.")
    places = _places(text)
    assert _near(places.get("St Petersburg"), 59.94, 30.31), places.get("St Petersburg")  # not Florida's
    assert _near(places.get("Pevek"), 69.70, 170.31), sorted(places)
    assert _near(places.get("Mazar-i-Sharif"), 36.71, 67.11), sorted(places)


def test_a_name_listed_with_places_is_a_place():
    places = _places("From Tehran the freight goes south to Qom, Kashan, Yazd and Bandar Abbas.")  # the model: Yazd a person
    assert _near(places.get("Yazd"), 31.90, 54.37), sorted(places)


def test_an_owner_is_not_a_line_and_demonyms_of_the_region_name_their_country():
    found = _mentions("Georgia's railway chief said the Kazakh port of Aktau sent more containers to Baku.")
    assert found["Georgia"].label == "GPE" and not any(m.label == "INFRA" for m in found.values())
    places = _places("Georgia's railway chief said the Kazakh port of Aktau sent more containers to Baku.")
    assert places["Kazakh"].country == "KZ"  # not Gazakh in Azerbaijan
    for word, country in (("Uzbek", "UZ"), ("Kyrgyz", "KG"), ("Tajik", "TJ"), ("Azeri", "AZ")):
        places = _places(f"{word} traders sent more cotton by rail this year.")
        assert places.get(word) is not None and places[word].country == country, (word, places)


@pytest.mark.parametrize("sentence, name, country", [
    ("Trucks waited for two days at Astara in Azerbaijan before the border opened.", "Astara", "AZ"),
    ("Trucks waited for two days at Astara in Iran before the border opened.", "Astara", "IR"),
])
def test_in_a_country_after_a_name_decides_between_namesakes(sentence, name, country):
    assert _places(sentence)[name].country == country


def test_namesakes_each_followed_by_their_country_stay_apart():
    text = "Cargo through Astara (Azerbaijan) and Astara (Iran) doubled, officials in Baku said."
    mentions = extract_mentions(text)
    countries = [p.country for m, p in zip(mentions, resolve(mentions, text)) if m.text == "Astara"]
    assert countries == ["AZ", "IR"]


def test_a_name_whose_only_namesakes_lie_outside_the_named_region_is_left_unplaced():
    # the gazetteer's only Vostochny is a village in Stavropol Krai, 6,000 km from the Pacific port
    places = _places("Coal from Kuzbass is shipped through the port of Vostochny in Primorye and through Nakhodka.")
    assert "Vostochny" in places and places["Vostochny"] is None
    assert _near(places["Nakhodka"], 42.82, 132.89)


# --- far-fetched picks ------------------------------------------------------------------------

def test_a_far_namesake_found_only_by_romanisation_is_dropped_even_when_alone():
    # the gazetteer lacks the border village Khasan; "Hassan" in India is its only namesake (kh/h, ss/s)
    text = "Coal trains from Ussuriysk and Vladivostok use the Khasan-Tumangang link to North Korea, officials said."
    places = _places(text)
    assert "Khasan" in places and places["Khasan"] is None
    assert _near(places["Ussuriysk"], 43.80, 131.95)


def test_far_fetched_low_score_pick_is_dropped_and_a_confident_one_kept():
    baku = Place("Baku", "AZ", 40.38, 49.89, 587084, "P", score=0.99)
    ganja = Place("Ganja", "AZ", 40.68, 46.36, 586523, "P", score=0.98)
    alot = Place("Alot", "IN", 23.76, 75.56, 1, "P", score=0.4)
    out = reject_far_fetched([baku, ganja, alot], ["baku", "ganja", "alat"])
    assert out[2] is None and out[0] is baku
    sure = alot._replace(score=0.95)
    assert reject_far_fetched([baku, ganja, sure], ["baku", "ganja", "alat"])[2] is sure
