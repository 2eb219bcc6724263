"""The atlas: mentions per place, corridor segment and month; the map (time slider, escaping, attribution); files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

import geo
from geo import files
from geo.cli import main
from geo.maps.page import render_html
from geo.archive.parse import toponym_frame, toponym_row
from geo.archive.shards import Document

HOSTILE = "<img src=x onerror=alert(1)> `${document.cookie}`"
PLACES = {  # name: (geonames id, country, lon, lat)
    "Baku": (587084, "AZ", 49.89201, 40.37767),
    "Derbent": (563523, "RU", 48.28878, 42.0578),
    "Paris": (2988507, "FR", 2.3488, 48.85341),
}


def _toponyms(dated: bool = True) -> gpd.GeoDataFrame:
    docs = [  # (id, date, title, names mentioned)
        ("a", "2024-01-10", "Rail link to Baku opens", ["Baku", "Baku", "Derbent"]),
        ("b", "2024-02-03", HOSTILE, ["Baku", "Paris"]),
        ("c", "2024-02-20", None, ["Paris", "Unresolved"]),
    ]
    rows = []
    for doc_id, date, title, names in docs:
        doc = Document(1, doc_id, "", date=pd.Timestamp(date) if dated else None, title=title)
        for k, name in enumerate(names):
            gid, country, lon, lat = PLACES.get(name, (None, "", None, None))
            record = {"start": 10 * k, "end": 10 * k + len(name), "name": name, "lat": lat, "lon": lon,
                      "geonames_id": gid, "country": country, "feature_class": "P" if gid else "", "score": 0.9}
            rows.append(toponym_row(doc, record, name if gid else None))
    return toponym_frame(rows)


@pytest.fixture(scope="module")
def dated_atlas(tmp_path_factory):
    return geo.atlas(_toponyms(), tmp_path_factory.mktemp("atlas"))


def test_mentions_per_place_and_month(dated_atlas):
    places = dated_atlas.places.set_index("place")
    assert places.loc["Baku", ["mentions", "documents"]].tolist() == [3, 2]
    assert places.loc["Paris", ["mentions", "documents"]].tolist() == [2, 2]
    assert "Unresolved" not in places.index  # no point, not on the map
    assert places.loc["Baku", "headlines"] == ["Rail link to Baku opens", HOSTILE]  # most mentions first
    assert places.loc["Paris", "headlines"] == ["c", HOSTILE]  # latest first among equals; no title: the id
    months = dated_atlas.place_months
    baku = months[months["place"] == "Baku"].set_index("month")["mentions"]
    assert baku.to_dict() == {pd.Timestamp("2024-01-01"): 2, pd.Timestamp("2024-02-01"): 1}


def test_mentions_per_corridor_segment(dated_atlas):
    links = dated_atlas.corridor_places.merge(dated_atlas.places[["key", "place"]], on="key")
    ns = links[links["layer"] == "north-south"]
    assert set(ns["place"]) == {"Baku", "Derbent"}
    assert "Paris" not in set(links["place"])
    segments = dated_atlas.segments
    north_south = segments[segments["layer"] == "north-south"]
    assert north_south["mentions"].sum() == 4 and (north_south["mentions"] == 0).any()
    assert set(segments["layer"]) == {layer.id for layer in geo.list_layers()}
    seg_months = dated_atlas.segment_months
    assert seg_months[seg_months["layer"] == "north-south"].groupby("month")["mentions"].sum().tolist() == [3, 1]


def test_atlas_map_has_time_slider_escaped_popups_and_attribution(dated_atlas):
    html = (dated_atlas.files[0]).read_text(encoding="utf-8")
    assert "timeDimension" in html and '"2024-02-01"' in html  # the month slider
    assert "<img src=x" not in html and "document.cookie}`" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "OpenStreetMap contributors" in html and "GeoNames" in html and "Natural Earth" in html
    assert "mentions of places within 50 km" in html  # the corridor colour scale


def test_aggregates_written_as_csv_and_parquet(dated_atlas):
    folder = dated_atlas.files[0].parent
    names = {p.name for p in dated_atlas.files}
    for table in ("places", "place_months", "segments", "segment_months", "corridor_places"):
        assert {f"{table}.csv", f"{table}.parquet"} <= names
    csv = pd.read_csv(folder / "places.csv").set_index("place")
    assert csv.loc["Baku", "mentions"] == 3 and csv.loc["Baku", "lat"] == pytest.approx(40.37767)
    assert csv.loc["Baku", "headlines"] == f"Rail link to Baku opens | {HOSTILE}"
    segments = gpd.read_parquet(folder / "segments.parquet")
    assert (segments.geom_type.isin(["LineString", "MultiLineString"])).all()
    assert segments["mentions"].sum() == dated_atlas.segments["mentions"].sum()


def test_undated_archive_has_no_slider(tmp_path):
    result = geo.atlas(_toponyms(dated=False), layer_ids=["north-south"])
    assert result.place_months.empty and result.segment_months.empty and not result.files
    html = render_html(result.map)
    assert "timeDimension" not in html and "Places named (all time)" in html


def test_cli_atlas_reads_the_parts_folder(tmp_path, capsys):
    files.write_parquet(tmp_path / "parts" / "toponyms" / "shard-0.parquet", _toponyms())
    code = main(["atlas", str(tmp_path / "parts"), "--out", str(tmp_path / "atlas"), "--layer", "north-south"])
    out = capsys.readouterr().out
    assert code == 0
    assert "6 mentions of 3 places over 2 months" in out and "atlas.html" in out
    assert main(["atlas", str(tmp_path / "atlas"), "--out", str(tmp_path / "x")]) == 2  # aggregates, not parts
    assert "is not a toponyms part" in capsys.readouterr().err
    assert main(["atlas", str(tmp_path / "x"), "--out", str(tmp_path / "x")]) == 2
    assert "no toponym parts" in capsys.readouterr().err
