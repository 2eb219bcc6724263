"""The atlas job: geoparsed archive parts -> aggregates per place, segment and month -> map and tables.

Reading and writing happen here; the aggregation (:mod:`geo.archive.aggregate`) and the
drawing (:mod:`geo.archive.atlas_map`) are functions of data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from .. import files as output
from .. import settings
from ..core.layers import list_layers, load_layer
from ..maps.page import render_html
from . import aggregate
from . import atlas_map as drawing
from .parse import read_toponyms


@dataclass
class Atlas:
    """The atlas of an archive: aggregates as (Geo)DataFrames, the map, and the files written."""

    places: gpd.GeoDataFrame  # one row per place: mentions, documents, dates, headlines, point
    place_months: gpd.GeoDataFrame  # one row per place and month (dated documents only)
    segments: gpd.GeoDataFrame  # one row per corridor segment: mentions of places within reach, line
    segment_months: pd.DataFrame  # mentions per layer, segment and month
    corridor_places: pd.DataFrame  # which place is within reach of which layer and segment
    map: folium.Map
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def atlas(
    parts: str | Path | Iterable[str | Path] | gpd.GeoDataFrame,
    out_dir: str | Path | None = None,
    *,
    layer_ids: list[str] | None = None,
    osm_dir: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    within_km: float | None = None,
    tiles: str | None = None,
    title: str = "Places in the news along the corridors",
) -> Atlas:
    """Aggregate a geoparsed archive per place, corridor segment and month, and draw its atlas.

    Parameters
    ----------
    parts : path, list of paths or GeoDataFrame
        The folder written by :func:`geo.archive.parse.geoparse_archive` (or its toponym parts),
        or their rows as read by :func:`geo.archive.parse.read_toponyms`.
    out_dir : path, optional
        Where to write ``atlas.html`` and the aggregates as CSV and (Geo)Parquet; nothing is
        written without it.
    layer_ids : list of str, optional
        Default: every layer in ``layers/``.
    osm_dir, snapshot_dir :
        Route the corridors over local OSM data; by default they come from the cache of earlier
        fetches or are drawn schematically (the atlas never goes online).
    within_km : float, optional
        A place counts for a corridor within this distance (default ``settings.atlas_corridor_km``).

    Returns
    -------
    Atlas
    """
    from ..corridors.build import build_layers
    from ..osm.source import data_source

    within_km = settings.atlas_corridor_km if within_km is None else float(within_km)
    toponyms = parts if isinstance(parts, gpd.GeoDataFrame) else read_toponyms(parts)
    layers = [load_layer(i) for i in layer_ids] if layer_ids else list_layers()
    folder = output.prepare_dir(out_dir) if out_dir is not None else None
    results = build_layers(layers, data_source(osm_dir, snapshot_dir, offline=True))
    places = aggregate.place_totals(toponyms, top=settings.atlas_top_headlines)
    months = aggregate.place_months(toponyms)
    links = aggregate.corridor_places(places, results, within_km)
    segments = aggregate.segment_totals(places, links, results)
    seg_months = aggregate.segment_months(months, links)
    docs = toponyms["id"].nunique()
    subtitle = f"{len(places):,} places named {int(places['mentions'].sum()):,} times in {docs:,} documents"
    fmap = drawing.atlas_map(places, months, segments, links, results, title=title, subtitle=subtitle, tiles=tiles,
                             within_km=within_km)
    result = Atlas(places, months, segments, seg_months, links, fmap,
                   warnings=[w for r in results for w in r.warnings])
    if folder is not None:
        result.files = write_atlas(folder, result)
    return result


def write_atlas(folder: Path, result: Atlas) -> list[Path]:
    """Write ``atlas.html`` and each aggregate as ``NAME.csv`` and ``NAME.parquet``."""
    written = [output.write_text(folder / "atlas.html", render_html(result.map))]
    tables = {"places": result.places, "place_months": result.place_months, "segments": result.segments,
              "segment_months": result.segment_months, "corridor_places": result.corridor_places}
    for name, frame in tables.items():
        written.append(output.write_parquet(folder / f"{name}.parquet", frame))
        written.append(output.write_text(folder / f"{name}.csv", csv_table(frame).to_csv(index=False)))
    return written


def csv_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for CSV: points as ``lat``/``lon``, lines dropped (they are in the Parquet file), lists joined by " | "."""
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if isinstance(frame, gpd.GeoDataFrame) and len(frame) and (frame.geom_type == "Point").all():
        out["lat"], out["lon"] = frame.geometry.y.round(5), frame.geometry.x.round(5)
    for column in out.columns:
        if out[column].map(lambda v: isinstance(v, list)).any():
            out[column] = out[column].map(lambda v: " | ".join(map(str, v)) if isinstance(v, list) else v)
    return out
