"""Resolution: places for the source article and for small texts with ambiguous names."""

from __future__ import annotations

import pytest

from geo.core.place import Place
from geo.text.resolve import geocode_name, resolve
from geo.text.mentions import extract_mentions
from geo.geodesy import haversine_km
from geo.core.names import fold


def _resolved(text: str) -> dict[str, Place]:
    mentions = extract_mentions(text)
    out: dict[str, Place] = {}
    for m, p in zip(mentions, resolve(mentions, text)):
        if p is not None:
            out.setdefault(m.text, p)
    return out


# name -> (lat, lon, allowed km)
EXPECTED = {
    "Moscow": (55.75, 37.62, 10),
    "Baku": (40.38, 49.89, 10),
    "Komsomolsk-on-Amur": (50.55, 137.01, 10),
    "Azerbaijan": (40.5, 47.5, 1),  # GeoNames country point
    "Russia": (60.0, 100.0, 1),  # GeoNames country point, not Moscow
    "Iran": (32.0, 53.0, 1),
    "Armenia": (40.0, 45.0, 1),
    "Turkey": (39.0, 35.0, 1),
    "Azerbaijani": (40.5, 47.5, 1),  # demonym -> its country
    "Persian Gulf": (27.0, 51.0, 300),
    "Caucasus": (42.5, 45.0, 300),
    "Middle East": (33.1, 35.9, 300),
    "BAM": (53.9, 120.3, 600),  # middle of the line's stations
    "Trans-Siberian Railway": (55.0, 83.0, 1500),
    "North-South corridor": (40.5, 48.8, 600),
}


def test_source_article_places(source_article):
    places = _resolved(source_article)
    for name, (lat, lon, km) in EXPECTED.items():
        assert name in places, name
        p = places[name]
        assert haversine_km(p.lat, p.lon, lat, lon) <= km, (name, p)
        assert 0.0 <= p.score <= 1.0
    assert places["BAM"].feature_class == "INFRA"
    assert places["Persian Gulf"].feature_class == "H"
    assert places["Azerbaijan"].geonames_id == 587116
    assert places["Komsomolsk-on-Amur"].local_name == "Комсомольск-на-Амуре"


def test_infra_mentions_carry_layer_ids(source_article):
    mentions = extract_mentions(source_article)
    layer_ids = {m.text: m.layer_id for m in mentions if m.label == "INFRA"}
    assert layer_ids["BAM"] == "bam"
    assert layer_ids["North-South corridor"] == "north-south"
    assert layer_ids["Trans-Siberian Railway"] == "trans-siberian"  # a layer since the corridor catalogue


def test_astara_in_an_azerbaijan_article():
    text = ("Azerbaijan is upgrading its southern rail link. Trains from Baku now reach Astara in two hours, "
            "Azerbaijan's railway company said.")
    assert _resolved(text)["Astara"].country == "AZ"


def test_astara_iran_qualifier_wins():
    text = "Azerbaijan is upgrading its railways. A new terminal opened in Astara, Iran, across the river."
    assert _resolved(text)["Astara"].country == "IR"


def test_derbent_in_dagestan_is_russian():
    text = "Derbent, the oldest city in Russia, lies in Dagestan on the Caspian Sea."
    p = _resolved(text)["Derbent"]
    assert p.country == "RU"
    assert haversine_km(p.lat, p.lon, 42.06, 48.29) < 10
    assert p.local_name == "Дербент"


def test_cyrillic_and_apostrophes_fold_together():
    assert fold("Ust'-Kut") == fold("Ust-Kut") == fold("Ust’-Kut")
    a, b, c = geocode_name("Ust'-Kut"), geocode_name("Ust’-Kut"), geocode_name("Усть-Кут")
    assert a is not None and a == b and a.geonames_id == c.geonames_id == 2013923


def test_geocode_name_prefers_the_city_and_country_filter():
    moscow = geocode_name("Moscow")
    assert moscow.feature_class == "P" and moscow.country == "RU"
    assert geocode_name("Moscow", "US").country == "US"
    assert geocode_name("Nowhere-at-all-xyz") is None


def test_overrides_and_unresolved():
    text = "We met in Moscow and in Zzyzxqland."
    mentions = extract_mentions(text)
    places = resolve(mentions, text, overrides={"Moscow": (1.0, 2.0)})
    by = {m.text: p for m, p in zip(mentions, places)}
    assert (by["Moscow"].lat, by["Moscow"].lon) == (1.0, 2.0)
    assert len(places) == len(mentions)


def test_online_uses_nominatim_only_when_asked(monkeypatch):
    from geo.text import nominatim
    from geo.text.mentions import Mention

    calls = []
    monkeypatch.setattr(nominatim, "geocode", lambda name, countries: calls.append((name, countries))
                        or Place(name, "RU", 1.0, 2.0, None, "P", score=0.5))
    text = "Qqqxxland, Russia."
    mentions = [Mention("Qqqxxland", 0, 9, text, "GPE"), Mention("Russia", 11, 17, text, "GPE")]
    assert resolve(mentions, text)[0] is None
    assert calls == []
    assert resolve(mentions, text, online=True)[0].lat == 1.0
    assert calls == [("Qqqxxland", ["RU"])], "asked once, inside the article's countries"
    assert resolve(mentions[:1], "Qqqxxland.", online=True) == [None], "asked nowhere when the article names no country"


def test_nominatim_network_error_is_clear(monkeypatch, tmp_path):
    from geopy.exc import GeocoderUnavailable

    from geo.text import nominatim
    from geo import settings
    from geo.errors import NetworkError

    monkeypatch.setattr(settings, "cache_dir", tmp_path)
    monkeypatch.setattr(settings, "nominatim_min_delay_s", 0.0)

    def boom(self, *a, **k):
        raise GeocoderUnavailable("no network")

    monkeypatch.setattr("geopy.geocoders.Nominatim.geocode", boom)
    with pytest.raises(NetworkError) as err:
        nominatim.lookup("Somewhere")
    assert "Somewhere" in err.value.message
