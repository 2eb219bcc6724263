"""Download GeoNames country dumps (``XX.zip``) into the cache: the network edge of :mod:`geo.text.geonames_dumps`.

Each dump comes from ``settings.geonames_dump_url`` (``https://download.geonames.org/export/dump``),
streamed into a private temporary file beside the cache (at most ``settings.max_geonames_zip_bytes``,
over by ``settings.geonames_deadline_s`` or the caller's deadline, with the corridormap User-Agent),
checked whole (:func:`geo.text.geonames_dumps.check_dump`) and only then moved into place. A failed
download leaves nothing in the cache but a note of the failure, so a build does not try that country
again for ``settings.geonames_retry_after_s``. Data: GeoNames, CC BY 4.0.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .. import progress, settings
from ..deadline import Late, run_by
from ..errors import CorridorMapError, NetworkError, NetworkUnreachable
from ..reading import size_text
from . import geonames_dumps as dumps

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Fetched:
    """One country's dump: where it is cached, its size in bytes and the rows the gazetteer takes from it."""

    country: str
    path: Path
    bytes: int
    rows: int


def dump_url(country: str) -> str:
    """The URL of ``country``'s dump (``<settings.geonames_dump_url>/XX.zip``)."""
    return f"{settings.geonames_dump_url}/{country.upper()}.zip"


def fetch_dump(country: str, deadline: float | None = None) -> Fetched:
    """Download, check and cache the GeoNames dump of ``country`` (ISO alpha-2).

    Parameters
    ----------
    country : str
    deadline : float, optional
        ``time.monotonic()`` by which the download must be over (also bounded by ``settings.geonames_deadline_s``).

    Raises
    ------
    NetworkError
        When the server cannot be reached, answers with an error, sends more than
        ``settings.max_geonames_zip_bytes`` or takes longer than the deadline.
    DataError
        When what it sends is not a sound dump (see :func:`geo.text.geonames_dumps.read_dump`).
    Nothing is cached in either case.
    """
    country = country.upper()
    url = dump_url(country)
    folder = dumps.prepare_cache()
    end = time.monotonic() + settings.geonames_deadline_s
    end = min(end, deadline) if deadline is not None else end
    fd, tmp_name = tempfile.mkstemp(prefix=f".{country}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as out:
            size = _download(url, out, end)
            out.flush()
            os.fsync(out.fileno())
        rows = dumps.check_dump(tmp, country)
        target = dumps.dump_path(country)
        os.replace(tmp, target)
        _failure_file(country).unlink(missing_ok=True)
        dumps.forget()
        return Fetched(country, target, size, rows)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, CorridorMapError) and not isinstance(exc, NetworkUnreachable):  # no network: not the dump's fault
            _note_failure(country, exc.message)
        raise


def _download(url: str, out: BinaryIO, end: float) -> int:
    """Stream ``url`` into ``out``, all of it in by ``end`` (``time.monotonic()``); return the bytes written.

    The exchange runs in a worker thread, so a server that never answers or sends a byte now and then
    keeps nobody past ``end``; the worker stops at ``end`` too.
    """
    stop = threading.Event()
    try:
        return run_by(lambda: _exchange(url, out, end, stop), end, name="geonames-download", grace=0.5,
                      on_late=stop.set)
    except Late:
        raise NetworkError(_late(url)) from None


def _exchange(url: str, out: BinaryIO, end: float, stop: threading.Event) -> int:
    import requests
    import urllib3

    timeout = max(0.1, min(float(settings.http_timeout_s), end - time.monotonic()))
    size = 0
    try:
        with requests.get(url, stream=True, timeout=timeout, headers={"User-Agent": settings.user_agent}) as response:
            if response.status_code != 200:
                raise NetworkError(f"GeoNames answered HTTP {response.status_code} for {url}: check the country code, "
                                   "or retry later")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > settings.max_geonames_zip_bytes:
                raise NetworkError(_too_big(url, int(declared)))
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > settings.max_geonames_zip_bytes:
                    raise NetworkError(_too_big(url, size))
                if stop.is_set() or time.monotonic() > end:
                    raise NetworkError(_late(url))
                out.write(chunk)
    except (requests.ConnectionError, urllib3.exceptions.NewConnectionError, OSError) as exc:
        raise NetworkUnreachable(f"cannot reach {url} ({type(exc).__name__}): check the network, or retry later "
                                 "(`--offline` does without)") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise NetworkError(f"cannot download {url} ({type(exc).__name__}): check the network, or retry later "
                           "(`--offline` does without)") from None
    return size


def _late(url: str) -> str:
    return (f"the download of {url} took too long (over {settings.geonames_deadline_s:g} s, or the build's network "
            "budget): nothing cached; retry later, or raise CORRIDORMAP_NETWORK_BUDGET_S")


def _too_big(url: str, size: int) -> str:
    return (f"{url} is {size_text(size)}, over the {size_text(settings.max_geonames_zip_bytes)} limit for a GeoNames "
            "dump: not downloaded")


def fetch_dumps(countries: list[str],
                deadline: float | None = None) -> tuple[list[Fetched], dict[str, CorridorMapError]]:
    """Fetch each country's dump in turn (see :func:`fetch_dump`); stop when ``deadline`` is reached.

    Returns
    -------
    (fetched, failed)
        The dumps cached, and for each country not fetched, the error that says why.
    """
    fetched: list[Fetched] = []
    failed: dict[str, CorridorMapError] = {}
    for country in countries:
        if deadline is not None and time.monotonic() >= deadline:
            failed[country] = NetworkError("the network budget was spent before its download")
            continue
        progress.step(f"downloading the GeoNames dump of {country} from {dump_url(country)}")
        try:
            fetched.append(fetch_dump(country, deadline))
        except NetworkUnreachable as exc:  # no network: the other countries are not tried
            failed.update({c: exc for c in countries if c not in failed and c not in {f.country for f in fetched}})
            break
        except CorridorMapError as exc:  # not a sound dump, or a cache that cannot be written
            failed[country] = exc
    return fetched, failed


def _failure_file(country: str) -> Path:
    return dumps.dumps_dir() / f"{country.upper()}.failed.json"


def _note_failure(country: str, why: str) -> None:
    from ..files import write_text

    try:
        write_text(_failure_file(country), json.dumps({"when": time.time(), "why": why[:500]}))
    except CorridorMapError:  # a read-only cache: nothing remembered
        pass


def recently_failed(country: str) -> bool:
    """Whether a download of ``country``'s dump failed less than ``settings.geonames_retry_after_s`` ago."""
    path = _failure_file(country)
    try:
        when = float(json.loads(path.read_text(encoding="utf-8"))["when"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return 0 <= time.time() - when < settings.geonames_retry_after_s


def missing(countries: list[str]) -> list[str]:
    """Of ``countries``, those whose dump is not cached and whose last download did not fail lately."""
    have = set(dumps.cached_countries())
    return [c for c in countries if c not in have and not recently_failed(c)]


def fetch_gazetteer(countries: str | list[str], deadline: float | None = None) -> list[Fetched]:
    """Download the GeoNames dumps of ``countries`` ("RU,KZ" or a list) and index them for the gazetteer.

    From then on the resolver finds every populated place, station, port, mine and district of those
    countries (:mod:`geo.text.geonames_dumps`). Every country is tried; what was fetched stays cached.

    Raises
    ------
    InputError
        When a country code is not two letters.
    NetworkError, DataError
        The first failure, once every country was tried (its message names the country's URL).
    """
    from . import gazetteer

    codes = dumps.country_codes(countries)
    fetched, failed = fetch_dumps(codes, deadline)
    if fetched:
        progress.step("indexing the downloaded places for the gazetteer (once per set of countries)")
        gazetteer.load()
    if failed:
        error = type(next(iter(failed.values())))
        raise error("; ".join(f"{c}: {exc.message}" for c, exc in failed.items())
                    + (f" (fetched: {', '.join(f.country for f in fetched)})" if fetched else ""))
    return fetched


#: How the note of a build that found no network starts (the build then goes on offline).
UNREACHABLE_NOTE = "no network: "


def fetch_article_dumps(places: list, deadline: float | None = None) -> tuple[list[Fetched], list[str]]:
    """Fetch, once, the dumps of the countries an article names (places resolved to a country) that are not cached.

    At most ``settings.geonames_auto_max_countries`` countries, the most often named first; a country whose
    download failed lately is skipped (see :func:`missing`).

    Returns
    -------
    (fetched, messages)
        The dumps cached, and one line per country fetched or not, for the build's report.
    """
    counts: dict[str, int] = {}
    for p in places:
        if p is not None and p.feature_code in ("PCLI", "PCLH") and p.country:
            counts[p.country] = counts.get(p.country, 0) + 1
    wanted = sorted(counts, key=lambda c: -counts[c])
    todo = missing(wanted)[:settings.geonames_auto_max_countries]
    if not todo:
        return [], []
    fetched, failed = fetch_dumps(todo, deadline)
    messages = [f"fetched the GeoNames dump of {f.country} ({f.rows:,} place{'s' if f.rows != 1 else ''}, "
                f"{size_text(f.bytes)}) for the "
                f"article's countries, cached in {f.path.parent} (GeoNames, CC BY 4.0; CORRIDORMAP_GEONAMES_AUTO=0 "
                "turns this off)" for f in fetched]
    down = [c for c, exc in failed.items() if isinstance(exc, NetworkUnreachable)]
    if down:
        messages.append(f"{UNREACHABLE_NOTE}the GeoNames dumps of {', '.join(down)} were not fetched "
                        f"({failed[down[0]].message}); the build goes on offline")
    messages += [f"the GeoNames dump of {c} was not fetched ({exc.message}); a build tries again after "
                 f"{settings.geonames_retry_after_s / 3600:g} h, or run `corridormap gazetteer --countries {c}`"
                 for c, exc in failed.items() if c not in down]
    return fetched, messages
