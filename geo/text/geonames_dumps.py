"""The whole GeoNames of a country: its cached dump (``XX.zip``) read, checked and laid over the gazetteer.

``corridormap gazetteer --countries RU,KZ`` (:mod:`geo.text.geonames_fetch`) downloads GeoNames country
dumps into ``<cache>/geonames/`` (private: 0700 folder, 0600 files). This module reads them:

- :func:`read_dump` checks a dump (a zip holding ``XX.txt``: size caps on the zip and the text, the zip's
  CRC, 19 tab-separated columns per row, ids and coordinates that are numbers on the globe, the
  country code) and yields the rows the gazetteer wants (``settings.geonames_dump_codes``: every
  populated place, divisions below the first level, stations, border posts, mines, ports);
- :func:`overlay` builds, once per set of cached dumps and base gazetteer, a second index of those
  places the base gazetteer lacks (by GeoNames id), saved beside the dumps as a checked file
  (:mod:`geo.cachefile`, no pickle);
- :func:`with_dumps` lays that index over the base gazetteer (:class:`ChainedEntries`,
  :class:`ChainedIndex`): the base is never rebuilt, and without dumps nothing changes.

Data: GeoNames (https://www.geonames.org/), CC BY 4.0.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import cachefile, progress, settings
from ..core.names import fold, is_cyrillic, variant_key
from ..core.place import Place
from ..errors import DataError
from ..files import private_dir
from ..reading import open_regular, size_text
from .gazetteer_store import ChainedEntries, ChainedIndex, Entries, Gazetteer, NameIndex

log = logging.getLogger(__name__)

#: Bump when what an overlay holds changes.
OVERLAY_FORMAT = "corridormap-geonames-overlay/1"
#: A GeoNames dump row: geonameid, name, asciiname, alternatenames, latitude, longitude, feature class,
#: feature code, country code, cc2, admin1..admin4 codes, population, elevation, dem, timezone, modification date.
COLUMNS = 19
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ALLOWED_ALT = re.compile(r"^[a-z0-9 \u0400-\u04ff&()]+$")
#: How a dump's feature codes enter the gazetteer: (feature class, feature code) of the entry, so the
#: resolver weighs them like the base gazetteer's towns, stations and ports.
_ENTRY_CODES = {"RSTN": ("P", "STN"), "RSTNQ": ("P", "STN"), "RSTP": ("P", "STN"), "RSTPQ": ("P", "STN"),
                "RYD": ("P", "STN"), "PRT": ("P", "PRT"), "HBR": ("P", "PRT"), "PSTB": ("S", "PSTB"),
                "PSTC": ("S", "PSTB")}


def country_codes(text: str | Iterable[str]) -> list[str]:
    """ISO 3166-1 alpha-2 codes from ``"RU,kz, TM"`` (or a list), upper case, each once.

    Raises
    ------
    InputError
        When a code is not two letters.
    """
    from ..errors import InputError

    parts = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for part in parts:
        code = str(part).strip().upper()
        if not code:
            continue
        if not _COUNTRY.match(code):
            raise InputError(f"{str(part).strip()[:20]!r} is not a country code: give ISO 3166-1 alpha-2 codes "
                             "such as RU,KZ,AZ")
        if code not in out:
            out.append(code)
    if not out:
        raise InputError("no country code given: give ISO 3166-1 alpha-2 codes such as RU,KZ,AZ")
    return out


def dumps_dir() -> Path:
    """The folder of cached GeoNames dumps: ``<settings.cache_dir>/geonames``."""
    return Path(settings.cache_dir) / "geonames"


def dump_path(country: str) -> Path:
    """Where the dump of ``country`` (ISO alpha-2) is cached."""
    return dumps_dir() / f"{country.upper()}.zip"


def cached_countries() -> list[str]:
    """The countries whose dump is cached, sorted."""
    folder = dumps_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.zip") if _COUNTRY.match(p.stem) and p.is_file())


class DumpRow(NamedTuple):
    """One GeoNames feature of a dump, as the gazetteer takes it."""

    geonames_id: int
    name: str
    ascii_name: str
    alt_names: list[str]
    lat: float
    lon: float
    feature_class: str
    feature_code: str
    admin1: str
    population: int


def read_dump(path: str | Path, country: str) -> Iterator[DumpRow]:
    """Check the dump at ``path`` for ``country`` and yield its rows the gazetteer wants.

    Every row is checked (the whole text is read, so the zip's CRC is checked too); the rows of other
    features are skipped. At most ``settings.geonames_max_bad_share`` of the rows may be malformed.

    Raises
    ------
    DataError
        When the file is not a zip, lacks ``XX.txt``, is over a size cap, fails its CRC, or has too many
        malformed rows (or none good), naming the file and what to do.
    """
    path = Path(path)
    country = country.upper()
    fix = f"delete it and run `corridormap gazetteer --countries {country}` again"
    with open_regular(path, "GeoNames dump", DataError) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > settings.max_geonames_zip_bytes:
            raise DataError(f"GeoNames dump {path} is {size_text(size)}, over the "
                            f"{size_text(settings.max_geonames_zip_bytes)} limit: {fix}")
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DataError(f"GeoNames dump {path} is not a zip file ({exc}): {fix}") from None
        with archive:
            member = f"{country}.txt"
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise DataError(f"GeoNames dump {path} holds no {member}: {fix}") from None
            if info.file_size > settings.max_geonames_text_bytes:
                raise DataError(f"{member} in GeoNames dump {path} is {size_text(info.file_size)}, over the "
                                f"{size_text(settings.max_geonames_text_bytes)} limit: {fix}")
            yield from _rows(archive, info, path, country, fix)


def _rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, country: str, fix: str) -> Iterator[DumpRow]:
    good = bad = read = 0
    first_bad = ""
    try:
        with archive.open(info) as raw:
            for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n"), 1):
                read += len(line)  # characters: at least a quarter of the bytes
                if read > settings.max_geonames_text_bytes:
                    raise DataError(f"{info.filename} in GeoNames dump {path} is over the "
                                    f"{size_text(settings.max_geonames_text_bytes)} limit: {fix}")
                row, why = _parse(line.rstrip("\n"), country)
                if why:
                    bad += 1
                    first_bad = first_bad or f"line {number}: {why}"
                    continue
                good += 1
                if row is not None:
                    yield row
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"GeoNames dump {path} is corrupt ({type(exc).__name__}: {exc}): {fix}") from None
    if not good or bad > settings.geonames_max_bad_share * (good + bad):
        raise DataError(f"GeoNames dump {path} has {bad} malformed rows of {good + bad} (first: {first_bad or 'none'}; "
                        f"a GeoNames dump has {COLUMNS} tab-separated columns per row): {fix}")


def _parse(line: str, country: str) -> tuple[DumpRow | None, str]:
    """(the row if the gazetteer wants it, else None; "" or why the line is malformed)."""
    cols = line.split("\t")
    if len(cols) != COLUMNS:
        return None, f"{len(cols)} columns, not {COLUMNS}"
    gid, name, ascii_name, alts, lat, lon, fclass, fcode, cc = cols[:9]
    if not gid.isdigit() or int(gid) > settings.max_geonames_id:
        return None, f"geonameid {gid[:20]!r} is not a GeoNames id"
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        return None, "latitude or longitude is not a number"
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        return None, f"({lat}, {lon}) is not on the globe"
    if cc != country:
        return None, f"country code {cc[:8]!r}, not {country}"
    population = cols[14]
    if population and not population.lstrip("-").isdigit():
        return None, f"population {population[:20]!r} is not a number"
    wanted = settings.geonames_dump_codes.get(fclass, ())
    if not name or (wanted is not None and fcode not in wanted):
        return None, ""
    return DumpRow(int(gid), name, ascii_name, alts.split(",") if alts else [], y, x, fclass, fcode, cols[10],
                   max(0, int(population or 0))), ""


def check_dump(path: str | Path, country: str) -> int:
    """Read the whole dump at ``path`` (see :func:`read_dump`); return how many rows the gazetteer takes from it."""
    return sum(1 for _ in read_dump(path, country))


# --------------------------------------------------------------------------- the overlay index


def _entry(row: DumpRow, country: str) -> Place:
    fclass, fcode = _ENTRY_CODES.get(row.feature_code, (row.feature_class, row.feature_code))
    if fclass == "P" and fcode not in ("STN", "PRT"):
        fcode = "PPL"  # weighed like the base gazetteer's towns (its capitals are there already)
    elif fclass == "A":
        fcode = "ADMD"  # a district: not a first-level division, and not weighed like a US county (ADM2)
    elif fclass in ("L", "S") and fcode not in ("PSTB",):
        fclass, fcode = "S", "MN" if fcode.startswith("MN") else fcode
    local = next((a for a in row.alt_names if is_cyrillic(a) and not a.isupper()), "") if country in _CYRILLIC else ""
    return Place(row.name, country, row.lat, row.lon, row.geonames_id, fclass, fcode, row.population,
                 f"{country}.{row.admin1}", local)


_CYRILLIC = {"RU", "BY", "UA", "KZ", "KG", "TJ", "BG", "RS", "MK", "MN"}


class _Names:
    """Name keys -> entry ids, by the base gazetteer's rules (official names of 3+ characters; alternate
    names Latin or Cyrillic; romanisation keys of Latin names as alternate names)."""

    def __init__(self) -> None:
        self.names: dict[str, list[int]] = {}
        self.alt: dict[str, list[int]] = {}
        self._folded: dict[str, str] = {}  # a country's places share many names: each is folded once
        self._variants: dict[str, str] = {}

    def _fold(self, name: str) -> str:
        k = self._folded.get(name)
        if k is None:
            k = self._folded[name] = fold(name)
        return k

    def _variant(self, key: str) -> str:
        v = self._variants.get(key)
        if v is None:
            v = self._variants[key] = variant_key(key)
        return v

    def add(self, i: int, names: list[str], alt_names: list[str], populated: bool) -> None:
        seen: set[str] = set()
        for n in names:
            k = self._fold(n)
            if k and k not in seen and (len(k) >= 3 or n.isupper()):
                seen.add(k)
                self.names.setdefault(k, []).append(i)
        for n in alt_names:
            if len(n) < 3 or (n.isupper() and len(n) <= 4 and populated):
                continue
            k = self._fold(n)
            if k and k not in seen and _ALLOWED_ALT.match(k):
                seen.add(k)
                self.alt.setdefault(k, []).append(i)
        for k in list(seen):
            if len(k) >= 4 and k.isascii():
                v = self._variant(k)
                if v != k and v not in seen:
                    seen.add(v)
                    self.alt.setdefault(v, []).append(i)


def _fingerprint(countries: Sequence[str]) -> str:
    """What identifies the cached dumps of ``countries`` (name, size, modification time)."""
    parts = []
    for c in countries:
        st = dump_path(c).stat()
        parts.append(f"{c}:{st.st_size}:{st.st_mtime_ns}")
    return ",".join(parts)


def overlay_key(base_key: str, n_base: int, countries: Sequence[str]) -> str:
    """The key of the overlay of ``countries`` over the base gazetteer ``base_key`` (of ``n_base`` entries)."""
    h = hashlib.sha1(f"{OVERLAY_FORMAT}|{base_key}|{n_base}|{_fingerprint(countries)}".encode())
    h.update(Path(__file__).read_bytes())
    h.update(repr(sorted((k, sorted(v) if v else None) for k, v in settings.geonames_dump_codes.items())).encode())
    return h.hexdigest()[:16]


def overlay_path(key: str) -> Path:
    """The file of the overlay index ``key``."""
    return dumps_dir() / f"index-{key}.bin"


def build_overlay(base: Gazetteer, countries: Sequence[str]) -> tuple[Entries, NameIndex, NameIndex]:
    """The places of the cached dumps of ``countries`` that ``base`` lacks (by GeoNames id), and their name
    indexes, whose ids count on from the base's entries.

    Raises
    ------
    DataError
        When a cached dump is corrupt (see :func:`read_dump`).
    """
    known = np.unique(base.entries.column("geonames_id"))
    n_base = len(base.entries)
    places: list[Place] = []
    names = _Names()
    for country in countries:
        progress.step(f"indexing the GeoNames dump of {country} (once)")
        for row in read_dump(dump_path(country), country):
            at = int(known.searchsorted(row.geonames_id))
            if at < len(known) and known[at] == row.geonames_id:
                continue  # the base gazetteer has it, with its names
            entry = _entry(row, country)
            names.add(n_base + len(places), [row.name, row.ascii_name], row.alt_names, entry.feature_class == "P")
            places.append(entry)
    return Entries.from_places(places), NameIndex.from_dict(names.names), NameIndex.from_dict(names.alt)


def _write(path: Path, key: str, parts: tuple[Entries, NameIndex, NameIndex]) -> None:
    entries, names, alt = parts
    arrays, meta = entries.to_arrays()
    arrays.update(names.to_arrays("names_"))
    arrays.update(alt.to_arrays("alt_"))
    cachefile.write_arrays(path, OVERLAY_FORMAT, key, arrays, meta)


def _read(path: Path, key: str, n_base: int) -> tuple[Entries, NameIndex, NameIndex] | None:
    got = cachefile.read_arrays(path, OVERLAY_FORMAT, key)
    if got is None:
        return None
    arrays, meta = got
    try:
        entries = Entries.from_arrays(arrays, meta)
        names, alt = NameIndex.from_arrays(arrays, "names_"), NameIndex.from_arrays(arrays, "alt_")
        for index in (names, alt):
            index.check(n_base + len(entries))
            ids = arrays["names_ids" if index is names else "alt_ids"]
            if len(ids) and ids.min() < n_base:
                raise ValueError("overlay index points into the base gazetteer")
        return entries, names, alt
    except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError):
        path.unlink(missing_ok=True)
        return None


def overlay(base: Gazetteer, base_key: str, countries: Sequence[str]) -> tuple[Entries, NameIndex, NameIndex]:
    """The overlay index of the cached dumps of ``countries`` over ``base``: read from its file, else built
    and saved (older overlay files in the folder are removed)."""
    key = overlay_key(base_key, len(base.entries), countries)
    path = overlay_path(key)
    got = _read(path, key, len(base.entries))
    if got is None:
        got = build_overlay(base, countries)
        _write(path, key, got)
        for old in sorted(dumps_dir().glob("index-*.bin"), key=lambda p: p.stat().st_mtime)[:-4]:
            old.unlink(missing_ok=True)  # keep a few (one per layer catalogue in use)
    return got


# --------------------------------------------------------------------------- the gazetteer with its dumps


_LOCK = threading.Lock()
#: (cache folder, base key) -> (dump fingerprint, the gazetteer with them); dropped by :func:`forget`.
_MERGED: dict[tuple[str, str], tuple[str, Gazetteer]] = {}
#: cache folder -> (when looked, its cached countries, their fingerprint): listed at most once a second.
_LISTED: dict[str, tuple[float, list[str], str]] = {}


def forget() -> None:
    """Forget what was read of the cached dumps (after a dump is added or removed in this process)."""
    with _LOCK:
        _MERGED.clear()
        _LISTED.clear()


def present() -> tuple[list[str], str]:
    """The cached countries and their fingerprint, looked up at most once a second per cache folder (the
    gazetteer is asked for often)."""
    folder = str(settings.cache_dir)
    now = time.monotonic()
    seen = _LISTED.get(folder)
    if seen is None or now - seen[0] > 1.0:
        countries = cached_countries()
        try:
            fingerprint = _fingerprint(countries)
        except OSError:  # a dump went away meanwhile
            countries, fingerprint = [], ""
        seen = _LISTED[folder] = (now, countries, fingerprint)
    return seen[1], seen[2]


def dumps_key() -> str:
    """A key of the cached dumps in use ("" when none), for what is remembered per gazetteer."""
    countries, fingerprint = present()
    if not countries:
        return ""
    return "|gn:" + hashlib.sha1(fingerprint.encode()).hexdigest()[:12]


def with_dumps(base: Gazetteer, base_key: str) -> Gazetteer:
    """``base`` with the places of the cached GeoNames dumps laid over it (``base`` itself when none is cached).

    A corrupt dump is reported (a warning on stderr) and left out, never trusted.
    """
    countries, fingerprint = present()
    if not countries:
        return base
    folder = str(settings.cache_dir)
    got = _MERGED.get((folder, base_key))
    if got is not None and got[0] == fingerprint:
        return got[1]
    with _LOCK:
        try:
            entries, names, alt = overlay(base, base_key, countries)
        except DataError as exc:
            log.warning("%s; the gazetteer does without the GeoNames dumps until then", exc.message)
            _MERGED[(folder, base_key)] = (fingerprint, base)
            return base
        merged = base._replace(entries=ChainedEntries(base.entries, entries),
                               names=ChainedIndex(base.names, names), alt_names=ChainedIndex(base.alt_names, alt))
        if len(_MERGED) >= 4:
            _MERGED.clear()
        _MERGED[(folder, base_key)] = (fingerprint, merged)
        return merged


def prepare_cache() -> Path:
    """The dumps folder, created private (0700) with the cache folder."""
    private_dir(settings.cache_dir)
    return private_dir(dumps_dir())
