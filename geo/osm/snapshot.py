"""Snapshots: a folder holding each layer's OSM data, so maps can be rebuilt offline, identically.

Layout of a snapshot folder::

    manifest.json      format, attribution, OSM data timestamps, fetch dates,
                       the queries behind each layer, and a SHA-256 per file
    <layer id>.gpkg    GeoPackage with two tables, ``lines`` and ``points``

A snapshot is written to a temporary sibling folder and moved into place
when complete, so a half-written snapshot is never read.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import pandas as pd
import pyogrio

from .. import files
from ..errors import DataError, OutputError
from .fetch import osm_timestamp
from .schema import COLUMNS, normalise

FORMAT = "corridormap-snapshot/1"
MANIFEST = "manifest.json"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
TABLES = ("lines", "points")
_TEXT_COLUMNS = [c for c in COLUMNS if c not in ("osm_id", "geometry")]
_FETCHED = re.compile(r"fetched (\d{4}-\d{2}-\d{2})")

LayerTuple = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str, str]


def write_snapshot(out_dir: str | Path, layers_data: Mapping[str, LayerTuple], queries: Mapping[str, Any]) -> Path:
    """Write a snapshot folder atomically.

    Parameters
    ----------
    out_dir : path
        The snapshot folder; replaced if it exists.
    layers_data : mapping of layer id to (lines, points, source, detail)
    queries : mapping
        What produced each layer (Overpass queries, selectors), stored in the manifest.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    OutputError
        When the folder cannot be written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not (out_dir / MANIFEST).is_file() and any(out_dir.iterdir()):
        raise OutputError(f"{out_dir} exists and is not a snapshot: give an empty or new folder to --out")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    except OSError as exc:
        raise OutputError(f"cannot create snapshot folder {out_dir}: {exc}") from None
    try:
        entries = {}
        for layer_id in sorted(layers_data):
            lines, points, source, detail = layers_data[layer_id]
            name = f"{layer_id}.gpkg"
            write_layer_file(tmp / name, lines, points)
            entries[layer_id] = {
                "file": name,
                "sha256": file_sha256(tmp / name),
                "source": source,
                "detail": detail,
                "osm_timestamp": osm_timestamp(detail),
                "fetched": _fetched(detail),
                "lines": int(len(lines)),
                "points": int(len(points)),
            }
        stamps = [e["osm_timestamp"] for e in entries.values() if e["osm_timestamp"]]
        manifest = {
            "format": FORMAT,
            "attribution": ATTRIBUTION,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "osm_timestamp": min(stamps) if stamps else None,
            "layers": entries,
            "queries": dict(queries),
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
        files.write_bytes(tmp / MANIFEST, text.encode("utf-8"))
        return files.replace_dir(tmp, out_dir)
    except OSError as exc:
        raise OutputError(f"cannot write snapshot {out_dir}: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_layer(snapshot_dir: str | Path, layer_id: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """One layer's ``(lines, points, detail)`` from a snapshot folder.

    Raises
    ------
    DataError
        When the folder is not a snapshot, lacks the layer, or a file is
        missing or corrupt (its checksum differs from the manifest's); the
        message says how to rebuild it.
    """
    folder = Path(snapshot_dir)
    manifest = read_manifest(folder)
    entry = manifest["layers"].get(layer_id)
    rebuild = f"rebuild it with `corridormap snapshot --out {folder}`"
    if not isinstance(entry, dict):
        known = ", ".join(sorted(manifest["layers"])) or "none"
        raise DataError(f"snapshot {folder} has no layer {layer_id!r} (it holds: {known}): {rebuild} including that layer")
    path = folder / str(entry.get("file", ""))
    if not path.is_file():
        raise DataError(f"snapshot {folder} is missing {path.name} for layer {layer_id!r}: {rebuild}")
    if file_sha256(path) != entry.get("sha256"):
        raise DataError(f"snapshot file {path} is corrupt (checksum differs from manifest.json): {rebuild}")
    try:
        lines, points = (_typed(pyogrio.read_dataframe(path, layer=t)) for t in TABLES)
    except Exception as exc:  # GDAL raises many kinds for a broken file
        raise DataError(f"cannot read snapshot file {path} ({exc}): {rebuild}") from None
    return lines, points, str(entry.get("detail", ""))


def read_manifest(snapshot_dir: str | Path) -> dict[str, Any]:
    """The manifest of a snapshot folder, checked.

    Raises
    ------
    DataError
    """
    folder = Path(snapshot_dir)
    path = folder / MANIFEST
    make = f"make one with `corridormap snapshot --out {folder}`"
    if not path.is_file():
        raise DataError(f"{folder} is not a corridormap snapshot (no {MANIFEST}): {make}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is unreadable or corrupt ({exc}): {make}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("layers"), dict):
        raise DataError(f"{path} is not a {FORMAT} manifest: {make}")
    return manifest


# --------------------------------------------------------------------------- files


def write_layer_file(path: Path, lines: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> Path:
    """Write lines and points as the ``lines`` and ``points`` tables of one GeoPackage."""
    for i, (table, frame) in enumerate(zip(TABLES, (lines, points))):
        frame = _typed(frame)
        pyogrio.write_dataframe(
            frame, path, layer=table, driver="GPKG", append=i > 0,
            geometry_type="Unknown", promote_to_multi=False,
        )
    return path


def file_sha256(path: Path) -> str:
    digest = sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _typed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """:data:`geo.COLUMNS` with stable types: ``osm_id`` Int64 (or text), the rest text."""
    frame = normalise(frame)
    ids = pd.to_numeric(frame["osm_id"], errors="coerce")
    numeric = ids.notna() | frame["osm_id"].isna()
    if numeric.all():
        frame["osm_id"] = ids.astype("Int64")
    else:
        frame["osm_id"] = frame["osm_id"].astype(object).where(frame["osm_id"].notna(), None).map(
            lambda v: None if v is None else str(v)
        )
    for col in _TEXT_COLUMNS:
        values = frame[col].astype(object)
        frame[col] = values.where(pd.notna(values), None).map(lambda v: None if v is None else str(v)).astype(object)
    return frame.reset_index(drop=True)


def _fetched(detail: str) -> str | None:
    match = _FETCHED.search(detail or "")
    return match.group(1) if match else None
