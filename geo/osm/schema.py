"""The shape of OSM data in corridormap: columns, Overpass tag selectors, and frame helpers.

Every source (local extract, Overpass, cache, snapshot) yields two GeoDataFrames,
lines and points, in EPSG:4326 with exactly :data:`COLUMNS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.selectors import parse_filter

if TYPE_CHECKING:  # imported where frames are made: reading a layer file's selectors needs no pandas
    import geopandas as gpd

#: The columns every reader returns (local files, Overpass, cache, snapshot), in order.
COLUMNS = ["osm_id", "name", "railway", "usage", "highway", "barrier", "boundary", "file", "geometry"]


def empty_frame() -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with :data:`COLUMNS` in EPSG:4326."""
    import geopandas as gpd

    return gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry="geometry", crs=4326)


def frame_from_rows(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """A frame with :data:`COLUMNS` from row dicts (missing keys None)."""
    import geopandas as gpd

    if not rows:
        return empty_frame()
    return gpd.GeoDataFrame(rows, columns=COLUMNS, geometry="geometry", crs=4326)


def concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Concatenate frames (empty ones dropped) into one EPSG:4326 frame."""
    import geopandas as gpd
    import pandas as pd

    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame()
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)


def normalise(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Exactly :data:`COLUMNS` in order (missing ones None), EPSG:4326, a fresh 0..n index."""
    import geopandas as gpd
    import pandas as pd

    frame = frame.copy()
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame = gpd.GeoDataFrame(frame[COLUMNS], geometry="geometry", crs=frame.crs or 4326).reset_index(drop=True)
    if frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    for col in COLUMNS[:-1]:
        values = frame[col].astype(object)
        frame[col] = values.where(pd.notna(values), None)
    return frame


def _regex_test(rx: re.Pattern[str]) -> Callable[[Any], bool]:
    """A test that a cell is a string ``rx`` finds something in."""
    return lambda v: isinstance(v, str) and rx.search(v) is not None


def apply_filter(frame: gpd.GeoDataFrame, selector: str) -> gpd.GeoDataFrame:
    """Keep the rows that match an Overpass tag selector.

    A key the data has no column for is not tested: pre-traced routes (which
    carry no tags) pass through, and rows of files that lack the tag pass too.
    """
    import pandas as pd

    mask = pd.Series(True, index=frame.index)
    for key, op, value in parse_filter(selector):
        if key not in frame.columns:
            continue
        col = frame[key]
        has = col.notna()
        if op is None:
            cond = has
        elif op == "=":
            cond = col == value
        elif op == "!=":
            cond = col != value
        else:
            cond = col.map(_regex_test(re.compile(value or "")))  # op "~" always carries a value
        # rows of files that carry no such tag at all are kept
        untagged = frame.groupby("file")[key].transform(lambda s: s.isna().all()) if "file" in frame else False
        mask &= cond.fillna(False) | untagged
    return frame[mask]
