"""Honest border geometry: a border map opens no closer than its line is good for, and its crossings sit on it."""

from __future__ import annotations

import math
from types import SimpleNamespace

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from geo import settings
from geo.geodesy import haversine_km
from geo.maps import border_fit, view


def test_a_line_is_as_accurate_as_its_scale_allows():
    assert border_fit.border_accuracy_m("naturalearth") == pytest.approx(1000.0)  # 0.1 mm at 1:10,000,000
    assert border_fit.border_accuracy_m("osm") == settings.osm_accuracy_m
    assert border_fit.accuracy_words(1000.0) == "about 1 km" and border_fit.accuracy_words(10.0) == "about 10 m"


@pytest.mark.parametrize("accuracy_m, lat, zoom", [
    (1000.0, 41.8, 8),    # Natural Earth 1:10m in the Caucasus: 1 km is 2.7 px at zoom 8, 5.4 px at 9
    (1000.0, 0.0, 8),     # pixels cover more ground at the equator: 1 km is 2.1 px at zoom 8
    (1000.0, 70.0, 7),    # and less in the Arctic
    (100.0, 41.8, 11),    # ten times finer data: three zoom levels closer
])
def test_the_opening_zoom_follows_the_datas_accuracy(accuracy_m, lat, zoom):
    assert border_fit.accurate_zoom(accuracy_m, lat, error_px=3.0) == zoom
    metres_per_px = 40_075_016.686 / 256 * 0.5 ** zoom * math.cos(math.radians(lat))
    assert accuracy_m / metres_per_px <= 3.0 < accuracy_m / (metres_per_px / 2)


def border_result(source: str) -> SimpleNamespace:
    line = LineString([(48.0, 41.5), (48.6, 41.9)])
    frame = gpd.GeoDataFrame({
        "kind": ["border", "crossing", "crossing"], "name": ["A–B border", "Near", "Far"],
        "source": [source, "layer file", "layer file"],
    }, geometry=[line, Point(48.3, 41.72), Point(48.2, 42.2)], crs=4326)
    return SimpleNamespace(layer=SimpleNamespace(kind="border", id="ab", countries=["RU", "AZ"]), frame=frame)


def test_a_border_map_opens_no_closer_than_its_border_data_is_good_for():
    assert view.opening_view([border_result("naturalearth")]).max_zoom == 8
    assert view.opening_view([border_result("osm")]).max_zoom == settings.border_open_zoom  # OSM: the usual cap


def test_crossings_near_the_drawn_border_are_drawn_on_it():
    frame = border_result("naturalearth").frame
    moved = border_fit.snap_crossings(frame, max_km=5.0)
    near, far = moved.iloc[1], moved.iloc[2]
    line = frame.geometry.iloc[0]
    assert line.distance(near.geometry) < 1e-9  # on the line
    assert (near.true_lon, near.true_lat) == (48.3, 41.72)  # the true position kept for the popup
    assert haversine_km(near.geometry.y, near.geometry.x, 41.72, 48.3) < 5.0
    assert far.geometry.equals(Point(48.2, 42.2)) and far.true_lat != far.true_lat  # too far: left where it is
    assert frame.geometry.iloc[1].equals(Point(48.3, 41.72))  # the layer's own frame is untouched
