"""Send one query to the Overpass API, the way osmnx does, with bounded retries.

The endpoint, query timeout, memory limit, rate limiting and response cache
are osmnx's (``osmnx.settings``): responses are cached as osmnx caches them
(one JSON file per query, named by the SHA-1 of the GET-style URL, in
``osmnx.settings.cache_folder``), and the wait for a free Overpass slot comes
from osmnx's rate limiter. Unlike osmnx, which retries HTTP 429 and 504
forever, every failure here is retried a bounded number of times
(``settings.http_max_retries``, exponential backoff from
``settings.http_backoff_s``) and then reported as a :class:`NetworkError`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections import OrderedDict
from datetime import datetime, timezone
from hashlib import sha1
from pathlib import Path
from typing import Any

import osmnx as ox
import requests

from .. import files, settings
from ..errors import NetworkError

log = logging.getLogger(__name__)

#: HTTP statuses worth asking again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_OSMNX_DEFAULT_CACHE = "./cache"


class _Retry(Exception):
    """A failed attempt that may succeed when repeated."""

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def interpreter_url() -> str:
    """The Overpass interpreter URL from ``osmnx.settings.overpass_url``."""
    return str(ox.settings.overpass_url).rstrip("/") + "/interpreter"


def query_header() -> str:
    """The Overpass settings statement, e.g. ``[out:json][timeout:180]``, from osmnx's settings."""
    memory = ox.settings.overpass_memory
    maxsize = "" if memory is None else f"[maxsize:{memory}]"
    return ox.settings.overpass_settings.format(timeout=ox.settings.requests_timeout, maxsize=maxsize)


def cache_folder() -> Path:
    """Folder of cached Overpass responses.

    ``osmnx.settings.cache_folder``, unless it is still osmnx's default
    ``./cache`` (relative to the working folder): then ``<settings.cache_dir>/overpass``.
    """
    folder = ox.settings.cache_folder
    if str(folder) == _OSMNX_DEFAULT_CACHE:
        return Path(settings.cache_dir) / "overpass"
    return Path(folder)


def cache_file(query: str) -> Path:
    """The cache file of ``query``: osmnx's naming (SHA-1 of the GET-style request URL)."""
    url = requests.Request("GET", interpreter_url(), params=OrderedDict(data=query)).prepare().url
    return cache_folder() / f"{sha1(str(url).encode('utf-8')).hexdigest()}.json"  # noqa: S324 - a file name, as osmnx


def read_cache(query: str) -> dict[str, Any] | None:
    """The cached response to ``query``, or None.

    A cache file that is not a complete Overpass response (truncated, not
    JSON, no ``elements``, a server remark) is deleted and treated as absent.
    """
    if not ox.settings.use_cache:
        return None
    path = cache_file(query)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes())
        _check_elements(data)
    except (ValueError, _Retry, OSError) as exc:
        log.warning("deleting corrupt Overpass cache file %s (%s); the query will be sent again", path, exc)
        path.unlink(missing_ok=True)
        return None
    log.info("Overpass response from cache file %s", path)
    return data


def write_cache(query: str, data: dict[str, Any]) -> None:
    """Cache a complete Overpass response atomically (when ``osmnx.settings.use_cache``)."""
    if ox.settings.use_cache and "remark" not in data:
        files.write_bytes(cache_file(query), json.dumps(data).encode("utf-8"))


def request(query: str) -> dict[str, Any]:
    """Send an Overpass QL query and return the parsed JSON response.

    Parameters
    ----------
    query : str
        A complete query, starting with :func:`query_header`.

    Returns
    -------
    dict
        The response, with ``elements`` and ``osm3s``.

    Raises
    ------
    NetworkError
        After ``settings.http_max_retries`` retries of timeouts, refused or
        broken connections, HTTP 429/5xx, truncated or non-JSON bodies and
        Overpass runtime errors; at once for other HTTP errors (a bad query).
    """
    cached = read_cache(query)
    if cached is not None:
        return cached
    url = interpreter_url()
    attempts = int(settings.http_max_retries) + 1
    reason = ""
    for attempt in range(attempts):
        pause = _osmnx_pause(str(ox.settings.overpass_url))
        if pause > 0:
            _sleep(pause)
        try:
            response = _post(url, query)
            data = parse_response(response)
        except _Retry as exc:
            reason = exc.reason
            if attempt + 1 < attempts:
                delay = backoff_s(attempt) if exc.delay is None else exc.delay
                log.warning("Overpass attempt %d/%d failed (%s); retrying in %.1f s", attempt + 1, attempts, reason, delay)
                _sleep(delay)
            continue
        write_cache(query, data)
        return data
    raise NetworkError(
        f"Overpass ({url}) failed {attempts} times, last: {reason}. Check the internet connection and try again "
        "later, or point osmnx.settings.overpass_url at another Overpass server; "
        "--osm-dir or --snapshot build without the network"
    )


def backoff_s(attempt: int) -> float:
    """Wait before retry number ``attempt + 1``: ``http_backoff_s * 2**attempt``."""
    return float(settings.http_backoff_s) * (2.0**attempt)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def parse_response(response: requests.Response) -> dict[str, Any]:
    """Check an Overpass HTTP response and return its JSON.

    Raises
    ------
    _Retry
        For a response worth asking for again.
    NetworkError
        For one that will not improve (HTTP 4xx other than 429, a very long Retry-After).
    """
    status = response.status_code
    if status == 429:
        wait = retry_after_s(response.headers.get("Retry-After"))
        if wait is not None and wait > settings.http_retry_after_max_s:
            raise NetworkError(
                f"Overpass is rate limiting this computer and asks to wait {wait:.0f} s: try again later "
                "or use another Overpass server (osmnx.settings.overpass_url)"
            )
        raise _Retry("HTTP 429 Too Many Requests (rate limited)", wait)
    if status in RETRY_STATUSES:
        raise _Retry(f"HTTP {status} {response.reason or ''}".strip())
    if not 200 <= status < 300:
        raise NetworkError(
            f"Overpass refused the query with HTTP {status}: {_text_of(response.content)}; "
            "check the [osm] selectors of the layer file"
        )
    body = response.content or b""
    try:
        data = json.loads(body)
    except ValueError:
        head = body.lstrip()[:1]
        if head in (b"{", b"["):
            raise _Retry(f"truncated JSON response ({len(body)} bytes)") from None
        raise _Retry(f"response is not JSON: {_text_of(body)!r}") from None
    _check_elements(data)
    if "remark" in data:
        log.warning("Overpass remarked: %s", data["remark"])
    return data


def _check_elements(data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise _Retry("JSON response without an 'elements' list")
    remark = str(data.get("remark") or "")
    if "runtime error" in remark.lower():
        raise _Retry(f"Overpass runtime error: {remark.strip()[:200]}")


def _text_of(body: bytes, limit: int = 160) -> str:
    text = body.decode("utf-8", "replace")
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())[:limit] or "(empty body)"


def _post(url: str, query: str) -> requests.Response:
    """POST ``query``; network failures become :class:`_Retry`."""
    headers = dict(requests.utils.default_headers())
    headers.update({"User-Agent": settings.user_agent, "Accept-Language": ox.settings.http_accept_language})
    timeout = ox.settings.requests_timeout
    try:
        return requests.post(url, data={"data": query}, timeout=timeout, headers=headers, **ox.settings.requests_kwargs)
    except requests.exceptions.Timeout:
        raise _Retry(f"no answer within {timeout} s (timeout)") from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        raise _Retry("the response was cut off (truncated transfer)") from None
    except requests.exceptions.ConnectionError as exc:
        raise _Retry(f"cannot connect: {_connection_reason(exc)}") from None


def _connection_reason(exc: BaseException) -> str:
    seen = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ConnectionRefusedError):
            return "connection refused"
        stack.extend(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))
        stack.extend(e for e in (err.__cause__, err.__context__, getattr(err, "reason", None)) if isinstance(e, BaseException))
    text = str(exc)
    return "connection refused" if "refused" in text.lower() else text[:200]


def _osmnx_pause(endpoint: str) -> float:
    """Seconds to wait for a free Overpass slot, from osmnx's rate limiter.

    The one place corridormap uses osmnx internals (osmnx 2.x
    ``_http._config_dns`` and ``_overpass._get_overpass_pause``): they pin the
    Overpass host's IP address and read its ``/status`` slots, as osmnx does
    before each query. Off when ``osmnx.settings.overpass_rate_limit`` is False.
    """
    if not ox.settings.overpass_rate_limit:
        return 0.0
    try:
        from osmnx import _http, _overpass

        _http._config_dns(endpoint)
        # default_pause=0: osmnx waits 60 s when /status is unreachable; the POST then fails
        # at once and the bounded backoff here takes over, so an offline run ends quickly.
        return float(_overpass._get_overpass_pause(endpoint, default_pause=0))
    except (ImportError, AttributeError) as exc:  # osmnx moved its internals
        log.warning("osmnx rate limiter unavailable (%s); waiting %.1f s", exc, settings.http_backoff_s)
        return float(settings.http_backoff_s)
    except (requests.RequestException, OSError) as exc:  # status endpoint unreachable: the POST will tell
        log.info("Overpass status endpoint unavailable (%s)", exc)
        return 0.0


def _sleep(seconds: float) -> None:
    """Pause (one function, so tests can make it instant)."""
    time.sleep(seconds)
