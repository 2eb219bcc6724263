"""The bundled OSM place table: its format (file name, node kinds) and its checked reader.

``corridormap snapshot --places DIR`` writes it (:mod:`geo.osm.places`); the gazetteer
(:mod:`geo.text.gazetteer`) reads it. Both rooms stand on this module, so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from ..errors import DataError
from ..reading import open_regular, read_regular

if TYPE_CHECKING:  # pandas is imported where a table is read: the cache key needs none
    import pandas as pd

#: File name of the place table inside a snapshot folder.
PLACES_FILE = "places.parquet"

#: The OSM tags that say what a node is, in order of preference, and the values kept.
KIND_TAGS = {
    "railway": ("station", "halt", "stop", "crossing"),
    "public_transport": ("station",),
    "amenity": ("ferry_terminal",),
    "harbour": ("yes",),
    "landuse": ("port", "harbour"),
    "industrial": ("port",),
    "barrier": ("border_control",),
    "place": ("city", "town", "village", "hamlet", "suburb", "locality", "isolated_dwelling"),
}


def read_places(snapshot_dir: str | Path) -> pd.DataFrame | None:
    """The place table of a snapshot folder, checked against its manifest, or None when it has none.

    Raises
    ------
    DataError
        When the manifest is unreadable, or the file missing, corrupt (its checksum differs) or unreadable.
    """
    folder = Path(snapshot_dir)
    entry = _manifest_places(folder)
    if not entry:
        return None
    path = folder / PLACES_FILE
    rebuild = "rebuild it with `corridormap snapshot --bundled ... --places DIR`"
    if not path.is_file() or path.is_symlink() or _sha256(path) != entry.get("sha256"):
        raise DataError(f"snapshot place table {path} is missing or corrupt (checksum differs from manifest.json): "
                        f"{rebuild}")
    try:
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises many kinds for a broken file
        raise DataError(f"cannot read {path} ({exc}): {rebuild}") from None


def _manifest_places(folder: Path) -> dict[str, Any]:
    """The ``places`` entry of a snapshot manifest ({} when there is none or no manifest)."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    data = read_regular(path, settings.max_manifest_bytes, "snapshot manifest", DataError)
    try:
        entry = json.loads(data.decode("utf-8")).get("places") or {}
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise DataError(f"{path} is unreadable or corrupt ({exc}): rebuild it with `corridormap snapshot`") from None
    return entry if isinstance(entry, dict) else {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, "snapshot file", DataError) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_places_sha() -> str:
    """The SHA-256 of the bundled snapshot's place table from its manifest ("" when there is none)."""
    folder = settings.bundled_snapshot_dir
    return "" if folder is None else str(_manifest_places(Path(folder)).get("sha256", ""))


def read_bundled_places() -> pd.DataFrame | None:
    """The bundled snapshot's place table, or None when it is switched off or has none."""
    folder = settings.bundled_snapshot_dir
    return None if folder is None else read_places(folder)
