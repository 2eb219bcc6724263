"""The article picks the map: each corridor's own article gets its map, and nothing is lost silently.

The articles are short news-style texts written for these tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import settings
from geo.cli import main
from geo.pipeline import build

ARTICLES = {
    "middle-corridor": (
        "Kazakhstan and Azerbaijan agreed on Monday to double container traffic on the Middle Corridor. Trains from "
        "Khorgos and Almaty will reach the Caspian ports of Aktau and Kuryk, cross by ferry to Alat near Baku, and "
        "continue through Tbilisi to Kars in Turkey, officials said."),
    "trans-siberian": (
        "Russian Railways said freight on the Trans-Siberian Railway rose in May. Trains from Vladivostok and "
        "Khabarovsk to Novosibirsk and Yekaterinburg were delayed by track work near Chita and Irkutsk."),
    "baku-tbilisi-kars": (
        "The Baku-Tbilisi-Kars railway carried a record tonnage last year. Wagons change bogies at Akhalkalaki before "
        "the line enters Turkey, while Azerbaijan upgraded the track between Ganja and the Georgian capital Tbilisi."),
    "instc-east": (
        "Kazakh grain reached Iran through Turkmenistan on the Kazakhstan-Turkmenistan-Iran railway. The trains left "
        "Zhanaozen, passed Bereket and Etrek, and were unloaded at Gorgan before the Gulf port of Bandar Abbas."),
    "ru-cn-crossings": (
        "Chinese and Russian customs said rail freight through Zabaikalsk and Manzhouli rose by a tenth, while the "
        "Nizhneleninskoye-Tongjiang bridge and the Grodekovo-Suifenhe crossing handled more coal. A road bridge "
        "links Blagoveshchensk with Heihe across the Amur."),
}


@pytest.mark.parametrize("layer_id", sorted(ARTICLES))
def test_an_article_about_a_corridor_gets_its_map_and_not_the_bam(tmp_path, layer_id):
    article = tmp_path / f"{layer_id}.txt"
    article.write_text(ARTICLES[layer_id], encoding="utf-8")
    report = build(article, tmp_path / "out", offline=True)
    assert layer_id in report.chosen, report.chosen
    assert "bam" not in report.chosen
    assert (tmp_path / "out" / f"{layer_id}.html").is_file()
    assert not (tmp_path / "out" / "bam.html").exists()


def test_layer_flags_still_choose_by_hand(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLES["middle-corridor"], encoding="utf-8")
    report = build(article, tmp_path / "one", offline=True, layer_ids=["bam"])
    assert list(report.chosen) == ["bam"]
    report = build(article, tmp_path / "all", offline=True, all_layers=True)
    assert {"bam", "north-south", "middle-corridor", "ru-cn-crossings"} <= set(report.chosen)


def test_layer_file_outside_layers_is_built(tmp_path):
    source = Path(settings.layers_dir) / "baku-tbilisi-kars.toml"
    custom = tmp_path / "my-btk.toml"
    custom.write_text(source.read_text(encoding="utf-8").replace('id = "baku-tbilisi-kars"', 'id = "my-btk"'),
                      encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text(ARTICLES["trans-siberian"], encoding="utf-8")
    report = build(article, tmp_path / "out", offline=True, layer_files=[custom])
    assert report.chosen["my-btk"] == "given with --layer-file"
    assert (tmp_path / "out" / "my-btk.html").is_file()


def test_every_mention_is_drawn_or_listed_with_a_reason(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(
        "The Middle Corridor links Aktau with Baku and Tbilisi, and Kazakhstan hopes to reach Beijing. Officials in "
        "Zorgovania and Azerbaijan said the Amur-Yakutsk Mainline was not part of the plan.", encoding="utf-8")
    code = main(["build", str(article), "--out", str(tmp_path / "out"), "--offline"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Kazakhstan" not in out  # named on the map, not listed as missing
    assert "Amur-Yakutsk Mainline" in err and "offline" in err  # a railway with no layer, offline
    html = (tmp_path / "out" / "middle-corridor.html").read_text(encoding="utf-8")
    assert "not drawn as a point" in html
    assert "Amur-Yakutsk Mainline" in html
    assert "outside this map" in html and "Beijing" in html  # the legend lists it (JSON-escaped in the page)
    # countries are labels inside the part of them the map shows, which open the sentences naming them
    assert "cm-area-country cm-area-kazakhstan" in html and "cm-area-country cm-area-azerbaijan" in html
    assert "Officials in" in html


def test_named_railway_without_a_layer_is_fetched_by_name_online(tmp_path, monkeypatch):
    from geo.osm import fetch

    asked = []

    def fake_request(query, urls=()):
        asked.append(query)
        return {"osm3s": {"timestamp_osm_base": "2024-05-01T00:00:00Z"}, "elements": [
            {"type": "relation", "id": 42, "tags": {"name": "Амуро-Якутская магистраль", "route": "railway"}},
            {"type": "way", "id": 1, "tags": {"railway": "rail"},
             "geometry": [{"lat": 55.0, "lon": 124.7}, {"lat": 56.0, "lon": 125.0}, {"lat": 58.0, "lon": 125.4}]},
        ]}

    monkeypatch.setattr(fetch.overpass_http, "request", fake_request)
    article = tmp_path / "a.txt"
    article.write_text("Russian Railways extended the Amur-Yakutsk Mainline from Tynda towards Yakutsk on the BAM.",
                       encoding="utf-8")
    report = build(article, tmp_path / "out", layer_ids=None, snapshot_dir=None, osm_dir=None, offline=False)
    route = [k for k in report.chosen if k.startswith("route-")]
    assert route and (tmp_path / "out" / f"{route[0]}.html").is_file()
    assert any('"name:en"' in q and "Amur" in q for q in asked)
    features = (tmp_path / "out" / f"{route[0]}.geojson").read_text(encoding="utf-8")
    assert '"kind": "segment"' in features and "124.7" in features  # the relation's way, drawn


def test_a_layer_file_alias_is_found_in_the_article(tmp_path, capsys):
    """A layer given with --layer-file reaches the mention finder: its alias is named infrastructure of that
    layer, the layer is chosen because the article names it, and nothing says it has no layer."""
    source = Path(settings.layers_dir) / "baku-tbilisi-kars.toml"
    custom = tmp_path / "kaspi-link.toml"
    text = source.read_text(encoding="utf-8").replace('id = "baku-tbilisi-kars"', 'id = "kaspi-link"')
    text = text.replace('aliases = [\n', 'aliases = [\n  "Kaspi Link Railway", ')
    custom.write_text(text, encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text("Freight on the Kaspi Link Railway doubled this year, its operator said on Tuesday.",
                       encoding="utf-8")
    from geo.pipeline import resolve_mentions, text_layers

    mentions, _ = resolve_mentions(article.read_text(encoding="utf-8"), layers=text_layers([custom]))
    infra = [m for m in mentions if m.label == "INFRA"]
    assert [(m.text, m.layer_id) for m in infra] == [("Kaspi Link Railway", "kaspi-link")]
    without, _ = resolve_mentions(article.read_text(encoding="utf-8"))
    assert all(m.layer_id != "kaspi-link" for m in without)  # the folder's catalogue does not know it
    code = main(["build", str(article), "--out", str(tmp_path / "out"), "--offline", "--layer-file", str(custom)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Kaspi Link Railway" not in err  # not "names '...', which has no layer: not drawn"
    assert (tmp_path / "out" / "kaspi-link.html").is_file()
