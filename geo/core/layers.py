"""Read and validate the declarative layer files in ``layers/``.

A layer file (TOML) describes one corridor or border: its title, style, the
ordered stations (or border crossings), the OSM selectors used to fetch its
data and the sources of its facts. Adding a corridor means adding a file.
"""

from __future__ import annotations

import builtins
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .. import settings
from ..errors import LayerError
from ..reading import read_regular
from .kinds import KINDS
from .selectors import filter_problem

ROLES = ("terminus", "junction", "station", "port", "border", "anchor")
STATUSES = ("rail", "construction", "planned", "ferry")
MODES = ("rail", "road")
#: Layer ids that would overwrite another output (``index.html`` holds all layers).
RESERVED_IDS = ("index",)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: ``[osm]`` keys that are buffers in km, and their largest accepted value.
_BUFFER_KEYS = ("query_buffer_km", "clip_buffer_km")
MAX_BUFFER_KM = 1000.0


@dataclass(frozen=True)
class Station:
    """A named waypoint of a corridor, in route order."""

    name: str
    country: str
    role: str = "station"
    local_name: str = ""
    geonames_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    position_source: str = ""
    label_zoom: int = 4
    note: str = ""
    #: Other names the news uses (older names, other romanisations, the port's name): found in articles.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    """Facts about the leg between two consecutive stations."""

    start: str
    end: str
    status: str = "rail"
    note: str = ""
    #: Points (lat, lon) a schematic leg passes through from ``start`` to ``end`` (e.g. to stay on land).
    via: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Crossing:
    """A named border crossing (checkpoint), with its name on each side of the border."""

    name: str
    mode: str
    lat: float
    lon: float
    approximate: bool = False
    position_source: str = ""
    capacity: str = ""
    #: The checkpoint's name on each side: ((ISO country code, name), ...) in the layer's ``countries`` order.
    names: tuple[tuple[str, str], ...] = ()
    #: Other names the news uses for the crossing (a bridge's name, an older name).
    aliases: tuple[str, ...] = ()

    def side_names(self, country_name=str) -> str:
        """The names on each side as one line, e.g. "Russia: Самур; Azerbaijan: Yalama".

        ``country_name`` turns an ISO code into the name shown (default: the code).
        """
        return "; ".join(f"{country_name(code)}: {name}" for code, name in self.names)


@dataclass(frozen=True)
class Layer:
    """One layer definition, as read from ``layers/<id>.toml``."""

    id: str
    kind: str
    title: str
    subtitle: str
    description: str
    color: str
    weight: int
    path: Path
    aliases: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    stations: tuple[Station, ...] = ()
    segments: tuple[Segment, ...] = ()
    crossings: tuple[Crossing, ...] = ()
    osm: dict[str, Any] = field(default_factory=dict)
    notes: tuple[dict[str, str], ...] = ()

    def segment(self, start: str, end: str) -> Segment:
        """Return the facts for the leg ``start`` -> ``end`` (default: in service)."""
        for seg in self.segments:
            if (seg.start, seg.end) in ((start, end), (end, start)):
                return seg
        return Segment(start, end)


def layer_files(layers_dir: Path | None = None) -> list[Path]:
    """Return the layer files in ``layers_dir`` (default: ``settings.layers_dir`` and the user's own
    in ``settings.user_layers_dir``, whose files replace shipped ones of the same id), sorted by id."""
    folder = Path(layers_dir or settings.layers_dir)
    if not folder.is_dir():
        raise LayerError(f"layer folder {folder} does not exist: set CORRIDORMAP_LAYERS to the folder of layer files")
    paths = {p.stem: p for p in folder.glob("*.toml")}
    user = Path(settings.user_layers_dir) if layers_dir is None and settings.user_layers_dir else None
    if user is not None and user.is_dir() and user.resolve() != folder.resolve():
        paths.update({p.stem: p for p in user.glob("*.toml")})
    if not paths:
        raise LayerError(f"layer folder {folder} holds no layer files (*.toml): add one (see layers/bam.toml) "
                         "or set CORRIDORMAP_LAYERS to the folder of layer files")
    return [paths[stem] for stem in sorted(paths)]


def list_layers(layers_dir: Path | None = None) -> list[Layer]:
    """Read every layer definition.

    Returns
    -------
    list of Layer
        Sorted by file name.
    """
    return [read_layer(path) for path in layer_files(layers_dir)]


def load_layer(layer_id: str, layers_dir: Path | None = None) -> Layer:
    """Read the layer called ``layer_id``.

    Raises
    ------
    LayerError
        If no such layer exists (the message lists the known ids) or its file is malformed.
    """
    paths = layer_files(layers_dir)
    for path in paths:
        if path.stem == layer_id:
            return read_layer(path)
    known = ", ".join(p.stem for p in paths) or "none"
    raise LayerError(f"unknown layer {layer_id!r}: known layers are {known} (see `corridormap layers`)")


def read_layer(path: Path) -> Layer:
    """Parse and validate one layer file.

    Raises
    ------
    LayerError
        Naming the file, the line or key at fault, and what to do.
    """
    path = Path(path)
    data = read_regular(path, settings.max_layer_file_bytes, "layer file", LayerError, "split it or remove it")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LayerError(f"{path}: not valid TOML ({exc}): fix the syntax at that line") from None
    except UnicodeDecodeError as exc:
        raise LayerError(f"{path}: not UTF-8 text ({exc}): save the layer file as UTF-8") from None
    except RecursionError:
        raise LayerError(f"{path}: nested too deeply to read: flatten its tables and arrays") from None
    return _parse_layer(raw, path)


def _parse_layer(raw: dict[str, Any], path: Path) -> Layer:
    get = _Getter(raw, path, "")
    layer_id = get.str("id")
    if layer_id != path.stem:
        raise LayerError(f"{path}: key 'id' is {layer_id!r} but the file is named {path.name}: make them match")
    if not _ID.match(layer_id):
        raise LayerError(f"{path}: key 'id' is {layer_id!r}: use lower-case letters, digits, '-' and '_' "
                         "(at most 64), and rename the file to match")
    if layer_id in RESERVED_IDS:
        raise LayerError(f"{path}: the layer id {layer_id!r} is reserved ({layer_id}.html is the map of all "
                         "layers): rename the layer and its file")
    kind = get.choice("kind", tuple(KINDS))
    style = _Getter(get.table("style"), path, "style.")
    layer = dict(
        id=layer_id,
        kind=kind,
        title=get.str("title"),
        subtitle=get.str("subtitle", ""),
        description=get.str("description", ""),
        color=style.str("color"),
        weight=style.int("weight", 4),
        path=path,
        aliases=tuple(get.str_list("aliases", [])),
        countries=tuple(get.str_list("countries", [])),
        osm=_parse_osm(get.table("osm", {}), path),
        notes=tuple(_parse_note(n, path, i) for i, n in enumerate(get.table_list("notes"))),
    )
    stations = tuple(_parse_station(s, path, i) for i, s in enumerate(get.table_list("stations")))
    crossings = tuple(_parse_crossing(c, path, i, layer["countries"]) for i, c in enumerate(get.table_list("crossings")))
    problem = KINDS[kind].problem(len(stations), len(layer["countries"]))
    if problem:
        raise LayerError(f"{path}: {problem}")
    names = [s.name for s in stations]
    segments = []
    for i, s in enumerate(get.table_list("segments")):
        seg = _Getter(s, path, f"segments[{i}].")
        start, end = seg.str("from"), seg.str("to")
        for name, key in ((start, "from"), (end, "to")):
            if name not in names:
                raise LayerError(
                    f"{path}: segments[{i}].{key} names unknown station {name!r}: "
                    f"use one of the [[stations]] names ({', '.join(names)})"
                )
        segments.append(Segment(start, end, seg.choice("status", STATUSES, "rail"), seg.str("note", ""),
                                seg.points("via")))
    return Layer(stations=stations, crossings=crossings, segments=tuple(segments), **layer)


def _parse_osm(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Check the ``[osm]`` table: selectors well formed, buffers in range, relation id a positive number."""
    get = _Getter(raw, path, "osm.")
    for key in ("way_filter", "boundary_filter", "crossing_node_filter"):
        _check_selector(path, f"osm.{key}", get.str(key, None))
    for n, selector in enumerate(get.str_list("crossing_way_filters", [])):
        _check_selector(path, f"osm.crossing_way_filters[{n}]", selector)
    for key in _BUFFER_KEYS:
        value = get.float(key, None)
        if value is not None and not 0 < value <= MAX_BUFFER_KM:
            raise LayerError(f"{path}: key 'osm.{key}' is {value!r}: give a distance in km above 0 and at most "
                             f"{MAX_BUFFER_KM:g}")
    relation = get.int("route_relation_id", None)
    if relation is not None and relation <= 0:
        raise LayerError(f"{path}: key 'osm.route_relation_id' is {relation}: give the relation's positive OSM id")
    get.str("route_relation_name", None)
    return raw


def _check_selector(path: Path, key: str, selector: str | None) -> None:
    problem = filter_problem(selector) if selector is not None else None
    if problem:
        raise LayerError(f"{path}: key '{key}': {problem}: fix the selector")


def _parse_station(raw: Any, path: Path, i: int) -> Station:
    get = _Getter(raw, path, f"stations[{i}].")
    lat, lon = get.lat("lat", None), get.lon("lon", None)
    gid = get.int("geonames_id", None)
    if gid is not None and gid <= 0:
        raise LayerError(f"{path}: key 'stations[{i}].geonames_id' is {gid}: give the place's positive GeoNames id")
    if gid is None and (lat is None or lon is None):
        raise LayerError(
            f"{path}: stations[{i}] ({get.str('name')}) needs 'geonames_id' or both 'lat' and 'lon' "
            "(with 'position_source'): add one"
        )
    return Station(
        name=get.str("name"),
        country=get.str("country"),
        role=get.choice("role", ROLES, "station"),
        local_name=get.str("local_name", ""),
        geonames_id=gid,
        lat=lat,
        lon=lon,
        position_source=get.str("position_source", ""),
        label_zoom=get.int("label_zoom", 4),
        note=get.str("note", ""),
        aliases=tuple(get.str_list("aliases", [])),
    )


def _parse_crossing(raw: Any, path: Path, i: int, countries: tuple[str, ...]) -> Crossing:
    get = _Getter(raw, path, f"crossings[{i}].")
    sides = get.table("names", {})
    for code, value in sides.items():
        if code not in countries:
            raise LayerError(f"{path}: crossings[{i}].names has key {code!r}, which is not one of the layer's "
                             f"countries ({', '.join(countries) or 'none given'}): use those ISO codes")
        if not isinstance(value, str):
            raise LayerError(f"{path}: key 'crossings[{i}].names.{code}' must be a string, not "
                             f"{type(value).__name__} {value!r}: fix its value")
    return Crossing(
        name=get.str("name"),
        names=tuple((code, sides[code]) for code in countries if code in sides),
        mode=get.choice("mode", MODES),
        lat=get.lat("lat"),
        lon=get.lon("lon"),
        approximate=get.bool("approximate", False),
        position_source=get.str("position_source", ""),
        capacity=get.str("capacity", ""),
        aliases=tuple(get.str_list("aliases", [])),
    )


def _parse_note(raw: Any, path: Path, i: int) -> dict[str, str]:
    get = _Getter(raw, path, f"notes[{i}].")
    return {"text": get.str("text"), "source": get.str("source", "")}


_MISSING = object()


class _Getter:
    """Typed access to a TOML table that raises :class:`LayerError` naming file and key."""

    def __init__(self, table: Any, path: Path, prefix: str):
        if not isinstance(table, dict):
            raise LayerError(f"{path}: {prefix.rstrip('.') or 'file'} must be a table: see layers/bam.toml for the format")
        self.data, self.path, self.prefix = table, path, prefix

    def _get(self, key: str, default: Any, types: tuple[type, ...], what: str) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise LayerError(f"{self.path}: missing key '{self.prefix}{key}' ({what}): add it")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            raise LayerError(
                f"{self.path}: key '{self.prefix}{key}' must be {what}, not {type(value).__name__} {value!r}: fix its value"
            )
        return value

    def str(self, key: str, default: Any = _MISSING) -> Any:
        return self._get(key, default, (str,), "a string")

    def int(self, key: builtins.str, default: Any = _MISSING) -> Any:
        return self._get(key, default, (int,), "a whole number")

    def float(self, key: builtins.str, default: Any = _MISSING) -> Any:
        value = self._get(key, default, (int, float), "a number")
        if value is not None and not math.isfinite(value):
            raise LayerError(f"{self.path}: key '{self.prefix}{key}' is {value!r}: give a finite number")
        return None if value is None else float(value)

    def lat(self, key: builtins.str, default: Any = _MISSING) -> Any:
        return self._degrees(key, default, 90.0, "a latitude")

    def lon(self, key: builtins.str, default: Any = _MISSING) -> Any:
        return self._degrees(key, default, 180.0, "a longitude")

    def _degrees(self, key: builtins.str, default: Any, limit: builtins.float, what: builtins.str) -> Any:
        value = self.float(key, default)
        if value is not None and not -limit <= value <= limit:
            raise LayerError(f"{self.path}: key '{self.prefix}{key}' is {value!r}: give {what} in decimal degrees, "
                             f"between -{limit:g} and {limit:g}")
        return value

    def points(self, key: builtins.str) -> tuple[tuple[builtins.float, builtins.float], ...]:
        """A list of ``[lat, lon]`` pairs in decimal degrees (empty when the key is absent)."""
        value = self._get(key, [], (list,), "a list of [lat, lon] pairs")
        out = []
        for i, pair in enumerate(value):
            ok = (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, (int, float))
                  and not isinstance(v, bool) and math.isfinite(v) for v in pair))
            if not ok or not (-90 <= pair[0] <= 90 and -180 <= pair[1] <= 180):
                raise LayerError(f"{self.path}: key '{self.prefix}{key}[{i}]' is {pair!r}: give [lat, lon] in "
                                 "decimal degrees, e.g. [37.8, 48.9]")
            out.append((float(pair[0]), float(pair[1])))
        return tuple(out)

    def bool(self, key: builtins.str, default: Any = _MISSING) -> Any:
        return self._get(key, default, (bool,), "true or false")

    def table(self, key: builtins.str, default: Any = _MISSING) -> Any:
        return self._get(key, default, (dict,), "a table")

    def table_list(self, key: builtins.str) -> list:
        return self._get(key, [], (list,), "an array of tables ([[...]])")

    def str_list(self, key: builtins.str, default: Any = _MISSING) -> list[builtins.str]:
        value = self._get(key, default, (list,), "a list of strings")
        if not all(isinstance(v, str) for v in value):
            raise LayerError(f"{self.path}: key '{self.prefix}{key}' must be a list of strings: fix its items")
        return value

    def choice(self, key: builtins.str, options: tuple[builtins.str, ...], default: Any = _MISSING) -> Any:
        value = self.str(key, default)
        if value not in options:
            raise LayerError(f"{self.path}: key '{self.prefix}{key}' is {value!r}: use one of {', '.join(options)}")
        return value


def infrastructure_aliases(layers_dir: Path | None = None) -> dict[str, str]:
    """Map each alias of named infrastructure (``"BAM"``, ``"INSTC"``) to its layer id."""
    return {alias: layer.id for layer in list_layers(layers_dir) for alias in (layer.title, *layer.aliases)}
