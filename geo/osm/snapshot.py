"""Snapshots: a folder holding each layer's OSM data, so maps can be rebuilt offline, identically.

Layout of a snapshot folder::

    manifest.json      format, attribution, OSM data timestamps, fetch dates and
                       when live data expires (``settings.cache_max_age_days``),
                       the queries behind each layer, and a SHA-256 per file
    <layer id>.gpkg    GeoPackage with two tables, ``lines`` and ``points``

A snapshot is written to a temporary sibling folder and moved into place
when complete, so a half-written snapshot is never read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import files, settings
from ..errors import DataError, OutputError
from ..reading import open_regular, read_regular
from .provenance import DataDate, Provenance
from .schema import COLUMNS, normalise

# pandas and geopandas are imported by the readers and writers: the manifest and the files' checksums
# (a data source's fingerprint) need neither.
if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

FORMAT = "corridormap-snapshot/1"
MANIFEST = "manifest.json"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
LICENSE = "Open Database License (ODbL) 1.0, https://opendatacommons.org/licenses/odbl/1-0/"
TABLES = ("lines", "points")
_TEXT_COLUMNS = [c for c in COLUMNS if c not in ("osm_id", "geometry")]

#: A layer's data as a snapshot holds it: lines, points and where they came from.
LayerTuple = tuple["gpd.GeoDataFrame", "gpd.GeoDataFrame", Provenance]


def write_snapshot(
    out_dir: str | Path,
    layers_data: Mapping[str, LayerTuple],
    queries: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    places: tuple[pd.DataFrame, Mapping[str, Any]] | None = None,
) -> Path:
    """Write a snapshot folder atomically.

    Parameters
    ----------
    out_dir : path
        The snapshot folder; replaced if it exists.
    layers_data : mapping of layer id to (lines, points, provenance)
        The manifest records each layer's source, detail, data date and fetch day from its provenance.
    queries : mapping
        What produced each layer (Overpass queries, selectors), stored in the manifest.
    extra : mapping, optional
        More top-level manifest entries (e.g. how the data was reduced, layers left out).
    places : (DataFrame, mapping), optional
        Named OSM place nodes (:mod:`geo.osm.places`) and what to record of them in the
        manifest's ``places`` entry (sources, data date); written as ``places.parquet``.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    OutputError
        When the folder cannot be written.
    """
    out_dir = check_out_dir(out_dir)
    with files.staged_dir(out_dir, keep_others=False) as tmp:
        entries = {}
        for layer_id in sorted(layers_data):
            lines, points, provenance = layers_data[layer_id]
            name = f"{layer_id}.gpkg"
            write_layer_file(tmp / name, lines, points)
            entries[layer_id] = {
                "file": name,
                "sha256": file_sha256(tmp / name),
                "source": provenance.source,
                "detail": provenance.detail,
                "osm_timestamp": provenance.data_date.text if provenance.data_date else None,
                "fetched": provenance.fetched.isoformat() if provenance.fetched else None,
                "expires": _expires(provenance.fetched),
                "lines": int(len(lines)),
                "points": int(len(points)),
            }
        places_entry = None
        if places is not None:
            from ..core.place_table import PLACES_FILE
            from .places import write_places

            frame, about = places
            write_places(tmp / PLACES_FILE, frame)
            places_entry = {**dict(about), "file": PLACES_FILE, "sha256": file_sha256(tmp / PLACES_FILE),
                            "rows": int(len(frame)), "columns": [str(c) for c in frame.columns],
                            "bytes": (tmp / PLACES_FILE).stat().st_size}
        stamps = [e["osm_timestamp"] for e in entries.values() if e["osm_timestamp"]]
        manifest = {
            "format": FORMAT,
            "attribution": ATTRIBUTION,
            "license": LICENSE,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "osm_timestamp": min(stamps) if stamps else None,
            "layers": entries,
            "queries": dict(queries),
            **dict(extra or {}),
        }
        if places_entry is not None:
            manifest["places"] = places_entry
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
        files.write_bytes(tmp / MANIFEST, text.encode("utf-8"))
    return out_dir


def check_out_dir(out_dir: str | Path) -> Path:
    """Check that a snapshot may be written to ``out_dir``: :func:`geo.files.check_output_dir`, and
    the folder new, empty, or a snapshot it replaces (raises :class:`OutputError`)."""
    out_dir = files.check_output_dir(out_dir)
    if out_dir.is_dir() and not (out_dir / MANIFEST).is_file() and any(out_dir.iterdir()):
        raise OutputError(f"{out_dir} exists and is not a snapshot: give an empty or new folder to --out")
    return out_dir


def read_layer(snapshot_dir: str | Path, layer_id: str) -> LayerTuple:
    """One layer's ``(lines, points, provenance)`` from a snapshot folder (source ``"snapshot"``).

    Raises
    ------
    DataError
        When the folder is not a snapshot, lacks the layer, or a file is
        missing or corrupt (its checksum differs from the manifest's); the
        message says how to rebuild it.
    """
    import pyogrio  # GDAL: loaded only when a layer is read from the snapshot

    folder = Path(snapshot_dir)
    path = layer_file(folder, layer_id)
    entry = read_manifest(folder)["layers"][layer_id]
    rebuild = f"rebuild it with `corridormap snapshot --out {folder}`"
    if file_sha256(path) != entry.get("sha256"):
        raise DataError(f"snapshot file {path} is corrupt (checksum differs from manifest.json): {rebuild}")
    try:
        lines, points = (_typed(pyogrio.read_dataframe(path, layer=t)) for t in TABLES)
    except Exception as exc:  # GDAL raises many kinds for a broken file
        raise DataError(f"cannot read snapshot file {path} ({exc}): {rebuild}") from None
    return lines, points, Provenance("snapshot", str(entry.get("detail", "")), _date(entry.get("osm_timestamp")),
                                     _day(entry.get("fetched")))


def layer_file(snapshot_dir: str | Path, layer_id: str) -> Path:
    """The data file of one layer in a snapshot folder, checked to exist (not its checksum).

    Raises
    ------
    DataError
        When the folder is not a snapshot, lacks the layer or its file.
    """
    folder = Path(snapshot_dir)
    manifest = read_manifest(folder)
    entry = manifest["layers"].get(layer_id)
    rebuild = f"rebuild it with `corridormap snapshot --out {folder}`"
    if entry is None:
        known = ", ".join(sorted(manifest["layers"])) or "none"
        raise DataError(f"snapshot {folder} has no layer {layer_id!r} (it holds: {known}): {rebuild} including that layer")
    path = folder / entry["file"]
    if not path.is_file() or path.is_symlink():
        raise DataError(f"snapshot {folder} is missing {path.name} for layer {layer_id!r} (or it is not a plain "
                        f"file): {rebuild}")
    return path


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,200}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read_manifest(snapshot_dir: str | Path) -> dict[str, Any]:
    """The manifest of a snapshot folder, checked.

    Every layer entry must name a plain file inside the snapshot (no folders, no
    ``..``, no absolute paths) and carry its SHA-256.

    Raises
    ------
    DataError
        Naming the manifest and the key at fault.
    """
    folder = Path(snapshot_dir)
    path = folder / MANIFEST
    make = f"make one with `corridormap snapshot --out {folder}`"
    if not folder.is_dir() or not path.exists():
        raise DataError(f"{folder} is not a corridormap snapshot (no {MANIFEST}): {make}")
    data = read_regular(path, settings.max_manifest_bytes, "snapshot manifest", DataError)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is unreadable or corrupt ({exc}): {make}") from None
    except RecursionError:
        raise DataError(f"{path} is nested too deeply to be a manifest: {make}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("layers"), dict):
        raise DataError(f"{path} is not a {FORMAT} manifest: {make}")
    for layer_id, entry in manifest["layers"].items():
        if not isinstance(entry, dict):
            raise DataError(f"{path}: layers.{layer_id} must be an object with 'file' and 'sha256': {make}")
        name = entry.get("file")
        if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or name in (".", ".."):
            raise DataError(f"{path}: layers.{layer_id}.file is {str(name)[:80]!r}: it must name a plain file "
                            f"inside the snapshot folder (no folders, '..' or absolute paths): {make}")
        if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
            raise DataError(f"{path}: layers.{layer_id}.sha256 is not a SHA-256 checksum: {make}")
    return manifest


# --------------------------------------------------------------------------- files


def write_layer_file(path: Path, lines: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> Path:
    """Write lines and points as the ``lines`` and ``points`` tables of one GeoPackage."""
    import pyogrio

    for i, (table, frame) in enumerate(zip(TABLES, (lines, points))):
        frame = _typed(frame)
        pyogrio.write_dataframe(
            frame, path, layer=table, driver="GPKG", append=i > 0,
            geometry_type="Unknown", promote_to_multi=False,
        )
    return path


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a regular file, read in blocks.

    Raises
    ------
    DataError
        When ``path`` is not a regular file (a FIFO or device would never end).
    """
    digest = sha256()
    with open_regular(path, "snapshot file", DataError) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _typed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """:data:`geo.COLUMNS` with stable types: ``osm_id`` Int64 (or text), the rest text."""
    import pandas as pd

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


def _expires(fetched: date | None) -> str | None:
    """When live data fetched on ``fetched`` stops being fresh (``settings.cache_max_age_days``), or None."""
    if fetched is None:
        return None
    return (fetched + timedelta(days=settings.cache_max_age_days)).isoformat()


def _date(value: Any) -> DataDate | None:
    """A manifest's ``osm_timestamp``, or None when it has none or an unreadable one."""
    try:
        return DataDate.parse(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    """A manifest's ``fetched`` day, or None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
