"""Optional online resolution through Nominatim (OpenStreetMap), for names the gazetteer lacks.

One request per second at most (``settings.nominatim_min_delay_s``), a timeout
(``settings.http_timeout_s``) and a disk cache under ``settings.cache_dir`` so a name
is asked once. Used by :func:`geo.text.resolve.resolve` with ``online=True`` only; tests patch it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from .. import settings
from ..errors import DataError, NetworkError, OutputError
from ..files import private_dir, write_text
from ..reading import read_regular
from ..core.place import Place

_LOCK = threading.Lock()
_LAST_REQUEST = [0.0]


def cache_path() -> Path:
    """Return the JSON file that caches Nominatim answers."""
    return Path(settings.cache_dir) / "nominatim.json"


def _read_cache() -> dict:
    if not cache_path().exists():
        return {}
    try:
        cache = json.loads(read_regular(cache_path(), settings.max_cache_bytes, "Nominatim cache", DataError))
    except (DataError, ValueError, RecursionError):
        return {}
    if not isinstance(cache, dict):
        return {}
    return {name: answer for name, answer in cache.items() if answer is None or _valid(answer)}


def _valid(answer) -> bool:
    """A cached answer is used only when its coordinates are numbers on the globe."""
    try:
        lat, lon = answer["lat"], answer["lon"]
        return (not isinstance(lat, bool) and not isinstance(lon, bool) and -90 <= float(lat) <= 90
                and -180 <= float(lon) <= 180 and isinstance(answer.get("display_name", ""), str))
    except (TypeError, KeyError, ValueError):
        return False


def _write_cache(cache: dict) -> None:
    path = cache_path()
    try:
        private_dir(settings.cache_dir)
        write_text(path, json.dumps(cache, ensure_ascii=False))
    except OutputError:  # read-only cache: keep going without it
        pass


def lookup(name: str) -> dict | None:
    """Return Nominatim's first answer for ``name`` as a dict (lat, lon, display_name, ...), cached.

    Raises
    ------
    NetworkError
        If Nominatim cannot be reached or answers with an error.
    """
    cache = _read_cache()
    if name in cache:
        return cache[name]
    from geopy.exc import GeopyError
    from geopy.geocoders import Nominatim

    geocoder = Nominatim(user_agent=settings.user_agent, timeout=settings.http_timeout_s)
    with _LOCK:
        wait = settings.nominatim_min_delay_s - (time.monotonic() - _LAST_REQUEST[0])
        if wait > 0:
            time.sleep(wait)
        try:
            loc = geocoder.geocode(name, exactly_one=True, addressdetails=True, language="en")
        except GeopyError as exc:
            raise NetworkError(f"Nominatim lookup of {name!r} failed ({exc}): retry later or run offline") from exc
        finally:
            _LAST_REQUEST[0] = time.monotonic()
    answer = None
    if loc is not None:
        raw = loc.raw
        answer = {"lat": float(raw["lat"]), "lon": float(raw["lon"]), "display_name": raw.get("display_name", ""),
                  "class": raw.get("class", ""), "type": raw.get("type", ""),
                  "country": ((raw.get("address") or {}).get("country_code") or "").upper()}
    cache[name] = answer
    _write_cache(cache)
    return answer


def geocode(name: str):
    """Return a :class:`geo.core.place.Place` for ``name`` from Nominatim, or None."""

    hit = lookup(name)
    if not hit:
        return None
    cls = {"boundary": "A", "place": "P", "natural": "H", "waterway": "H", "railway": "INFRA"}.get(hit["class"], "L")
    return Place(name, hit["country"], hit["lat"], hit["lon"], None, cls, score=0.5)
