"""Nominatim (OpenStreetMap), the last resort for names nothing offline places (``--online-geocoding``).

Bounded as its usage policy asks (https://operations.osmfoundation.org/policies/nominatim/): one
request per second at most (``settings.nominatim_min_delay_s``, across threads), a User-Agent naming
corridormap (``settings.user_agent``), a disk cache under ``settings.cache_dir`` so a name is asked
once, a timeout (``settings.nominatim_timeout_s``) and a few tries (``settings.nominatim_tries``), and
at most ``settings.nominatim_max_per_article`` names asked per article. A name is asked inside the
article's countries only (Nominatim's ``countrycodes``), and an answer is taken only when it lies in one
of them and is a place (``settings.nominatim_classes``: a town, an administrative boundary, a station,
a port...). The server is ``settings.nominatim_url``. Used by :func:`geo.text.resolve.resolve` with
``online=True`` only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from .. import settings
from ..core.place import Place
from ..errors import DataError, NetworkError, OutputError
from ..files import private_dir, write_text
from ..reading import read_regular

log = logging.getLogger(__name__)

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


def cache_key(name: str, countries: Iterable[str] = ()) -> str:
    """The cache's key of ``name`` asked inside ``countries`` (the name alone when asked anywhere)."""
    codes = sorted({c.upper() for c in countries if c})
    return f"{name}|{','.join(codes)}" if codes else name


def is_cached(name: str, countries: Iterable[str] = ()) -> bool:
    """Whether Nominatim's answer for ``name`` inside ``countries`` is in the cache (asking it costs no request)."""
    return cache_key(name, countries) in _read_cache()


def _geocoder():
    from geopy.geocoders import Nominatim

    url = urlsplit(settings.nominatim_url)
    return Nominatim(user_agent=settings.user_agent, timeout=settings.nominatim_timeout_s,
                     domain=(url.netloc + url.path.rstrip("/")) or "nominatim.openstreetmap.org",
                     scheme=url.scheme or "https")


def lookup(name: str, countries: Iterable[str] = ()) -> dict | None:
    """Return Nominatim's first answer for ``name`` (inside ``countries``, ISO alpha-2) as a dict, cached.

    The dict has ``lat``, ``lon``, ``display_name``, ``class``, ``type`` and ``country`` (ISO alpha-2).

    Raises
    ------
    NetworkError
        If Nominatim cannot be reached or answers with an error after its tries.
    """
    codes = sorted({c.upper() for c in countries if c})
    key = cache_key(name, codes)
    cache = _read_cache()
    if key in cache:
        return cache[key]
    loc = _request(name, codes)
    answer = None
    if loc is not None:
        raw = loc.raw
        answer = {"lat": float(raw["lat"]), "lon": float(raw["lon"]), "display_name": raw.get("display_name", ""),
                  "class": raw.get("class", ""), "type": raw.get("type", ""),
                  "country": ((raw.get("address") or {}).get("country_code") or "").upper()}
        if not _valid(answer):
            answer = None
    cache = _read_cache()  # another lookup may have written meanwhile
    cache[key] = answer
    _write_cache(cache)
    return answer


def _request(name: str, codes: list[str]):
    from geopy.exc import GeocoderQueryError, GeocoderRateLimited, GeopyError

    geocoder = _geocoder()
    tries = max(1, int(settings.nominatim_tries))
    last: Exception | None = None
    for attempt in range(tries):
        with _LOCK:
            wait = settings.nominatim_min_delay_s - (time.monotonic() - _LAST_REQUEST[0])
            if wait > 0:
                time.sleep(wait)
            try:
                return geocoder.geocode(name, exactly_one=True, addressdetails=True, language="en",
                                        country_codes=codes or None)
            except GeocoderQueryError as exc:  # the server refused the question: asking again will not help
                raise NetworkError(f"Nominatim refused the lookup of {name!r} ({exc})") from exc
            except GeopyError as exc:
                last = exc
                retry_after = getattr(exc, "retry_after", None) if isinstance(exc, GeocoderRateLimited) else None
            finally:
                _LAST_REQUEST[0] = time.monotonic()
        if attempt + 1 < tries:
            pause = 2.0 * settings.nominatim_min_delay_s * 2 ** attempt
            if retry_after:
                pause = max(pause, min(float(retry_after), settings.http_retry_after_max_s))
            time.sleep(pause)
    raise NetworkError(f"Nominatim lookup of {name!r} failed after {tries} tries ({last}): retry later or run "
                       "without --online-geocoding")


def accepted(answer: dict, countries: Iterable[str]) -> bool:
    """Whether an answer is a place (``settings.nominatim_classes``) in one of ``countries`` (any, when none)."""
    codes = {c.upper() for c in countries if c}
    if codes and answer.get("country", "") not in codes:
        return False
    types = settings.nominatim_classes.get(answer.get("class", ""), ())
    return types is None or answer.get("type", "") in types


_CLASS_CODES = {"boundary": ("A", "ADMD"), "place": ("P", "PPL"), "natural": ("H", "H"), "waterway": ("H", "H"),
                "railway": ("P", "STN"), "landuse": ("P", "PRT"), "harbour": ("P", "PRT"), "amenity": ("P", "PRT"),
                "aeroway": ("S", "AIRP"), "barrier": ("S", "PSTB")}


def geocode(name: str, countries: Iterable[str] = ()) -> Place | None:
    """A :class:`geo.core.place.Place` for ``name`` from Nominatim inside ``countries``, or None when it has no
    answer there, or one that is not a place there (see :func:`accepted`)."""
    codes = sorted({c.upper() for c in countries if c})
    hit = lookup(name, codes)
    if not hit or not accepted(hit, codes):
        return None
    fclass, fcode = _CLASS_CODES.get(hit["class"], ("L", "RGN"))
    return Place(name, hit["country"], hit["lat"], hit["lon"], None, fclass, fcode, score=0.5)


def place_names(names: list[str], countries: Iterable[str]) -> dict[str, Place | None]:
    """Nominatim's places for the distinct ``names`` an article's gazetteer left unplaced, inside its ``countries``.

    At most ``settings.nominatim_max_per_article`` names are asked (cached answers are free); none when the
    article names no country. The first network failure ends the asking (the rest stay unplaced).
    """
    codes = sorted({c.upper() for c in countries if c})
    out: dict[str, Place | None] = {}
    if not codes:
        return out
    asked = 0
    for name in dict.fromkeys(names):
        cached = is_cached(name, codes)
        if not cached and asked >= settings.nominatim_max_per_article:
            continue
        asked += not cached
        try:
            out[name] = geocode(name, codes)
        except NetworkError as exc:
            log.warning("%s; the article's other unplaced names are not asked", exc.message)
            break
    return out
