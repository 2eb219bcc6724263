"""The gazetteer shipped prebuilt in the package: current, the same as a build, and what a first run reads."""

from __future__ import annotations

import pytest

from geo import cachefile, settings
from geo.text import gazetteer
from geo.text import gazetteer_store as store

from .test_gazetteer_store import PLACES, small_gazetteer


def test_compact_form_reads_back_the_same(tmp_path):
    path = tmp_path / "g.npz.zst"
    size = store.write_shipped(path, "k", small_gazetteer())
    assert 0 < size == path.stat().st_size
    assert store.shipped_key(path) == "k"
    gaz = store.read_shipped(path, "k")
    assert list(gaz.entries) == PLACES
    assert gaz.names["moscow"] == (0, 3) and gaz.names.get("москва") == (0,) and "paris" not in gaz.names
    assert dict(gaz.alt_names.items()) == {"moskva": (0,), "baky": (1,)}
    assert (gaz.demonyms, gaz.countries, gaz.admin1, gaz.dotted) == ({"russian": 2}, {"RU": 2}, {"RU.48": 0},
                                                                     frozenset({"ga"}))


def test_compact_form_for_other_inputs_or_damaged_is_not_used(tmp_path):
    path = tmp_path / "g.npz.zst"
    store.write_shipped(path, "k", small_gazetteer())
    assert store.read_shipped(path, "other") is None
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert store.read_shipped(path, "k") is None  # its checksum refuses it: rebuilt, never trusted
    path.write_bytes(cachefile.pack(b"not arrays"))
    assert store.read_shipped(path, "k") is None
    assert store.read_shipped(tmp_path / "absent.xz", "k") is None


def test_the_shipped_gazetteer_is_for_the_shipped_layers_and_code():
    shipped = gazetteer.shipped_file()
    assert shipped.is_file(), f"{shipped} is missing: run  python -c 'from geo.text import gazetteer; gazetteer.ship()'"
    assert store.shipped_key(shipped) == gazetteer.cache_file().stem.split("-", 1)[1], (
        "the shipped gazetteer is stale (the layers, gazetteer files, name rules or data packages changed): "
        "run  python -c 'from geo.text import gazetteer; gazetteer.ship()'  and commit geo/data/gazetteer.npz.zst")


def test_a_first_run_reads_the_shipped_gazetteer_without_building(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(gazetteer, "build", lambda *a, **k: pytest.fail("built instead of reading the shipped one"))
    gaz = gazetteer._load(gazetteer.cache_file(), None)
    assert gazetteer.cache_file().is_file()  # written as the cache: the next run maps it
    derbent = [gaz.entries[i] for i in gaz.names["derbent"]]
    assert any(p.country == "RU" and abs(p.lat - 42.06) < 0.05 and abs(p.lon - 48.29) < 0.05 for p in derbent)
    assert any(gaz.entries[i].feature_code == "PSTB" for i in gaz.names["samur yalama"])  # a layer's crossing


@pytest.mark.slow
def test_the_shipped_gazetteer_is_what_a_build_makes():
    shipped = store.read_shipped(gazetteer.shipped_file(), store.shipped_key(gazetteer.shipped_file()))
    built = gazetteer.build()
    assert list(shipped.entries) == list(built.entries)
    for name in ("names", "alt_names"):
        assert dict(getattr(shipped, name).items()) == dict(getattr(built, name).items())
    assert (shipped.demonyms, shipped.countries, shipped.admin1, shipped.dotted) == (
        built.demonyms, built.countries, built.admin1, built.dotted)


def test_the_shipped_geonames_points_are_current_and_read_without_the_geonames_file(tmp_path, monkeypatch):
    from geo import geonames

    assert geonames._read_shipped_points(geonames._points_key()) is not None, (
        "the shipped GeoNames points are missing or stale: run  python -c 'from geo.text import gazetteer; "
        "gazetteer.ship()'")
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(geonames, "cities", lambda: pytest.fail("read the 80 MB GeoNames file"))
    geonames.city_points.cache_clear()
    try:
        lon, lat = geonames.city_point(587084)  # Baku
        assert abs(lon - 49.892) < 0.01 and abs(lat - 40.378) < 0.01
        assert (tmp_path / "cache" / "geonames-points.bin").is_file()
    finally:
        geonames.city_points.cache_clear()


@pytest.mark.slow
def test_the_shipped_geonames_points_are_those_of_the_geonames_file(tmp_path):
    import numpy as np

    from geo import geonames

    shipped = geonames._read_shipped_points(geonames._points_key())
    geonames.ship_points(tmp_path / "points.npz.zst")  # from the GeoNames file
    fresh = geonames._read_shipped_points(geonames._points_key(), tmp_path / "points.npz.zst")
    for a, b in zip(shipped, fresh):
        assert np.array_equal(a, b)


LAYER_FILE = '''
id = "test-steppe-line"
kind = "corridor"
title = "Steppe Test Railway"
aliases = ["Steppe Test Line"]
countries = ["KZ"]

[style]
color = "#e08214"
weight = 4

[osm]
way_filter = '["railway"~"^(rail|construction)$"]'
query_buffer_km = 15
clip_buffer_km = 60

[[stations]]
name = "Testovo Halt"
aliases = ["Testovo"]
country = "KZ"
lat = 48.512
lon = 61.237
role = "station"

[[stations]]
name = "Ganja"
aliases = ["Elisabethpol Junction"]
geonames_id = 586523
country = "AZ"
role = "station"
'''


def _layers_with(tmp_path):
    from geo.pipeline import text_layers

    path = tmp_path / "test-steppe-line.toml"
    path.write_text(LAYER_FILE, encoding="utf-8")
    return text_layers([path])


def test_a_layer_file_is_added_to_the_gazetteer_without_rebuilding_it(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    layers = _layers_with(tmp_path)
    monkeypatch.setattr(gazetteer, "build", lambda *a, **k: pytest.fail("rebuilt the gazetteer for one layer file"))
    gazetteer._folder_layers.cache_clear()  # an earlier test may have read another layer folder
    gazetteer._load_folder.cache_clear()
    gazetteer._BUILT.clear()
    try:
        with gazetteer.using_layers(layers):
            gaz = gazetteer.load()
            halt = [gaz.entries[i] for i in gaz.names["testovo halt"]]
            assert [(p.layer_id, round(p.lat, 3), round(p.lon, 3)) for p in halt] == [("test-steppe-line", 48.512, 61.237)]
            ganja = gaz.names["ganja"]
            assert set(gaz.names["elisabethpol junction"]) <= set(ganja)  # the town's own entry, not a new one
            line = [gaz.entries[i] for i in gaz.names["steppe test line"]]
            assert [(p.feature_class, p.layer_id) for p in line] == [("INFRA", "test-steppe-line")]
            assert "derbent" in gaz.names  # the base is all there
        assert "testovo halt" not in gazetteer.load().names  # the folder's catalogue does not know it
    finally:
        gazetteer._load_folder.cache_clear()
        gazetteer._BUILT.clear()


@pytest.mark.slow
def test_a_layer_file_added_finds_what_a_whole_build_with_it_finds(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    layers = _layers_with(tmp_path)
    gazetteer._load_folder.cache_clear()
    try:
        added = gazetteer.with_layers(gazetteer._load_folder(), [x for x in layers if x.id == "test-steppe-line"])
        whole = gazetteer.build(layers)
        for key in ("testovo halt", "testovo", "elisabethpol junction", "steppe test railway",
                    "ganja", "derbent"):
            assert sorted({(p.name, p.feature_code, p.layer_id, round(p.lat, 4), round(p.lon, 4)) for p in
                           (added.entries[i] for i in added.names.get(key, ()) + added.alt_names.get(key, ()))}) == \
                sorted({(p.name, p.feature_code, p.layer_id, round(p.lat, 4), round(p.lon, 4)) for p in
                        (whole.entries[i] for i in whole.names.get(key, ()) + whole.alt_names.get(key, ()))}), key
    finally:
        gazetteer._load_folder.cache_clear()
