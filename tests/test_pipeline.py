"""End to end: an article in, four maps and their GeoJSON out.

Two articles: the example in examples/ built offline from the bundled snapshot (as
the README's first command does on a fresh machine), and the source article in
../shared built from the local extract (skipped when ../shared is absent).
"""

from __future__ import annotations

import json

import pytest

from geo import cli
from geo.geodesy import geodesic_distance_km
from tests.pages import page_strings
from geo.core.place import is_area

MAPS = ("bam", "north-south", "ru-az-border", "index")


#: What each article's maps must show: places named, Komsomolsk's mention count and marked text, BAM mentions.
EXPECT = {
    "example": {"places": ("Moscow", "Baku", "Azerbaijan", "Iran", "Komsomolsk-on-Amur", "Persian Gulf", "Derbent"),
                "komsomolsk": (1, "Komsomolsk-on-Amur"), "bam_mentions": 2},
    "source": {"places": ("Moscow", "Baku", "Azerbaijan", "Iran", "Armenia", "Komsomolsk-on-Amur", "Persian Gulf"),
               "komsomolsk": (2, "Komsomolsk-on-Amur"), "bam_mentions": 5},
}


@pytest.fixture(scope="module", params=sorted(EXPECT))
def built(request, tmp_path_factory, example_article):
    """(output folder, expectations) for each article."""
    out = tmp_path_factory.mktemp("maps")
    if request.param == "example":
        args = [str(example_article), "--offline"]
    else:
        args = [str(request.getfixturevalue("article_path")), "--osm-dir", str(request.getfixturevalue("osm_dir"))]
    assert cli.main(["build", *args, "--out", str(out)]) == 0
    return out, EXPECT[request.param]


def _features(out, name):
    return json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))["features"]


def _mentions(out, name):
    return {f["properties"]["name"]: f for f in _features(out, name) if f["properties"]["kind"] == "mention"}


@pytest.mark.parametrize("name", MAPS)
def test_each_map_has_its_files_attribution_and_legend(built, name):
    built, _ = built
    page = (built / f"{name}.html").read_text(encoding="utf-8")
    for needle in ("OpenStreetMap contributors", "GeoNames", "Natural Earth", "cm-legend", "L.control.layers"):
        assert needle in page, needle
    assert _features(built, name)


def test_index_has_all_layers_and_the_articles_places(built):
    built, expect = built
    features = _features(built, "index")
    layers = {f["properties"]["layer"] for f in features}
    # the layers the article names (BAM, North-South corridor, Trans-Siberian) and the border it speaks of
    assert layers == {"bam", "north-south", "ru-az-border", "trans-siberian", "mentions"}
    mentions = _mentions(built, "index")
    for name in expect["places"]:
        assert name in mentions, name
    page = (built / "index.html").read_text(encoding="utf-8")
    # countries, regions and seas are listed, not pinned (geo.core.place.is_area)
    pinned = [m for m in mentions.values()
              if not is_area(m["properties"]["feature_class"], m["properties"].get("feature_code") or "")]
    assert page.count("cm-marker cm-mention") == len(pinned)
    # named infrastructure is listed in the legend, not pinned to a made-up point
    assert "Baikal-Amur Mainline (BAM)" in page


def test_places_are_where_they_should_be(built):
    built, _ = built
    mentions = _mentions(built, "index")
    expected = {"Moscow": (37.62, 55.75, 10), "Baku": (49.89, 40.38, 10), "Komsomolsk-on-Amur": (137.01, 50.55, 10),
                "Azerbaijan": (47.5, 40.5, 50), "Iran": (53.0, 32.0, 50)}
    for name, (lon, lat, km) in expected.items():
        got = mentions[name]["geometry"]["coordinates"]
        assert geodesic_distance_km(lon, lat, got[0], got[1]) < km, name


def test_map_shows_only_places_in_its_extent(built):
    built, _ = built
    bam = _mentions(built, "bam")
    assert "Komsomolsk-on-Amur" in bam and "Baku" not in bam
    ns = _mentions(built, "north-south")
    assert {"Baku", "Moscow", "Iran"} <= set(ns) and "Komsomolsk-on-Amur" not in ns


def test_popups_quote_the_sentences_with_count_and_relation(built):
    built, expect = built
    count, marked = expect["komsomolsk"]
    komsomolsk = _mentions(built, "bam")["Komsomolsk-on-Amur"]["properties"]
    assert komsomolsk["count"] == count
    assert all(marked in q[0][q[1]:q[2]] for q in komsomolsk["quotes"])
    assert komsomolsk["nearest_layer"] == "bam" and komsomolsk["distance_km"] < 15
    baku = _mentions(built, "north-south")["Baku"]["properties"]
    assert "on the North–South" in baku["relation"]  # "a station on the ...": Baku is one of its stations
    page = (built / "bam.html").read_text(encoding="utf-8")
    assert f"<mark>{marked}</mark>" in page_strings(page)


def test_named_infrastructure_is_linked_to_its_layer(built):
    built, expect = built
    mentions = _mentions(built, "index")
    assert mentions["Baikal-Amur Mainline (BAM)"]["properties"]["infra_layer"] == "bam"
    assert mentions["Baikal-Amur Mainline (BAM)"]["properties"]["count"] >= expect["bam_mentions"]


def test_article_without_places_still_builds_and_says_so(tmp_path, osm_dir, capsys):
    article = tmp_path / "plain.txt"
    article.write_text("The committee met on Tuesday and agreed to meet again next week.", encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["build", str(article), "--layer", "ru-az-border", "--osm-dir", str(osm_dir), "--out", str(out)]) == 0
    assert "no places found" in capsys.readouterr().out
    assert "No places found in the article." in (out / "ru-az-border.html").read_text(encoding="utf-8")
