"""The OSM station gazetteer: station nodes of the bundled snapshot resolve in text, under their
romanisations, without beating a city of the same name or competing with the town they serve.

The sentences are written for these tests; the stations come from the bundled snapshot, so they
run on a fresh clone.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo import cli, settings
from geo.geodesy import haversine_km
from geo.core import place_table as places
from geo.osm import bundle, snapshot
from geo.text import gazetteer
from geo.text.mentions import extract_mentions
from geo.text.resolve import resolve
from geo.text.romanise import english_spellings, romanisations


def _resolved(text: str) -> dict:
    mentions = extract_mentions(text)
    out = {}
    for m, p in zip(mentions, resolve(mentions, text)):
        if p is not None:
            out.setdefault(m.text, p)
    return out


def _near(place, lat: float, lon: float, km: float) -> bool:
    return place is not None and haversine_km(place.lat, place.lon, lat, lon) <= km


@pytest.mark.parametrize("text, name, lat, lon", [
    # Turkmen Latin "Serhetýaka" and Kazakh "Bolashak": stations only OSM knows
    ("The wagons were weighed in Serhetyaka, Turkmenistan, and sent south.", "Serhetyaka", 42.276, 53.655),
    ("Kazakh grain goes by rail from Bolashak, Kazakhstan, to the Persian Gulf.", "Bolashak", 42.33, 53.677),
    # Cyrillic only in OSM ("Обская"), found by its romanisation
    ("Building materials for the Yamal fields are trans-shipped at Obskaya in Russia.", "Obskaya", 66.72, 66.235),
    # Azerbaijani Latin "Böyük Kəsik" and "Qızılvəng" in English spelling
    ("Freight for Georgia leaves Azerbaijan at Boyuk Kasik on the border.", "Boyuk Kasik", 41.386, 45.184),
    ("The wagons were shunted at Gizilvang, near Julfa in Nakhchivan.", "Gizilvang", 39.109, 45.416),
])
def test_a_station_only_osm_knows_resolves_to_its_node(text, name, lat, lon):
    places_ = _resolved(text)
    assert name in places_, places_
    assert _near(places_[name], lat, lon, 5), places_[name]


def test_a_small_station_never_beats_a_big_city_of_its_name_far_away():
    # the OSM snapshot has a station "Tomsk" in Kazakhstan, 2,000 km from the city
    assert any(gazetteer.load().entries[i].country == "KZ" for i, _ in gazetteer.candidates("Tomsk"))
    places_ = _resolved("Tomsk is a university city with a busy freight yard.")
    assert _near(places_["Tomsk"], 56.5, 84.98, 20), places_["Tomsk"]


def test_a_station_nothing_in_the_article_supports_is_not_placed():
    # "Sakhalin" is also a station in Siberia, 3,700 km from the island; "Obskaya" 1,700 km from Kazan
    for text in ("Cargo from Vladivostok and Khabarovsk went on by ferry to Sakhalin.",
                 "Coal from Kemerovo and Novokuznetsk also goes by ferry to Sakhalin."):  # the halt is near Kemerovo
        places_ = _resolved(text)
        assert places_.get("Sakhalin") is None or _near(places_["Sakhalin"], 50.5, 142.8, 500), places_["Sakhalin"]
    assert "Obskaya" not in _resolved("The line from Moscow and Kazan reaches Obskaya.")


def test_a_station_beside_its_town_is_one_place_not_two():
    # the OSM station "Макат" lies within a few km of the GeoNames town of Maqat (Makat)
    gaz = gazetteer.load()
    hits = [gaz.entries[i] for i, _ in gazetteer.candidates("Makat")]
    kz = [e for e in hits if e.country == "KZ"]
    assert len(kz) == 1 and kz[0].population > 0, kz
    assert [gaz.entries[i] for i, _ in gazetteer.candidates("Макат")][0] == kz[0]


def test_station_words_are_not_part_of_the_name():
    assert gazetteer.osm_place_names(["Salyan Stansiyası"], "AZ")[:2] == ["Salyan Stansiyası", "Salyan"]
    assert "Ulak" in gazetteer.osm_place_names(["станция Улак"], "RU")
    assert gazetteer.osm_place_names(["1 км"], "RU") == []


def test_romanisations_cover_the_news_spellings():
    assert {"Severomuysk", "Severomuisk"} <= set(romanisations("Северомуйск"))
    assert {"Tayshet", "Taishet"} <= set(romanisations("Тайшет"))
    assert "Tonnelny" in romanisations("Тоннельный")
    assert romanisations("Ақтөбе") == ["Aktobe"]  # Kazakh letters
    assert english_spellings("Türkmenbaşy", "TM") == ["Turkmenbashy"]
    assert english_spellings("Sumqayıt", "AZ") == ["Sumqayit", "Sumgayit"]
    assert english_spellings("Qarshi", "UZ") == ["Karshi"]
    assert english_spellings("Astara", "AZ") == []


def _write_nodes(folder, features):
    folder.mkdir()
    (folder / "nodes.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": xy}}
        for props, xy in features]}), encoding="utf-8")


def test_snapshot_command_stores_the_place_nodes_with_their_name_tags(tmp_path, monkeypatch, osm_dir, capsys):
    nodes = tmp_path / "nodes"
    _write_nodes(nodes, [
        ({"osm_id": 1, "railway": "halt", "name": "Улак", "name:en": "Ulak", "old_name": "Улак-1"}, [130.1, 54.2]),
        ({"osm_id": 2, "amenity": "ferry_terminal", "name": "Alat"}, [49.4, 39.94]),
        ({"osm_id": 3, "railway": "yard", "name": "A yard, not a place"}, [49.0, 40.0]),
        ({"osm_id": 4, "railway": "station"}, [49.0, 40.0]),  # no name
    ])
    target = tmp_path / "snapshot"
    monkeypatch.setattr(settings, "bundled_snapshot_dir", target)
    args = ["snapshot", "--bundled", "--osm-dir", str(osm_dir), "--layer", "ru-az-border", "--places", str(nodes)]
    assert cli.main(args) == 2 and "give --osm-date" in capsys.readouterr().err
    assert cli.main(args + ["--osm-date", "2026-04"]) == 0
    assert "2 named OSM place nodes" in capsys.readouterr().out
    manifest = snapshot.read_manifest(target)
    assert manifest["places"]["rows"] == 2 and manifest["places"]["osm_date"] == "2026-04"
    assert bundle.check_bundled(target) == []
    table = places.read_places(target)
    assert list(table["osm_id"]) == [1, 2]
    assert list(table["kind"]) == ["railway=halt", "amenity=ferry_terminal"]
    assert list(table["country"]) == ["RU", "AZ"]  # Alat's point is in the sea: the nearest country
    assert table.loc[0, "name:en"] == "Ulak" and table.loc[0, "old_name"] == "Улак-1"
    assert pd.isna(table.loc[1, "name:en"])
    # rewritten without --places, the snapshot keeps its place table
    assert cli.main(args[:-2] + ["--osm-date", "2026-04"]) == 0
    assert places.read_places(target)["osm_id"].tolist() == [1, 2]
    # a damaged place table is found
    with open(target / places.PLACES_FILE, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00corrupt\x00")
    assert any("places.parquet is missing or corrupt" in p for p in bundle.check_bundled(target))


def test_the_gazetteer_cache_key_follows_the_bundled_places(tmp_path, monkeypatch):
    before = gazetteer.cache_file()
    copy = tmp_path / "snapshot"
    import shutil

    shutil.copytree(settings.bundled_snapshot_dir, copy)
    manifest = json.loads((copy / snapshot.MANIFEST).read_text(encoding="utf-8"))
    manifest["places"]["sha256"] = "0" * 64
    (copy / snapshot.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(settings, "bundled_snapshot_dir", copy)
    assert gazetteer.cache_file() != before
