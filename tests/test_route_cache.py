"""A built layer is cached on disk and read back while its layer file and OSM data are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo import pipeline
from geo.corridors import build as corridors, route_cache
from geo.core.layers import load_layer
from geo.osm.source import Extract, Live

REPO = Path(__file__).resolve().parents[1]


def _way(osm_id: int, coords: list[tuple[float, float]], **tags) -> dict:
    return {"type": "Feature", "properties": {"osm_id": osm_id, **tags},
            "geometry": {"type": "LineString", "coordinates": coords}}


def _write_ways(folder: Path, *ways: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rail.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(ways)}), encoding="utf-8")
    return path


# A railway crossing the Samur (the Russia-Azerbaijan border) near Yalama, and a road further west.
RAIL = _way(1, [(48.52, 41.84), (48.535, 41.76)], railway="rail", name="Samur - Yalama line")
ROAD = _way(2, [(48.44, 41.80), (48.52, 41.72)], highway="trunk", name="R-217")


@pytest.fixture
def osm(tmp_path) -> Path:
    folder = tmp_path / "osm"
    _write_ways(folder, RAIL)
    return folder


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The layers whose OSM data is read (not served from the route cache)."""
    seen: list[str] = []
    for kind in (Extract, Live):
        def spy(self, layer, *args, _real=kind.read, **kwargs):
            seen.append(layer.id)
            return _real(self, layer, *args, **kwargs)

        monkeypatch.setattr(kind, "read", spy)
    return seen


def _crossings(result) -> list[str]:
    frame = result.frame
    return sorted(frame.loc[frame["kind"] == "crossing", "name"])


def test_unchanged_inputs_read_the_layer_back(layers_dir, osm, reads):
    first = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    again = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    assert reads == ["ru-az-border"]  # the second build did not read or clip the OSM data
    assert again.frame.to_wkt().equals(first.frame.to_wkt())
    assert (again.source, again.detail) == (first.source, first.detail) == ("osm", again.detail)
    assert route_cache.cache_path(load_layer("ru-az-border")).is_file()


def test_changed_osm_data_rebuilds_the_layer(layers_dir, osm, reads):
    before = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    _write_ways(osm, RAIL, ROAD)  # a road crossing appears in the data
    after = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    assert reads == ["ru-az-border", "ru-az-border"]

    def road_ways(result) -> set[str]:
        frame = result.frame
        return set(frame.loc[(frame["kind"] == "crossing") & (frame["mode"] == "road"), "osm_ids"])

    assert "2" not in road_ways(before)
    assert "2" in road_ways(after)  # the new way now places a road crossing


def test_changed_layer_file_rebuilds_the_layer(layers_dir, osm, reads):
    corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    path = layers_dir / "ru-az-border.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('name = "Samur – Yalama"', 'name = "Yalama – Samur"'),
                    encoding="utf-8")
    after = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    assert reads == ["ru-az-border", "ru-az-border"]
    assert "Yalama – Samur" in _crossings(after) and "Samur – Yalama" not in _crossings(after)


@pytest.mark.parametrize("damage", ["flip", "truncate", "pickle"])
def test_corrupt_cache_entry_is_rebuilt(layers_dir, osm, reads, damage, tmp_path):
    first = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    path = route_cache.cache_path(load_layer("ru-az-border"))
    raw = path.read_bytes()
    marker = tmp_path / "unpickled"
    if damage == "flip":
        raw = raw[:-10] + bytes(b ^ 0xFF for b in raw[-10:])
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:  # a pickle that would create a file when loaded
        import pickle

        class Planted:
            def __reduce__(self):
                return (Path.touch, (marker,))

        raw = pickle.dumps(Planted())
    path.write_bytes(raw)
    again = corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    assert reads == ["ru-az-border", "ru-az-border"]  # rebuilt from the data, not trusted
    assert again.frame.to_wkt().equals(first.frame.to_wkt())
    assert not marker.exists()
    assert path.read_bytes() != raw  # replaced by a good entry
    corridors.build_layer(load_layer("ru-az-border"), Extract(folder=osm))
    assert len(reads) == 2


def test_schematic_layers_are_not_cached(layers_dir, reads, no_bundle):
    result = corridors.build_layer(load_layer("ru-az-border"), Live(offline=True))
    assert result.source == "schematic"  # no data to identify: nothing cached, nothing reused
    assert not route_cache.cache_path(load_layer("ru-az-border")).exists()
    corridors.build_layer(load_layer("ru-az-border"), Live(offline=True))
    assert reads == ["ru-az-border", "ru-az-border"]


def test_second_build_in_one_process_rewrites_the_same_files(layers_dir, osm, reads, tmp_path):
    first = pipeline.build(None, tmp_path / "a", osm_dir=osm, layer_ids=["ru-az-border"])
    (tmp_path / "a" / "index.html").unlink()
    again = pipeline.build(None, tmp_path / "a", osm_dir=osm, layer_ids=["ru-az-border"])
    assert reads == ["ru-az-border"]
    assert [p.name for p in again.files] == [p.name for p in first.files]
    assert (tmp_path / "a" / "index.html").is_file()  # a deleted output is written again
    elsewhere = pipeline.build(None, tmp_path / "b", osm_dir=osm, layer_ids=["ru-az-border"])
    for path in first.files:
        assert (tmp_path / "b" / path.name).read_bytes() == path.read_bytes()
    _write_ways(osm, RAIL, ROAD)
    changed = pipeline.build(None, tmp_path / "c", osm_dir=osm, layer_ids=["ru-az-border"])
    assert reads == ["ru-az-border", "ru-az-border"]
    assert (tmp_path / "c" / "index.geojson").read_bytes() != (tmp_path / "b" / "index.geojson").read_bytes()
    assert elsewhere.sources == changed.sources == {"ru-az-border": "osm"}
