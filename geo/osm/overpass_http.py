"""Send one query to the Overpass API, the way osmnx does, with bounded retries.

The endpoints are ``settings.overpass_url`` (CLI ``--overpass-url``, env
``CORRIDORMAP_OVERPASS_URL``), else osmnx's ``osmnx.settings.overpass_url``;
several are tried in order when one is overloaded or down. The query timeout,
memory limit, rate limiting and response cache are osmnx's: responses are
cached as osmnx caches them (one JSON file per query, named by the SHA-1 of
the GET-style URL, in ``osmnx.settings.cache_folder``), but only answers
whose elements parse into frames and are not empty; a cache file failing that
check is reported, deleted and asked for again. The wait for a free Overpass
slot is read from the server's ``/status`` page as osmnx's rate limiter reads it,
but within the network budget (:func:`_osmnx_pause`). Unlike osmnx, which
retries HTTP 429 and 504 forever, every failure here is retried a bounded
number of times (``settings.http_max_retries``, exponential backoff from
``settings.http_backoff_s``) and then reported as a :class:`NetworkError`.

What the server says is kept: a refused query (HTTP 400 and its ``Error:``
lines) is a :class:`QueryError`, never retried; an out-of-memory or timeout
remark is a :class:`QueryTooLarge` (the caller may send a smaller query); a
``duplicate_query`` answer (the identical query still running) is waited out
``settings.overpass_duplicate_retries`` times; a host name that does not
resolve is not retried.
"""

from __future__ import annotations

import email.utils
import html
import json
import logging
import math
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timezone
from hashlib import sha1
from pathlib import Path
from typing import Any

import osmnx as ox
import requests
import urllib3

from .. import files, settings
from ..deadline import Late, run_by
from ..errors import DataError, NetworkError, QueryError, QueryTooLarge
from ..reading import read_regular, size_text
from . import budget
from .elements import check_elements
from .endpoint import normalise_endpoint, split_endpoints

log = logging.getLogger(__name__)

#: HTTP statuses worth asking again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_OSMNX_DEFAULT_CACHE = "./cache"
_ERROR_LINE = re.compile(r"<strong[^>]*>\s*Error\s*</strong>\s*:?(.*?)</p>", re.S | re.I)
_TOO_LARGE = re.compile(r"out of memory|timed out", re.I)
_DUPLICATE = "duplicate_query"
_CHUNK = 1 << 16


class _Retry(Exception):
    """A failed attempt that may succeed when repeated."""

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class _Duplicate(_Retry):
    """The server is still running an identical query: wait, then ask again."""


class _OutOfTime(Exception):
    """The network budget is spent, or would be before a wait ends."""


class _GiveUp(Exception):
    """Asking this endpoint again will not help now (its host name does not resolve, or it asks to wait hours)."""


# --------------------------------------------------------------------------- endpoints


def endpoints() -> list[str]:
    """The Overpass endpoints to try, in order: ``settings.overpass_url``, else osmnx's."""
    return split_endpoints(settings.overpass_url) or [normalise_endpoint(ox.settings.overpass_url)]


def use_overpass(urls: str | Sequence[str]) -> list[str]:
    """Send queries to ``urls`` (tried in order); osmnx's ``overpass_url`` becomes the first.

    Returns
    -------
    list of str
        The normalised endpoints (empty when ``urls`` is: the settings are left alone).
    """
    chosen = split_endpoints(urls)
    if chosen:
        settings.overpass_url = chosen
        ox.settings.overpass_url = chosen[0]
    return chosen


def interpreter_url(endpoint: str | None = None) -> str:
    """The interpreter URL of ``endpoint`` (default: the first of :func:`endpoints`)."""
    return (endpoint or endpoints()[0]).rstrip("/") + "/interpreter"


def query_header() -> str:
    """The Overpass settings statement, e.g. ``[out:json][timeout:180]``, from osmnx's settings."""
    memory = ox.settings.overpass_memory
    maxsize = "" if memory is None else f"[maxsize:{memory}]"
    return ox.settings.overpass_settings.format(timeout=ox.settings.requests_timeout, maxsize=maxsize)


# --------------------------------------------------------------------------- cache


def cache_folder() -> Path:
    """Folder of cached Overpass responses.

    ``osmnx.settings.cache_folder``, unless it is still osmnx's default
    ``./cache`` (relative to the working folder): then ``<settings.cache_dir>/overpass``.
    """
    folder = ox.settings.cache_folder
    if str(folder) == _OSMNX_DEFAULT_CACHE:
        return Path(settings.cache_dir) / "overpass"
    return Path(folder)


def cache_file(query: str, endpoint: str | None = None) -> Path:
    """The cache file of ``query`` sent to ``endpoint``: osmnx's naming (SHA-1 of the GET-style URL)."""
    url = requests.Request("GET", interpreter_url(endpoint), params=OrderedDict(data=query)).prepare().url
    return cache_folder() / f"{sha1(str(url).encode('utf-8')).hexdigest()}.json"  # noqa: S324 - a file name, as osmnx


def read_cache(query: str, endpoint: str | None = None) -> dict[str, Any] | None:
    """The cached response to ``query`` from ``endpoint``, or None.

    A cache file that is not a complete Overpass response (truncated, not
    JSON, no ``elements``, a server remark), whose elements do not parse into
    frames (:func:`geo.osm.elements.check_elements`) or that holds no elements
    is reported, deleted and treated as absent: the query is sent again.
    """
    if not ox.settings.use_cache:
        return None
    path = cache_file(query, endpoint)
    if not path.is_file():
        return None
    try:
        data = json.loads(read_regular(path, settings.max_cache_bytes, "Overpass cache file", DataError))
        _check_elements(data, query)
        check_elements(data["elements"])
        if not data["elements"]:
            raise ValueError("an empty answer, never kept")
    except (ValueError, RecursionError, _Retry, QueryError, DataError, OSError) as exc:
        log.warning("deleting corrupt Overpass cache file %s (%s); the query will be sent again", path, exc)
        path.unlink(missing_ok=True)
        return None
    log.info("Overpass response from cache file %s", path)
    return data


def write_cache(query: str, data: dict[str, Any], endpoint: str | None = None) -> None:
    """Cache a checked Overpass response atomically (when ``osmnx.settings.use_cache``).

    Only answers that hold elements are kept: an empty one (nothing found, or
    a server that lost its data) is asked for again next time, so it cannot
    turn later builds schematic. A response with a remark is not kept either.
    """
    if ox.settings.use_cache and "remark" not in data and data.get("elements"):
        files.write_bytes(cache_file(query, endpoint), json.dumps(data).encode("utf-8"))


def checked(data: dict[str, Any], endpoint: str | None = None) -> dict[str, Any]:
    """``data`` when its elements parse into frames (:func:`geo.osm.elements.check_elements`).

    Raises
    ------
    DataError
        Naming the server and the malformed element.
    """
    try:
        check_elements(data["elements"])
    except DataError as exc:
        raise DataError(f"Overpass ({interpreter_url(endpoint)}) sent a malformed answer ({exc.message}); it was "
                        "not cached: try again later, or use another server (--overpass-url)") from None
    return data


# --------------------------------------------------------------------------- requests


def request(query: str, urls: str | Sequence[str] = ()) -> dict[str, Any]:
    """Send an Overpass QL query and return the parsed JSON response.

    Each endpoint of ``urls`` (default :func:`endpoints`) is asked in turn; after a round in
    which all failed, the next round starts after a backoff.

    Parameters
    ----------
    query : str
        A complete query, starting with :func:`query_header`.
    urls : str or sequence of str
        The endpoints to ask, in order (a live :class:`geo.osm.source.Live` source's); empty:
        :func:`endpoints`.

    Returns
    -------
    dict
        The response, with ``elements`` and ``osm3s``.

    Raises
    ------
    QueryError
        At once when a server refuses the query (HTTP 4xx other than 429: its
        ``Error:`` lines are in the message), or still runs an identical one.
    QueryTooLarge
        At once when a server runs out of memory or time on it.
    NetworkError
        After ``settings.http_max_retries`` retries of timeouts, refused or
        broken connections, HTTP 429/5xx, truncated or non-JSON bodies and
        other Overpass runtime errors; or at once when every endpoint gives up
        (its host name does not resolve, or it asks to wait longer than
        ``settings.http_retry_after_max_s``).
    DataError
        At once when a server's answer does not parse into frames (:func:`checked`).
    """
    urls = split_endpoints(urls) or endpoints()
    for url in urls:
        cached = read_cache(query, url)
        if cached is not None:
            return cached
    reasons: dict[str, str] = {}
    tries = {u: 0 for u in urls}
    with budget.spending():  # the build's network time runs while Overpass is asked
        try:
            answer = _ask_in_turn(urls, query, reasons, tries)
        except _OutOfTime:
            raise NetworkError(_failure_message(urls, reasons, tries, budget.current())) from None
    if answer is None:
        raise NetworkError(_failure_message(urls, reasons, tries))
    url, data = answer
    write_cache(query, checked(data, url), url)
    return data


def _ask_in_turn(urls: list[str], query: str, reasons: dict[str, str],
                 tries: dict[str, int]) -> tuple[str, dict[str, Any]] | None:
    """(endpoint, answer) from the first endpoint to answer, in rounds with backoff; None when all failed.

    ``reasons`` and ``tries`` are filled in per endpoint; :class:`_OutOfTime` when the budget is spent.
    """
    attempts = int(settings.http_max_retries) + 1
    live = list(urls)
    for attempt in range(attempts):
        delay = None
        for url in list(live):
            if budget.remaining() <= 0:
                raise _OutOfTime
            tries[url] += 1
            try:
                return url, _ask(url, query)
            except _OutOfTime as exc:
                if exc.args:
                    reasons[url] = str(exc.args[0])
                raise
            except _GiveUp as exc:
                reasons[url] = str(exc)
                live.remove(url)
                log.warning("Overpass endpoint %s: %s; not retried", url, exc)
            except _Retry as exc:
                reasons[url] = exc.reason
                delay = exc.delay if exc.delay is not None else delay
                log.warning("Overpass %s attempt %d/%d failed (%s)", url, attempt + 1, attempts, exc.reason)
        if live and attempt + 1 < attempts:
            _pause(backoff_s(attempt) if delay is None else delay)
    return None


def _failure_message(urls: list[str], reasons: dict[str, str], tries: dict[str, int],
                     spent: budget.Budget | None = None) -> str:
    def one(url: str) -> str:
        times = "once" if tries[url] == 1 else f"{tries[url]} times"
        return f"Overpass ({interpreter_url(url)}) failed {times}, last: {reasons.get(url, 'no answer')}"

    failures = "; ".join(one(u) for u in urls if tries[u])
    if spent is not None:
        what = f"the network time budget of {spent.seconds:g} s for this build is spent"
        return (f"{what} ({failures or 'before Overpass was asked'}): raise it (--network-budget, "
                "CORRIDORMAP_NETWORK_BUDGET_S), or build without the network (--osm-dir, --snapshot)")
    fix = ("Check the internet connection and try again later, or use another Overpass server "
           "(--overpass-url, CORRIDORMAP_OVERPASS_URL); --osm-dir or --snapshot build without the network")
    return failures + ". " + fix


def _ask(url: str, query: str) -> dict[str, Any]:
    """One endpoint, waiting out ``duplicate_query`` answers (at most ``overpass_duplicate_retries`` times)."""
    waits = int(settings.overpass_duplicate_retries)
    for wait in range(waits + 1):
        pause = _osmnx_pause(url)
        if pause > 0:
            _pause(pause)
        try:
            return parse_response(*_post(interpreter_url(url), query, budget.request_deadline()), query)
        except _Duplicate as exc:
            if wait == waits:
                raise QueryError(
                    f"Overpass ({interpreter_url(url)}) is still running an identical query after {waits} waits of "
                    f"{settings.overpass_duplicate_wait_s:g} s ({exc.reason}): let it finish (or another server "
                    "answer, --overpass-url) and run again", query, exc.reason,
                ) from None
            log.warning("Overpass %s is running the identical query (%s); waiting %.0f s", url, exc.reason,
                        settings.overpass_duplicate_wait_s)
            _pause(float(settings.overpass_duplicate_wait_s))
    raise AssertionError("unreachable")  # pragma: no cover


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


def parse_response(response: requests.Response, body: bytes, query: str = "") -> dict[str, Any]:
    """Check an Overpass HTTP response and its ``body`` (read by :func:`_post`) and return its JSON.

    Raises
    ------
    _Retry
        For a response worth asking for again (``_Duplicate`` for ``duplicate_query``).
    QueryError
        For a refused query (HTTP 4xx other than 429), with the server's ``Error:`` lines.
    QueryTooLarge
        For an out-of-memory or timeout runtime error.
    _GiveUp
        For a very long Retry-After.
    """
    status = response.status_code
    said = server_errors(body)
    if any(_DUPLICATE in line for line in said):
        raise _Duplicate(said[0])
    if status == 429:
        wait = retry_after_s(response.headers.get("Retry-After"))
        if wait is not None and wait > settings.http_retry_after_max_s:
            raise _GiveUp(f"HTTP 429: the server is rate limiting this computer and asks to wait {wait:.0f} s")
        raise _Retry("HTTP 429 Too Many Requests (rate limited)", wait)
    if status in RETRY_STATUSES:
        raise _Retry(f"HTTP {status} {response.reason or ''}".strip() + (f": {said[0]}" if said else ""))
    if not 200 <= status < 300:
        text = "; ".join(said) or _text_of(body)
        raise QueryError(f"Overpass ({response.url}) refused the query with HTTP {status}: {text}", query, text)
    try:
        data = json.loads(body)
    except RecursionError:
        raise DataError(f"Overpass ({response.url}) sent JSON nested too deeply to read: not an Overpass answer; "
                        "try another server (--overpass-url)") from None
    except ValueError:
        if said:
            _raise_runtime_error(" ".join(said), query, response.url)
        head = body.lstrip()[:1]
        if head in (b"{", b"["):
            raise _Retry(f"truncated JSON response ({len(body)} bytes)") from None
        raise _Retry(f"response is not JSON: {_text_of(body)!r}") from None
    _check_elements(data, query, response.url)
    if "remark" in data:
        log.warning("Overpass remarked: %s", data["remark"])
    return data


def server_errors(body: bytes) -> list[str]:
    """The ``Error:`` lines of an Overpass HTML page, as text (``[]`` when there are none)."""
    text = body.decode("utf-8", "replace")
    lines = (" ".join(html.unescape(re.sub(r"<[^>]+>", " ", m)).split()) for m in _ERROR_LINE.findall(text))
    return [line for line in lines if line]


def _check_elements(data: Any, query: str = "", url: str | None = None) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise _Retry("JSON response without an 'elements' list")
    remark = " ".join(str(data.get("remark") or "").split())
    if "runtime error" in remark.lower():
        _raise_runtime_error(remark, query, url)


def _raise_runtime_error(text: str, query: str, url: str | None = None) -> None:
    """A runtime error the server reported: duplicate, too large, or (otherwise) worth a retry."""
    if _DUPLICATE in text:
        raise _Duplicate(text)
    if _TOO_LARGE.search(text):
        raise QueryTooLarge(f"Overpass ({url or 'server'}) stopped the query: {text}", query, text)
    raise _Retry(f"Overpass runtime error: {text[:300]}")


def _text_of(body: bytes, limit: int = 160) -> str:
    text = body.decode("utf-8", "replace")
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())[:limit] or "(empty body)"


def _post(url: str, query: str, deadline: float) -> tuple[requests.Response, bytes]:
    """POST ``query``: the response and its whole body, both in by ``deadline`` (``time.monotonic()``).

    The exchange runs in a worker thread, so nothing a server does (never
    answering, sending a byte now and then, headers included) keeps the caller
    past the deadline; the worker stops reading at the deadline too.
    Failures become :class:`_Retry` (:class:`_GiveUp` for DNS).
    """
    allowed = deadline - time.monotonic()
    try:
        return run_by(lambda: _exchange(url, query, deadline), deadline, name="overpass-request")
    except Late:
        raise _Retry(_late(allowed)) from None


def _exchange(url: str, query: str, deadline: float) -> tuple[requests.Response, bytes]:
    """POST and read the body in pieces, checking ``deadline`` after each (see :func:`_post`)."""
    headers = dict(requests.utils.default_headers())
    headers.update({"User-Agent": settings.user_agent, "Accept-Language": ox.settings.http_accept_language})
    allowed = deadline - time.monotonic()
    timeout = max(0.001, min(float(ox.settings.requests_timeout), allowed))
    chunks: list[bytes] = []
    try:
        with requests.post(url, data={"data": query}, timeout=timeout, headers=headers, stream=True,
                           **ox.settings.requests_kwargs) as response:
            size, cap = 0, int(settings.max_overpass_bytes)
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    raise QueryTooLarge(f"Overpass ({url}) sent more than {size_text(cap)} for one query (the "
                                        "settings.max_overpass_bytes cap): a smaller query may fit", query)
                if time.monotonic() > deadline:
                    raise _Retry(_late(allowed))
    except (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError):
        raise _Retry(f"no answer within {timeout:.3g} s (timeout)") from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
            urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError):
        raise _Retry("the response was cut off (truncated transfer)") from None
    except requests.exceptions.ConnectionError as exc:
        reason = _connection_reason(exc)
        if reason.startswith("host name does not resolve"):
            raise _GiveUp(reason) from None
        raise _Retry(f"cannot connect: {reason}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _Retry(f"the connection failed while reading the answer ({exc})") from None
    return response, b"".join(chunks)


def _late(allowed: float) -> str:
    return f"no complete answer within {max(allowed, 0):.3g} s (a deadline for the whole answer, not each byte)"


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
        if isinstance(err, socket.gaierror):
            return f"host name does not resolve ({err.strerror or err})"
        stack.extend(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))
        stack.extend(e for e in (err.__cause__, err.__context__, getattr(err, "reason", None)) if isinstance(e, BaseException))
    text = str(exc)
    return "connection refused" if "refused" in text.lower() else text[:200]


def _osmnx_pause(endpoint: str) -> float:
    """Seconds to wait for a free Overpass slot, from the server's ``/status`` page, within the network budget.

    Read as osmnx's rate limiter reads it (``N slots available now``: no wait; ``Slot
    available after: <time>, in N seconds``: N), but bounded: the page is fetched with a
    deadline (``settings.overpass_status_timeout_s``, at most the budget left) and at most
    ``settings.max_overpass_status_bytes``; a server that lists running queries and no slot
    is asked again every ``settings.overpass_status_poll_s`` only while the budget lasts
    (:class:`_OutOfTime` after); a status that cannot be read (no answer, an unknown or
    garbled line such as ``Slot available after: soon``) costs ``settings.http_backoff_s`` at
    most, and the query itself then tells. Off when ``osmnx.settings.overpass_rate_limit``
    is False.
    """
    if not ox.settings.overpass_rate_limit:
        return 0.0
    url = endpoint.rstrip("/") + "/status"
    while True:
        deadline = time.monotonic() + min(float(settings.overpass_status_timeout_s), budget.remaining())
        try:
            text = _get_status(url, deadline)
        except _Retry as exc:  # unreachable, too slow or too large: the POST will tell
            log.info("Overpass status %s unavailable (%s)", url, exc.reason)
            return 0.0
        wait = status_wait_s(text)
        if wait is None:
            log.warning("Overpass status %s not understood (%r); waiting %.1f s", url, _text_of(text.encode(), 120),
                        settings.http_backoff_s)
            return float(settings.http_backoff_s)
        if not math.isnan(wait):
            return wait
        log.info("Overpass %s is running queries and lists no free slot; asking again in %.1f s", url,
                 settings.overpass_status_poll_s)
        try:
            _pause(float(settings.overpass_status_poll_s))
        except _OutOfTime:
            raise _OutOfTime("its /status kept listing running queries and no free slot") from None


_SLOTS_FREE = re.compile(r"^(\d+) slots? available now", re.M)
_SLOT_AFTER = re.compile(r"^Slot available after: (\S+), in (-?\d+) seconds?\.?\s*$", re.M)
_RATE_LIMIT = re.compile(r"^Rate limit: (\d+)", re.M)


def status_wait_s(text: str) -> float | None:
    """Seconds to wait according to an Overpass ``/status`` page.

    0 when a slot is free (or the server has no rate limit); the shortest ``Slot available
    after`` wait (at least 1 s); ``nan`` when it lists running queries and no slot (ask
    again later); None when the page cannot be read.
    """
    if _SLOTS_FREE.search(text):
        return 0.0
    waits = [int(m.group(2)) for m in _SLOT_AFTER.finditer(text)]
    if waits:
        return float(max(1, min(waits)))
    limit = _RATE_LIMIT.search(text)
    if limit and int(limit.group(1)) == 0:
        return 0.0
    if "Slot available after" in text or not limit:
        return None
    return math.nan if "Currently running queries" in text else None


def _get_status(url: str, deadline: float) -> str:
    """The text of the status page ``url``, all of it in by ``deadline`` (``time.monotonic()``).

    Like :func:`_post`: a worker thread reads it, so a server that never answers keeps
    nobody past the deadline; more than ``settings.max_overpass_status_bytes`` is refused.
    Failures are :class:`_Retry`.
    """
    allowed = deadline - time.monotonic()
    try:
        return run_by(lambda: _read_status(url, deadline, allowed), deadline, name="overpass-status")
    except Late:
        raise _Retry(_late(allowed)) from None


def _read_status(url: str, deadline: float, allowed: float) -> str:
    """:func:`_get_status`'s exchange, in the worker thread; failures are :class:`_Retry`."""
    try:
        headers = {"User-Agent": settings.user_agent}
        with requests.get(url, timeout=max(0.001, allowed), headers=headers, stream=True,
                          **ox.settings.requests_kwargs) as response:
            chunks, size = [], 0
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > settings.max_overpass_status_bytes:
                    raise _Retry(f"status page over {size_text(settings.max_overpass_status_bytes)}")
                if time.monotonic() > deadline:
                    raise _Retry(_late(allowed))
        return b"".join(chunks).decode("utf-8", "replace")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _Retry(f"{type(exc).__name__}: {str(exc)[:160]}") from None


def _pause(seconds: float) -> None:
    """Wait ``seconds`` before asking again, unless the network budget would be spent by then (:class:`_OutOfTime`)."""
    if seconds >= budget.remaining():
        raise _OutOfTime
    _sleep(seconds)


def _sleep(seconds: float) -> None:
    """Pause (one function, so tests can make it instant)."""
    time.sleep(seconds)
