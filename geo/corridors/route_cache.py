"""Disk cache of built layers: a warm build with unchanged inputs reads the routed result back.

One checked file per layer (:mod:`geo.cachefile`), ``<settings.cache_dir>/routes/<layer id>.bin``,
holding the layer's feature frame (legs, lengths, stations, crossings) with where its data came
from. Its key is a hash of everything the result depends on: the layer file's bytes, the input
data (:meth:`geo.osm.source.Source.fingerprint`: a content hash of the OSM files or snapshot, or
the cache entry's checksum), the routing settings and the code that builds layers. Any change
to one of them misses the cache and the layer is rebuilt; a corrupt file is deleted and rebuilt.

Geometries are stored as WKB and attributes as JSON (exact for floats), so a layer read back
draws byte-identical maps.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import cachefile, settings
from ..core.layers import Layer

FORMAT = "corridormap-route-cache/2"
#: Code whose behaviour shapes a built layer: a change to any of these files misses the cache.
CODE = ("corridors/*.py", "osm/*.py", "geodesy.py", "geonames.py", "cachefile.py")

#: Layers read or written in this process: path -> (key, the file's size and mtime, the layer).
_memory: dict[str, tuple[str, tuple[int, int], CachedLayer]] = {}


@dataclass(frozen=True)
class CachedLayer:
    """A built layer as cached: its features and where its data came from."""

    frame: gpd.GeoDataFrame
    source: str
    detail: str
    warnings: tuple[str, ...]
    data_date: str | None = None  # the OSM data's date (geo.osm.provenance.DataDate.text), when known


def cache_path(layer: Layer) -> Path:
    """Where the layer's routed result is cached."""
    return Path(settings.cache_dir) / "routes" / f"{layer.id}.bin"


def route_key(layer: Layer, data_key: str) -> str:
    """The cache key of ``layer`` built from the data identified by ``data_key``."""
    h = sha256(f"{FORMAT}|{data_key}|{settings.snap_limit_km}|{settings.join_gap_km}|"
               f"{settings.min_city_population}".encode())
    h.update(Path(layer.path).read_bytes())
    h.update(_code_hash().encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _code_hash() -> str:
    root = Path(__file__).resolve().parent.parent
    h = sha256()
    for path in sorted(p for pattern in CODE for p in root.glob(pattern)):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def read(layer: Layer, key: str) -> CachedLayer | None:
    """The cached result of ``layer`` for ``key``, or None (absent, stale or corrupt: rebuild it)."""
    path = cache_path(layer)
    remembered = _memory.get(str(path))
    if remembered is not None and remembered[:2] == (key, _stamp(path)):
        return remembered[2]
    got = cachefile.read_arrays(path, FORMAT, key)
    if got is None:
        return None
    arrays, meta = got
    try:
        frame = frame_from_arrays(arrays)
        date = meta.get("data_date")
        hit = CachedLayer(frame, str(meta["source"]), str(meta["detail"]), tuple(map(str, meta["warnings"])),
                          None if date is None else str(date))
    except (KeyError, ValueError, TypeError, shapely.errors.ShapelyError):
        path.unlink(missing_ok=True)
        return None
    _memory[str(path)] = (key, _stamp(path), hit)
    return hit


def write(layer: Layer, key: str, frame: gpd.GeoDataFrame, source: str, detail: str, warnings: list[str],
          data_date: str | None = None) -> None:
    """Cache a built layer (atomically; a read-only cache folder is skipped)."""
    meta = {"layer": layer.id, "source": source, "detail": detail, "warnings": list(warnings), "data_date": data_date}
    path = cachefile.write_arrays(cache_path(layer), FORMAT, key, frame_to_arrays(frame), meta)
    if path is not None:
        _memory[str(path)] = (key, _stamp(path), CachedLayer(frame.copy(), source, detail, tuple(warnings), data_date))


def _stamp(path: Path) -> tuple[int, int]:
    """(size, mtime) of a file, (-1, -1) when it is gone: a file changed since it was read is read again."""
    try:
        st = path.stat()
    except OSError:
        return -1, -1
    return st.st_size, st.st_mtime_ns


def frame_to_arrays(frame: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """A feature frame as arrays: geometries as WKB, the other columns as JSON with their dtypes."""
    wkb = shapely.to_wkb(np.asarray(frame.geometry.values), output_dimension=2)
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    columns = [c for c in frame.columns if c != frame.geometry.name]
    table = {"columns": columns, "dtypes": [str(frame[c].dtype) for c in columns],
             "data": [frame[c].tolist() for c in columns], "geometry": frame.geometry.name,
             "order": list(frame.columns)}
    return {
        "wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
        "wkb_ends": np.cumsum(sizes),
        "table": np.frombuffer(json.dumps(table, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
    }


def frame_from_arrays(arrays: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    """Inverse of :func:`frame_to_arrays`."""
    table = json.loads(arrays["table"].tobytes().decode("utf-8"))
    blob = arrays["wkb"].tobytes()
    ends = arrays["wkb_ends"].tolist()
    starts = [0, *ends[:-1]]
    geoms = shapely.from_wkb([blob[a:b] for a, b in zip(starts, ends)])
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in zip(table["columns"], table["data"])})
    frame = frame.astype(dict(zip(table["columns"], table["dtypes"])))
    frame[table["geometry"]] = geoms
    return gpd.GeoDataFrame(frame[table["order"]], geometry=table["geometry"], crs=4326)
