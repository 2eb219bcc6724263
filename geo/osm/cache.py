"""Disk cache of assembled layers from live fetches, with a checksum.

One file per layer, ``<settings.cache_dir>/layers/<layer id>.json``: a JSON
header line (format, layer key, byte count and SHA-256 of the payload, the
detail string and the queries sent), a newline, then the payload, a JSON
object holding the lines and points as GeoJSON feature collections. A file
whose payload does not match its header is corrupt: it is deleted and
reported, never trusted.
"""

from __future__ import annotations

import json
from hashlib import sha256
from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import files, settings
from ..errors import DataError
from ..corridors.layers import Layer
from .schema import COLUMNS, normalise

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
    features = collection.get("features")
    if not isinstance(features, list):
        raise ValueError("feature collection without 'features'")
    frame = gpd.GeoDataFrame.from_features(features, crs=4326, columns=COLUMNS)
    return normalise(frame)


def write(layer: Layer, lines: gpd.GeoDataFrame, points: gpd.GeoDataFrame, detail: str, queries: list[str]) -> Path:
    """Cache a layer atomically (temporary file, then ``os.replace``)."""
    payload = json.dumps(
        {"lines": frame_to_geojson(lines), "points": frame_to_geojson(points)},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    header = {
        "format": FORMAT,
        "layer": layer.id,
        "key": layer_key(layer),
        "detail": detail,
        "queries": queries,
        "bytes": len(payload),
        "sha256": sha256(payload).hexdigest(),
    }
    data = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + payload
    return files.write_bytes(cache_path(layer), data)


def read(layer: Layer) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str] | None:
    """The cached ``(lines, points, detail)`` of a layer, or None when not cached.

    A cache written for an older definition of the layer (other selectors or
    stations) is stale: it is deleted and None returned.

    Raises
    ------
    DataError
        When the file is corrupt or truncated; it has been deleted, so the
        next run fetches the layer again.
    """
    path = cache_path(layer)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _corrupt(layer, path, f"unreadable ({exc})")
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
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return _corrupt(layer, path, f"unreadable payload ({exc})")
    return lines, points, str(header.get("detail", ""))


def queries(layer: Layer) -> list[str]:
    """The Overpass queries recorded with the layer's cache (empty when none)."""
    try:
        header = json.loads(cache_path(layer).read_bytes().partition(b"\n")[0])
        return list(header.get("queries", [])) if header.get("key") == layer_key(layer) else []
    except (OSError, ValueError, AttributeError):
        return []


def _corrupt(layer: Layer, path: Path, why: str):
    path.unlink(missing_ok=True)
    raise DataError(
        f"{layer.id}: the cached OSM data {path} was corrupt ({why}) and has been deleted; "
        "it is fetched again from Overpass"
    )
