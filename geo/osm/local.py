"""Read local OpenStreetMap data (``--osm-dir``): GeoJSON, GeoPackage, OSM XML and PBF.

Every reader returns GeoDataFrames in EPSG:4326 with at least ``geometry``,
``osm_id``, ``name`` and the tags the layer filters use, plus ``file``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from .schema import COLUMNS, concat

# geopandas, pandas and shapely are imported by the readers: listing and fingerprinting the files of
# --osm-dir (a warm build whose pages are cached does only that) needs none of them.
if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet")
OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf")


def osm_files(osm_dir: str | Path) -> list[Path]:
    """All readable OSM data files under ``osm_dir`` (recursively), sorted.

    Raises
    ------
    DataError
        When the folder does not exist or holds no data file.
    """
    folder = Path(osm_dir)
    if not folder.is_dir():
        raise DataError(f"--osm-dir {folder} is not a folder: give the folder holding your OSM extracts")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _is_osm_file(p))
    if not files:
        raise DataError(
            f"--osm-dir {folder} holds no OSM data (.geojson, .gpkg, .parquet, .osm, .osm.pbf): check the folder"
        )
    return files


def _is_osm_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(VECTOR_SUFFIXES) or name.endswith(OSM_SUFFIXES)


@lru_cache(maxsize=64)
def _read_file(path: Path, mtime: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read one file into (lines, points) frames; cached per path and mtime."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio  # GDAL: loaded only when a file is read

    name = path.name.lower()
    try:
        if name.endswith((".osm.pbf", ".pbf")):
            frame = _read_pbf(path)
        elif name.endswith(".osm"):
            frame = _read_osm_xml(path)
        elif name.endswith(".parquet"):
            frame = gpd.read_parquet(path)
        elif name.endswith(".gpkg"):
            layers = [str(n) for n, _ in pyogrio.list_layers(path)]
            frame = pd.concat([pyogrio.read_dataframe(path, layer=n) for n in layers], ignore_index=True)
        else:
            frame = pyogrio.read_dataframe(path)
    except DataError:
        raise
    except Exception as exc:  # pyogrio/GDAL raise many types for a corrupt file
        raise DataError(f"cannot read OSM data file {path}: {exc}; check or remove the file") from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
    frame["file"] = str(path)
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    if frame["osm_id"].isna().all() and frame.index.name in ("id", "osm_id"):
        frame["osm_id"] = frame.index
    frame = frame.reset_index(drop=True)
    frame["osm_id"] = osm_ids(frame["osm_id"], path)
    kinds = frame.geometry.geom_type
    lines = frame[kinds.isin(["LineString", "MultiLineString"])]
    points = frame[kinds == "Point"]
    return gpd.GeoDataFrame(lines, geometry="geometry", crs=4326), gpd.GeoDataFrame(points, geometry="geometry", crs=4326)


_TYPED_ID = re.compile(r"^\s*(?:node|way|relation|[nwr])\s*/?\s*(-?\d+)\s*$", re.IGNORECASE)


def osm_ids(values: pd.Series, path: Path | str) -> pd.Series:
    """OSM ids as whole numbers (or None): ``123``, ``"123"``, ``"node/123"``, ``"way/123"``, ``"w123"``.

    Raises
    ------
    DataError
        Naming the file and the first value that is not an OSM id.
    """
    import pandas as pd

    values = values.astype(object)
    numbers = pd.to_numeric(values, errors="coerce")
    out: list[int | None] = []
    for raw, number in zip(values, numbers):
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            out.append(None)
        elif pd.notna(number) and float(number).is_integer() and not isinstance(raw, bool):
            out.append(int(number))
        elif isinstance(raw, str) and (typed := _TYPED_ID.match(raw)):
            out.append(int(typed.group(1)))
        else:
            raise DataError(f"OSM data file {path}: osm_id {str(raw)[:60]!r} is not an OSM id (a whole number, or "
                            "node/…, way/…, relation/… with one): fix the value or remove the file")
    return pd.Series(out, index=values.index, dtype=object)


def _read_osm_xml(path: Path) -> gpd.GeoDataFrame:
    import osmnx as ox

    frame = ox.features_from_xml(path, tags={"railway": True, "highway": ["motorway", "trunk", "primary"], "barrier": "border_control"})
    frame = frame.reset_index()
    frame["osm_id"] = frame["id"]
    return frame.set_crs(4326, allow_override=True)


def _read_pbf(path: Path) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    frames = []
    for layer in ("lines", "multilinestrings", "points"):
        part = pyogrio.read_dataframe(path, layer=layer)
        if "osm_id" not in part.columns and "osm_way_id" in part.columns:
            part["osm_id"] = part["osm_way_id"]
        tags = part.get("other_tags")
        for key in ("railway", "usage", "highway", "barrier"):
            if key not in part.columns:
                part[key] = tags.str.extract(rf'"{key}"=>"([^"]*)"')[0] if tags is not None else None
        frames.append(part)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)


def read_local(osm_dir: str | Path, area: BaseGeometry | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read all lines and points under ``osm_dir``, clipped to ``area`` (a shapely geometry).

    Returns
    -------
    (lines, points) : tuple of GeoDataFrame
    """
    from shapely.geometry import box

    lines, points = [], []
    for path in osm_files(osm_dir):
        file_lines, file_points = _read_file(path, path.stat().st_mtime)
        if area is not None:
            bounds = box(*area.bounds)
            file_lines = file_lines[file_lines.intersects(bounds)]
            file_lines = file_lines[file_lines.intersects(area)]
            file_points = file_points[file_points.intersects(area)]
        lines.append(file_lines)
        points.append(file_points)
    return concat(lines), concat(points)
