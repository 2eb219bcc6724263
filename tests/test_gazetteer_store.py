"""The gazetteer's disk cache: a checked data file that loads fast and is never unpickled."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from geo import cachefile, geonames
from geo.text import gazetteer
from geo.text import gazetteer_store as store
from geo.core.place import Place

PLACES = [
    Place("Moscow", "RU", 55.75204, 37.61781, 524901, "P", "PPLC", 10381222, "RU.48", "Москва"),
    Place("Baku", "AZ", 40.37767, 49.89201, 587084, "P", "PPLC", 1116513, "AZ.09"),
    Place("Russia", "RU", 60.0, 100.0, 2017370, "A", "PCLI", 140702000),
    Place("Moscow", "US", 46.73239, -117.00017, 5601538, "P", "PPL", 25060, "US.ID"),
    Place("North–South corridor", "", 45.0, 45.0, None, "INFRA", "INFRA", layer_id="north-south"),
]


def small_gazetteer(layers=None) -> gazetteer.Gazetteer:
    names = {"moscow": (0, 3), "baku": (1,), "russia": (2,), "north south corridor": (4,), "москва": (0,)}
    return gazetteer.Gazetteer(store.Entries.from_places(PLACES), store.NameIndex.from_dict(names),
                               store.NameIndex.from_dict({"moskva": (0,), "baky": (1,)}),
                               {"russian": 2}, {"RU": 2}, {"RU.48": 0}, frozenset({"ga"}))


class Planted:
    """Unpickling this creates the file ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_saved_gazetteer_reads_back_the_same(tmp_path):
    path = tmp_path / "gazetteer-k.bin"
    store.write(path, "k", small_gazetteer())
    gaz = store.read(path, "k")
    assert list(gaz.entries) == PLACES
    assert gaz.entries[-1].geonames_id is None and gaz.entries[0].local_name == "Москва"
    assert gaz.names["moscow"] == (0, 3) and gaz.names.get("москва") == (0,) and "paris" not in gaz.names
    assert dict(gaz.alt_names.items()) == {"moskva": (0,), "baky": (1,)}
    assert (gaz.demonyms, gaz.countries, gaz.admin1, gaz.dotted) == ({"russian": 2}, {"RU": 2}, {"RU.48": 0},
                                                                     frozenset({"ga"}))
    assert {i: sorted(keys) for i, keys in gaz.names.keys_for([0, 1]).items()} == {0: ["moscow", "москва"],
                                                                                    1: ["baku"]}
    assert gaz.entries.where("layer_id", "north-south") == [4]
    assert gaz.entries.where("geonames_id", 587084) == [1]
    # the first entry of the highest score per name (here: population)
    best = {key: i for key, i, _ in gaz.names.best(gaz.entries.column("population"))}
    assert best["moscow"] == 0 and best["baku"] == 1 and "north south corridor" not in best


def test_planted_pickle_is_never_loaded(tmp_path, monkeypatch):
    marker = tmp_path / "unpickled"
    path = gazetteer.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(Planted(marker)))
    path.with_suffix(".pkl").write_bytes(pickle.dumps(Planted(marker)))  # the old cache's name
    monkeypatch.setattr(gazetteer, "build", small_gazetteer)
    monkeypatch.setattr(gazetteer, "shipped_file", lambda: tmp_path / "none.npz.zst")  # built, not the shipped one
    gaz = gazetteer._load_folder.__wrapped__()  # the loader itself, past the per-process memo
    assert not marker.exists()
    assert gaz.names["baku"] == (1,)
    assert store.read(path, path.stem.split("-", 1)[1]).names["baku"] == (1,)  # replaced by a good file


@pytest.mark.parametrize("damage", ["flip", "truncate", "other format"])
def test_damaged_gazetteer_file_is_rebuilt(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(gazetteer, "build", small_gazetteer)
    monkeypatch.setattr(gazetteer, "shipped_file", lambda: tmp_path / "none.npz.zst")  # built, not the shipped one
    path = gazetteer.cache_file()
    store.write(path, path.stem.split("-", 1)[1], small_gazetteer())
    raw = path.read_bytes()
    if damage == "flip":
        raw = raw[:-100] + bytes(b ^ 0x55 for b in raw[-100:])
    elif damage == "truncate":
        raw = raw[:-1]
    else:
        raw = raw.replace(store.FORMAT.encode(), b"corridormap-gazetteer/0", 1)
    path.write_bytes(raw)
    built = []
    monkeypatch.setattr(gazetteer, "build", lambda layers=None: built.append(1) or small_gazetteer())
    assert gazetteer._load_folder.__wrapped__().names["moscow"] == (0, 3)
    assert built == [1]
    assert path.read_bytes() != raw


def test_cache_files_refuse_object_arrays(tmp_path):
    with pytest.raises(TypeError):
        cachefile.write_arrays(tmp_path / "x.bin", "f", "k", {"a": np.array([object()], dtype=object)})


def test_cache_file_for_other_inputs_is_stale(tmp_path):
    path = tmp_path / "x.bin"
    cachefile.write_arrays(path, "f", "k1", {"a": np.arange(5)})
    assert cachefile.read_arrays(path, "f", "k1")[0]["a"].tolist() == [0, 1, 2, 3, 4]
    assert cachefile.read_arrays(path, "f", "k2") is None
    assert not path.exists()


def test_station_points_come_from_the_compact_geonames_index():
    by_id = {int(c["geonameid"]): c for c in geonames.cities()}
    for gid in (524901, 587084, 2013159):  # Moscow, Baku, Tynda
        lon, lat = geonames.city_point(gid)
        assert (lon, lat) == (float(by_id[gid]["longitude"]), float(by_id[gid]["latitude"]))
    assert geonames.city_point(1) is None and geonames.city_point(None) is None
