"""Layer files: reading, validation errors a person can act on, and adding a corridor by file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.core import layers
from geo import settings
from geo.errors import LayerError
from tests.conftest import need_shared

REPO_LAYERS = Path(__file__).resolve().parents[1] / "layers"


def test_the_shipped_layers_are_defined():
    found = {layer.id: layer for layer in layers.list_layers(REPO_LAYERS)}
    assert set(found) == {"bam", "north-south", "ru-az-border", "trans-siberian", "middle-corridor", "baku-tbilisi-kars",
                          "instc-east", "ru-cn-crossings"}
    mc = [s.name for s in found["middle-corridor"].stations]
    assert mc.index("Khorgos") < mc.index("Aktau") < mc.index("Baku") < mc.index("Tbilisi") < mc.index("Kars")
    assert found["middle-corridor"].segment("Kuryk", "Baku").status == "ferry"
    assert {c.name for c in found["ru-cn-crossings"].crossings} == {
        "Zabaikalsk – Manzhouli", "Grodekovo – Suifenhe", "Nizhneleninskoye – Tongjiang", "Blagoveshchensk – Heihe"}
    bam = [s.name for s in found["bam"].stations]
    assert bam[0] == "Tayshet" and bam[-1] == "Sovetskaya Gavan"
    assert bam.index("Ust-Kut") < bam.index("Severobaykalsk") < bam.index("Tynda") < bam.index("Komsomolsk-on-Amur")
    ns = [s.name for s in found["north-south"].stations]
    assert ns == ["Moscow", "Astrakhan", "Makhachkala", "Derbent", "Samur", "Yalama", "Khachmaz", "Baku", "Alat",
                  "Astara", "Rasht", "Qazvin", "Tehran", "Bandar Abbas"]
    assert found["north-south"].segment("Astara", "Rasht").status == "construction"
    modes = {c.name: c.mode for c in found["ru-az-border"].crossings}
    assert modes["Samur – Yalama"] == "rail" and modes["Yarag-Kazmalyar – Samur"] == "road"


def test_unknown_layer_lists_known_ids():
    with pytest.raises(LayerError, match=r"unknown layer 'trans-sib'.*bam, .*north-south, ru-az-border"):
        layers.load_layer("trans-sib", REPO_LAYERS)


def _copy_layers(tmp_path: Path) -> Path:
    folder = tmp_path / "layers"
    shutil.copytree(REPO_LAYERS, folder)
    return folder


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('title = "Baikal-Amur Mainline (BAM)"\n', ""), r"bam\.toml: missing key 'title'"),
        (lambda t: t.replace("weight = 4", 'weight = "thick"'), r"bam\.toml: key 'style\.weight' must be a whole number"),
        (lambda t: t.replace('[style]', '[style\n'), r"bam\.toml: not valid TOML .*line"),
        (lambda t: t.replace('role = "terminus"', 'role = "depot"', 1), r"stations\[0\]\.role' is 'depot': use one of"),
        (lambda t: t.replace("geonames_id = 1489870\n", ""), r"stations\[0\] \(Tayshet\) needs 'geonames_id' or both 'lat' and 'lon'"),
        (lambda t: t + '\n[[segments]]\nfrom = "Tayshet"\nto = "Atlantis"\n', r"segments\[0\]\.to names unknown station 'Atlantis'"),
    ],
    ids=["missing-key", "wrong-type", "bad-toml", "bad-choice", "no-position", "unknown-station"],
)
def test_malformed_layer_file_names_file_key_and_fix(tmp_path, edit, message):
    folder = _copy_layers(tmp_path)
    path = folder / "bam.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LayerError, match=message):
        layers.load_layer("bam", folder)


TRANS_SIB = '''
id = "trans-siberian"
kind = "corridor"
title = "Trans-Siberian Railway"
aliases = ["Trans-Siberian", "Transsib"]

[style]
color = "#1b7837"

[osm]
way_filter = '["railway"="rail"]["usage"="main"]'
clip_buffer_km = 150

[[stations]]
name = "Novosibirsk"
geonames_id = 1496747
country = "RU"

[[stations]]
name = "Krasnoyarsk"
geonames_id = 1502026
country = "RU"

[[stations]]
name = "Irkutsk"
geonames_id = 2023469
country = "RU"
'''


def test_a_fourth_corridor_needs_only_a_layer_file(tmp_path, monkeypatch):
    """Adding the Trans-Siberian is one new TOML file: it is listed, routed over OSM data and mapped."""
    from geo import cli

    folder = _copy_layers(tmp_path)
    (folder / "trans-siberian.toml").write_text(TRANS_SIB, encoding="utf-8")
    monkeypatch.setattr(settings, "layers_dir", folder)
    assert "Trans-Siberian" in layers.infrastructure_aliases()
    extract = need_shared("osm")  # the Trans-Siberian is in the full extract, not in the bundled snapshot
    out = tmp_path / "out"
    code = cli.main(["build", "--layer", "trans-siberian", "--osm-dir", str(extract), "--out", str(out), "--tiles", "none"])
    assert code == 0
    import json

    features = json.loads((out / "trans-siberian.geojson").read_text(encoding="utf-8"))["features"]
    segments = [f for f in features if f["properties"]["kind"] == "segment"]
    assert [s["properties"]["source"] for s in segments] == ["osm", "osm"]
    # Novosibirsk - Krasnoyarsk - Irkutsk by rail is about 1,900 km
    total = sum(s["properties"]["length_km"] for s in segments)
    assert 1750 < total < 2050
    assert "Trans-Siberian Railway" in (out / "trans-siberian.html").read_text(encoding="utf-8")


def test_station_the_gazetteer_does_not_know(tmp_path, monkeypatch, capsys):
    from geo import cli

    folder = _copy_layers(tmp_path)
    path = folder / "bam.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("geonames_id = 2014718", "geonames_id = 999999999"),
                    encoding="utf-8")
    monkeypatch.setattr(settings, "layers_dir", folder)
    assert cli.main(["build", "--layer", "bam", "--offline", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bam.toml: station 'Tynda': GeoNames id 999999999 is not in the gazetteer" in err
    assert "give 'lat' and 'lon'" in err


def test_a_second_border_is_described_by_its_own_countries(tmp_path, monkeypatch):
    """Crossings name each side by the layer's own ISO codes, so any border (here Russia-China) is a layer file."""
    border = """
id = "ru-cn-border"
kind = "border"
title = "Russia–China border"
countries = ["RU", "CN"]
[style]
color = "#333333"
[[crossings]]
name = "Zabaikalsk – Manzhouli"
names = { RU = "Забайкальск", CN = "满洲里" }
mode = "rail"
lat = 49.63
lon = 117.36
"""
    path = tmp_path / "ru-cn-border.toml"
    path.write_text(border, encoding="utf-8")
    layer = layers.read_layer(path)
    crossing = layer.crossings[0]
    assert crossing.names == (("RU", "Забайкальск"), ("CN", "满洲里"))
    from geo.geonames import country_name

    assert crossing.side_names(country_name) == "Russia: Забайкальск; China: 满洲里"
    path.write_text(border.replace('CN = "满洲里"', 'AZ = "Yalama"'), encoding="utf-8")
    with pytest.raises(LayerError, match=r"crossings\[0\]\.names has key 'AZ', which is not one of the layer's countries \(RU, CN\)"):
        layers.read_layer(path)


def test_user_layer_files_are_read_beside_the_shipped_ones(tmp_path, monkeypatch):
    """A layer file in the user's folder is listed with the shipped layers; one with a shipped id replaces it."""
    user = tmp_path / "user-layers"
    user.mkdir()
    (user / "trans-siberian-east.toml").write_text(TRANS_SIB.replace('id = "trans-siberian"', 'id = "trans-siberian-east"'),
                                                   encoding="utf-8")
    bam = (settings.layers_dir / "bam.toml").read_text(encoding="utf-8")
    (user / "bam.toml").write_text(bam.replace('title = "Baikal-Amur Mainline (BAM)"', 'title = "My BAM"'),
                                   encoding="utf-8")
    monkeypatch.setattr(settings, "user_layers_dir", user)
    ids = [layer.id for layer in layers.list_layers()]
    assert "trans-siberian-east" in ids and "north-south" in ids and ids.count("bam") == 1
    assert layers.load_layer("bam").title == "My BAM"
    monkeypatch.setattr(settings, "user_layers_dir", tmp_path / "absent")
    assert layers.load_layer("bam").title == "Baikal-Amur Mainline (BAM)"
