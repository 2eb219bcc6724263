"""Named OSM place nodes (stations, halts, ports, crossings, settlements) for the gazetteer.

``corridormap snapshot --places DIR`` reads the GeoJSON point files of a local OSM extract
(``*.geojson`` under each ``DIR``: features with ``osm_id``, a ``railway``/``place``/
``amenity``/... kind and name tags) and writes them into the snapshot as one columnar
Parquet table, ``places.parquet``: ``osm_id``, ``kind``, ``lon``, ``lat`` (5 decimals),
``country`` (ISO 3166-1 alpha-2 of the Natural Earth country the node lies in, else the
nearest) and one text column per name tag found (``name``, ``name:en``, ``int_name``,
``official_name``, ``old_name``, ``alt_name``, ``name:ru``, ...). The manifest's ``places``
entry records its checksum, row count, columns, sources and OSM data date.

:func:`geo.core.place_table.read_bundled_places` gives the table of the bundled snapshot to
:mod:`geo.text.gazetteer`, which indexes every name tag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from ..core.place_table import KIND_TAGS
from ..errors import DataError
from ..reading import read_regular

if TYPE_CHECKING:  # pandas and numpy are imported where a table is read or written: the cache key needs neither
    import numpy as np
    import pandas as pd

#: A name tag: ``name``, ``name:xx``, ``int_name``, ``official_name``, ``old_name``, ``alt_name``, ``short_name``...
_NAME_TAG = re.compile(r"^(?:name(?::[a-z]{2,3}(?:-[A-Za-z]+)?)?|(?:int|official|old|alt|short|loc|reg|nat)_name(?::[a-z]{2,3})?)$")


def node_kind(props: dict[str, Any]) -> str | None:
    """The kind of a node from its tags (``"railway=station"``), or None when it is none of :data:`KIND_TAGS`."""
    for tag, values in KIND_TAGS.items():
        value = props.get(tag)
        if value in values:
            return f"{tag}={value}"
    return None


def read_place_nodes(dirs: Iterable[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """Read the named place nodes of the ``*.geojson`` files under ``dirs`` into one table.

    Parameters
    ----------
    dirs : iterable of path
        Folders holding GeoJSON FeatureCollections of OSM nodes.

    Returns
    -------
    (DataFrame, list of str)
        The table (see the module doc; one row per distinct node, sorted by ``osm_id``) and
        the files read.

    Raises
    ------
    DataError
        When a folder has no GeoJSON file, or a file is not a FeatureCollection.
    """
    import pandas as pd

    rows: dict[int, dict[str, Any]] = {}
    read: list[str] = []
    for folder in dirs:
        found = sorted(Path(folder).glob("*.geojson"))
        if not found:
            raise DataError(f"{folder}: no *.geojson files of OSM place nodes: give the folder that holds them")
        for path in found:
            raw = read_regular(path, settings.max_places_source_bytes, "OSM place file", DataError,
                               "split it into smaller files")
            try:
                features = json.loads(raw.decode("utf-8"))["features"]
            except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{path} is not a GeoJSON FeatureCollection ({exc}): fix or remove it") from None
            read.append(str(path))
            for f in features:
                props, geom = f.get("properties") or {}, f.get("geometry") or {}
                kind = node_kind(props)
                osm_id = props.get("osm_id", f.get("id"))
                if kind is None or geom.get("type") != "Point" or not isinstance(osm_id, int) or not props.get("name"):
                    continue
                lon, lat = geom["coordinates"][:2]
                row = {"osm_id": osm_id, "kind": kind, "lon": round(float(lon), 5), "lat": round(float(lat), 5)}
                row.update({k: str(v) for k, v in props.items() if _NAME_TAG.match(k) and v})
                rows[osm_id] = row
    frame = pd.DataFrame(sorted(rows.values(), key=lambda r: r["osm_id"]))
    if frame.empty:
        raise DataError("the OSM place files hold no named station, port, crossing or settlement node")
    names = sorted((c for c in frame.columns if _NAME_TAG.match(c)), key=lambda c: (c != "name", c))
    frame["country"] = node_countries(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    frame = frame[["osm_id", "kind", "lon", "lat", "country", *names]]
    for c in ["kind", "country", *names]:
        frame[c] = frame[c].astype("string")
    return frame.reset_index(drop=True), read


def node_countries(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """ISO alpha-2 of the Natural Earth country each point lies in, else of the nearest one (ports, ferries)."""
    import warnings

    import geopandas as gpd
    import numpy as np

    from ..naturalearth import countries

    shapes = countries()[["iso2", "geometry"]]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    out = np.full(len(pts), "", dtype=object)
    inside = gpd.sjoin(pts, shapes, how="inner", predicate="within")
    inside = inside[~inside.index.duplicated(keep="first")]
    out[inside.index.to_numpy()] = inside["iso2"].to_numpy()
    rest = np.flatnonzero(out == "")
    if len(rest):
        with warnings.catch_warnings():  # degrees are fine to pick the nearest coast
            warnings.simplefilter("ignore", UserWarning)
            near = gpd.sjoin_nearest(pts.iloc[rest], shapes, how="left")
        near = near[~near.index.duplicated(keep="first")]
        out[near.index.to_numpy()] = near["iso2"].fillna("").to_numpy()
    return np.where(np.isin(out, ("-99", "-1")), "", out)


def write_places(path: Path, frame: pd.DataFrame) -> Path:
    """Write the place table as Parquet (zstd), the compact columnar form the gazetteer reads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd",
                   compression_level=19)
    return path
