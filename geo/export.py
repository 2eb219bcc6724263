"""Export: the features of built layers and the article's places as GeoJSON (for QGIS or a newsroom's map stack)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from . import settings
from .maps.bounds import layer_bounds, places_in

if TYPE_CHECKING:
    from .corridors.build import LayerResult


def layer_features(result: LayerResult, place_rows: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """A layer's features plus the article's places within its extent, for GeoJSON export."""
    frames = [result.frame]
    if place_rows is not None and len(place_rows):
        frames.append(places_in(place_rows, layer_bounds([result])))
    return concat(frames)


def concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Concatenate feature frames (empty ones dropped) into one EPSG:4326 frame."""
    frames = [f for f in frames if len(f)]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)


def to_geojson(frame: gpd.GeoDataFrame) -> str:
    """Serialise features as a GeoJSON FeatureCollection with attribution.

    List-valued columns (quotes, texts) are kept as JSON arrays; missing values become null.
    """
    props_cols = [c for c in frame.columns if c != "geometry"]
    geometries = shapely.to_geojson(frame.geometry.values)  # in C: most of a layer's bytes are coordinates
    features = []
    for row, geom in zip(frame.itertuples(index=False), geometries):
        props = {}
        for col in props_cols:
            value = _jsonable(getattr(row, col))
            if value is not None:
                props[col] = value
        head = json.dumps({"type": "Feature", "properties": props}, ensure_ascii=False)
        features.append(f'{head[:-1]}, "geometry": {"null" if geom is None else geom}}}')
    head = json.dumps({"type": "FeatureCollection", "attribution": settings.ATTRIBUTION_TEXT}, ensure_ascii=False)
    return f'{head[:-1]}, "features": [{", ".join(features)}]}}'


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if pd.isna(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value
