"""Where a layer's data came from, as a typed record: dates compared as dates, never parsed from prose."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from geo.errors import InputError
from geo.osm.provenance import DataDate, Provenance, overpass_provenance
from geo.osm.source import Extract, Live, Snapshot, data_source


def test_dates_keep_their_precision():
    assert DataDate.parse("2026-04").text == "2026-04"
    assert DataDate.parse("2026-04-09").text == "2026-04-09"
    assert DataDate.parse("2025-06-01T12:00:00Z").when == datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
    assert DataDate.parse(None) is None and DataDate.parse("unknown") is None
    with pytest.raises(ValueError):
        DataDate.parse("last spring")


def test_newer_compares_to_the_day_at_the_coarser_precision():
    month = Provenance("snapshot", "bundled", DataDate.parse("2026-04"))
    same_month = Provenance("cache", "live", DataDate.parse("2026-04-20T08:00:00Z"))
    earlier = Provenance("cache", "live", DataDate.parse("2026-03-31T23:00:00Z"))
    same_day = Provenance("cache", "live", DataDate.parse("2026-04-20T01:00:00Z"))
    undated = Provenance("cache", "live")
    assert same_month.newer_than(month) and not earlier.newer_than(month)
    assert month.newer_than(same_month), "a month is as recent as any day in it"
    assert same_day.newer_than(same_month), "within one day the hour does not count"
    assert not undated.newer_than(month) and earlier.newer_than(undated)


def test_live_data_is_dated_by_its_oldest_answer_and_the_detail_says_so():
    got = overpass_provenance(["2026-05-02T00:00:00Z", "", "2026-05-01T06:00:00Z"], "1 way",
                              fetched=datetime(2026, 5, 3, tzinfo=timezone.utc))
    assert got.data_date == DataDate.parse("2026-05-01T06:00:00Z") and got.fetched == date(2026, 5, 3)
    assert got.detail == "OpenStreetMap via Overpass, data as of 2026-05-01T06:00:00Z, fetched 2026-05-03; 1 way"
    assert overpass_provenance([]).data_date is None


def test_a_stated_date_is_added_only_to_undated_data():
    extract = Provenance("osm", "local OSM extract x (2 files)").dated(DataDate.parse("2026-04"))
    assert extract.detail == "OSM data as of 2026-04, local OSM extract x (2 files)"
    assert extract.data_date == DataDate.parse("2026-04")
    live = overpass_provenance(["2026-05-01T06:00:00Z"])
    assert live.dated(DataDate.parse("2020-01")) == live


def test_the_options_make_one_source(tmp_path):
    assert data_source(tmp_path) == Extract(folder=tmp_path)
    assert data_source(None, tmp_path, refresh=True) == Snapshot(refresh=True, folder=tmp_path)
    live = data_source(offline=True, endpoints="https://a.example/api/,https://b.example/api")
    assert live == Live(endpoints=("https://a.example/api", "https://b.example/api"), offline=True)
    assert not live.live and Live().live and live.without_network() == live
    assert Live().without_network() == Live(offline=True)
    with pytest.raises(InputError, match="both given"):
        data_source(tmp_path, tmp_path)
    with pytest.raises(InputError, match="not an http"):
        data_source(endpoints=["overpass-api.de"])
