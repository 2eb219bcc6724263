"""Corrections a journalist makes before publishing: a TOML file read by ``--fixes PATH``.

Each ``[[fix]]`` names a mention as the article writes it and either pins it to a GeoNames
place or a point, or drops it::

    [[fix]]
    mention = "Georgia"        # as written in the article (case and accents do not matter)
    geonames_id = 614540       # the country, not the US state

    [[fix]]
    mention = "Samur"
    lat = 41.79
    lon = 48.53

    [[fix]]
    mention = "Lenin"
    drop = true                # not a place
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import settings
from ..core.names import fold
from ..errors import InputError
from ..reading import read_regular

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Fixes:
    """Corrections by folded surface form: ``pins`` (GeoNames id or (lat, lon)) and ``drops``."""

    pins: dict[str, int | tuple[float, float]] = field(default_factory=dict)
    drops: frozenset[str] = frozenset()
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.pins or self.drops)

    def keep(self, mentions: list) -> list:
        """The mentions not dropped."""
        return [m for m in mentions if fold(m.text) not in self.drops]

    def set_by_hand(self, texts) -> bool:
        """Whether any of a place's surface forms was pinned by hand."""
        return any(fold(t) in self.pins for t in texts)


def parse_fixes(data: dict, source: str = "fixes") -> Fixes:
    """Validate parsed TOML (``{"fix": [...]}``) into :class:`Fixes`.

    Raises
    ------
    InputError
        Naming the entry and what is wrong with it.
    """
    entries = data.get("fix", [])
    unknown = set(data) - {"fix"}
    if unknown or not isinstance(entries, list):
        raise InputError(f"{source}: expected only [[fix]] entries, found {', '.join(sorted(unknown)) or 'fix'} "
                         "(see `corridormap build --help`)")
    pins: dict[str, int | tuple[float, float]] = {}
    drops = set()
    for n, entry in enumerate(entries, 1):
        where = f"{source}: fix #{n}"
        if not isinstance(entry, dict) or not isinstance(entry.get("mention"), str) or not entry["mention"].strip():
            raise InputError(f"{where}: needs mention = \"...\" (the name as the article writes it)")
        key = fold(entry["mention"])
        extra = set(entry) - {"mention", "geonames_id", "lat", "lon", "drop", "note"}
        if extra:
            raise InputError(f"{where} ({entry['mention']}): unknown key {', '.join(sorted(extra))}; "
                             "use geonames_id, lat and lon, or drop = true")
        if entry.get("drop") is True:
            drops.add(key)
        elif isinstance(entry.get("geonames_id"), int) and not isinstance(entry.get("geonames_id"), bool):
            gid = entry["geonames_id"]
            if not 0 < gid <= settings.max_geonames_id:
                raise InputError(f"{where} ({entry['mention']}): key 'geonames_id' is {_short(gid)}: give the "
                                 f"place's GeoNames id (a number from 1 to {settings.max_geonames_id:,})")
            pins[key] = gid
        elif all(isinstance(entry.get(k), (int, float)) for k in ("lat", "lon")):
            lat, lon = float(entry["lat"]), float(entry["lon"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError(f"{where} ({entry['mention']}): lat/lon {lat}, {lon} is not on Earth")
            pins[key] = (lat, lon)
        else:
            raise InputError(f"{where} ({entry['mention']}): give geonames_id = N, or lat = .. and lon = .., "
                             "or drop = true")
    return Fixes(pins, frozenset(drops), source)


def _short(number: int) -> str:
    """A number for a message, at most about 20 characters."""
    text = str(number)
    return text if len(text) <= 20 else f"{text[:8]}... ({len(text)} digits)"


def read_fixes(path: str | Path) -> Fixes:
    """Read a corrections file (see the module docstring for the format).

    The file is read through :func:`geo.reading.read_regular`: a regular file of at most
    ``settings.max_fixes_bytes`` (a FIFO or a device is refused at once).

    Raises
    ------
    InputError
        When the file is missing, not a regular file, too large, not UTF-8 TOML, nested
        too deeply, or an entry is malformed.
    """
    path = Path(path)
    raw = read_regular(path, settings.max_fixes_bytes, "corrections file", InputError,
                       "a corrections file holds a few [[fix]] entries; check the --fixes path")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"corrections file {path} is not UTF-8 text ({exc}): save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"corrections file {path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"corrections file {path} is nested too deeply to read: use flat [[fix]] entries") from None
    return parse_fixes(data, str(path))
