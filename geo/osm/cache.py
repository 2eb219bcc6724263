"""Disk cache of assembled layers from live fetches, with a checksum.

One file per layer, ``<settings.cache_dir>/layers/<layer id>.json`` (folders
created for the current user alone, mode 0700): a JSON header line (format,
layer key, byte count and SHA-256 of the payload, when it was fetched, the
detail string, the date of the OSM data and the queries sent), a newline, then the payload, a JSON
object holding the lines and points as GeoJSON feature collections. A file
whose payload does not match its header, or does not parse into frames, is
corrupt: it is deleted and reported, never trusted. Live data expires after
``settings.cache_max_age_days``: an expired entry is fetched again, and used
only when the fetch fails or the build is offline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import files, settings
from ..core.layers import Layer
from ..errors import DataError
from ..reading import read_regular
from .provenance import DataDate, Provenance
from .schema import COLUMNS, normalise

# geopandas is imported where an entry's frames are read: its checksum (a data source's fingerprint) needs none.
if TYPE_CHECKING:
    import geopandas as gpd

FORMAT = "corridormap-layer-cache/1"


def cache_path(layer: Layer) -> Path:
    """Where the layer's cached data lives."""
    return Path(settings.cache_dir) / "layers" / f"{layer.id}.json"


def layer_key(layer: Layer) -> str:
    """Fingerprint of what a fetch depends on: kind, ``[osm]`` table, stations, crossings, countries."""
    spec = {
        "kind": layer.kind,
        "osm": layer.osm,
        "countries": list(layer.countries),
        "stations": [(s.name, s.geonames_id, s.lat, s.lon) for s in layer.stations],
        "crossings": [(c.name, c.lat, c.lon) for c in layer.crossings],
    }
    return sha256(json.dumps(spec, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def frame_to_geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """A frame as a GeoJSON FeatureCollection dict with :data:`COLUMNS` as properties."""
    frame = normalise(frame)
    return frame.to_geo_dict(na="null", drop_id=True)


def frame_from_geojson(collection: dict[str, Any]) -> gpd.GeoDataFrame:
    """Inverse of :func:`frame_to_geojson`."""
    import geopandas as gpd

    features = collection.get("features")
    if not isinstance(features, list):
        raise ValueError("feature collection without 'features'")
    frame = gpd.GeoDataFrame.from_features(features, crs=4326, columns=COLUMNS)
    return normalise(frame)


def write(layer: Layer, lines: gpd.GeoDataFrame, points: gpd.GeoDataFrame, provenance: Provenance,
          queries: list[str]) -> Path:
    """Cache a layer atomically (temporary file, then ``os.replace``), with its detail and data date."""
    payload = json.dumps(
        {"lines": frame_to_geojson(lines), "points": frame_to_geojson(points)},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    header = {
        "format": FORMAT,
        "layer": layer.id,
        "key": layer_key(layer),
        "detail": provenance.detail,
        "osm_timestamp": provenance.data_date.text if provenance.data_date else None,
        "fetched": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "queries": queries,
        "bytes": len(payload),
        "sha256": sha256(payload).hexdigest(),
    }
    data = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + payload
    files.private_dir(settings.cache_dir)
    files.private_dir(cache_path(layer).parent)
    return files.write_bytes(cache_path(layer), data)


@dataclass
class Entry:
    """A layer's cached data and when it was fetched."""

    lines: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    provenance: Provenance  # source "cache"
    fetched: datetime | None  # None: written before fetch times were kept (counts as expired)

    @property
    def detail(self) -> str:
        """Where the data came from, as the legend prints it."""
        return self.provenance.detail

    @property
    def expires(self) -> datetime | None:
        """When the entry stops being fresh (``fetched`` + ``settings.cache_max_age_days``)."""
        return None if self.fetched is None else self.fetched + timedelta(days=settings.cache_max_age_days)

    @property
    def expired(self) -> bool:
        return self.expires is None or datetime.now(timezone.utc) >= self.expires


def read_entry(layer: Layer) -> Entry | None:
    """The cached data of a layer with its fetch time, or None when not cached.

    A cache written for an older definition of the layer (other selectors or
    stations) is stale: it is deleted and None returned.

    Raises
    ------
    DataError
        When the file is corrupt or truncated; it has been deleted, so the
        next run fetches the layer again.
    """
    path = cache_path(layer)
    if not path.exists() and not path.is_symlink():
        return None
    try:
        raw = read_regular(path, settings.max_cache_bytes, "cache file", DataError)
    except DataError as exc:
        return _corrupt(layer, path, exc.message)
    head, sep, payload = raw.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        return _corrupt(layer, path, "its header is not JSON")
    if not isinstance(header, dict) or header.get("format") != FORMAT or not sep:
        return _corrupt(layer, path, "it is not a corridormap layer cache file")
    if header.get("key") != layer_key(layer):
        path.unlink(missing_ok=True)
        return None
    if len(payload) != header.get("bytes"):
        return _corrupt(layer, path, f"truncated: {len(payload)} of {header.get('bytes')} bytes")
    if sha256(payload).hexdigest() != header.get("sha256"):
        return _corrupt(layer, path, "checksum mismatch")
    try:
        body = json.loads(payload)
        lines = frame_from_geojson(body["lines"])
        points = frame_from_geojson(body["points"])
    except RecursionError:
        return _corrupt(layer, path, "its payload is nested too deeply")
    except Exception as exc:  # shapely and pandas raise many kinds for hostile features
        return _corrupt(layer, path, f"unreadable payload ({type(exc).__name__}: {exc})")
    fetched = _time(header.get("fetched"))
    try:
        data_date = DataDate.parse(header.get("osm_timestamp") or None)
    except (TypeError, ValueError):
        data_date = None  # an entry written before dates were kept, or a hand-edited one: undated
    provenance = Provenance("cache", str(header.get("detail", "")), data_date, fetched.date() if fetched else None)
    return Entry(lines, points, provenance, fetched)


def _time(value: Any) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def queries(layer: Layer) -> list[str]:
    """The Overpass queries recorded with the layer's cache (empty when none)."""
    return list(_header(layer).get("queries", []))


def checksum(layer: Layer) -> str | None:
    """The SHA-256 recorded for the layer's cached data, or None when it has none for this definition."""
    value = _header(layer).get("sha256")
    return value if isinstance(value, str) else None


def _header(layer: Layer) -> dict[str, Any]:
    """The header of the layer's cache file when it was written for this definition of the layer, else {}."""
    try:
        with cache_path(layer).open("rb") as f:
            header = json.loads(f.readline())
        return header if isinstance(header, dict) and header.get("key") == layer_key(layer) else {}
    except (OSError, ValueError):
        return {}


def _corrupt(layer: Layer, path: Path, why: str):
    if path.is_dir() and not path.is_symlink():
        raise DataError(f"{layer.id}: the cache entry {path} is a folder: remove it")
    path.unlink(missing_ok=True)
    raise DataError(
        f"{layer.id}: the cached OSM data {path} was corrupt ({why}) and has been deleted; "
        "it is fetched again from Overpass"
    )
